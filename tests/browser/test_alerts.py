"""End to end: find an alert by its rule, open it, acknowledge it with a note, see it so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.dashboard.alerts import make_alert, person_named

pytestmark = pytest.mark.browser


@pytest.fixture
def data(transactional_db, make_source):
    # Committed, so the live server's own connection sees it.
    source = make_source("acme-df", vendor="datafold", params={}, secrets={"api_key": "k" * 8})
    ada = person_named("Ada Lovelace")
    now = datetime.now(UTC)
    return {
        "export": make_alert(source, ada, at=now - timedelta(hours=1), events=40),
        "signins": make_alert(
            source, None, at=now, rule="failed_signin_burst", subject="203.0.113.9"
        ),
    }


def test_filter_open_an_alert_and_acknowledge_it_with_a_note(page, live_server, data):
    page.goto(f"{live_server.url}/alerts/")
    expect(page.locator("header nav .badge")).to_have_text(re.compile(r"^2\s*open$"))
    rows = page.locator("#results table.alerts tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Rule").select_option("bulk_export")
    expect(page).to_have_url(re.compile(r"/alerts/\?.*rule=bulk_export"))
    expect(rows).to_have_count(1)
    expect(page.locator(".facets.rules")).to_contain_text("Failed sign-in burst 1")

    rows.first.get_by_role("link", name="Bulk export").click()
    expect(page).to_have_url(re.compile(rf"/alerts/{data['export'].pk}/$"))
    expect(page.locator("table.evidence-rows tbody tr")).to_have_count(40)
    expect(page.locator("#alert-state")).to_have_text("Open")
    page.get_by_label("New state").select_option("acknowledged")
    page.get_by_label(re.compile("^Note")).fill("Asked Ada: a quarterly report.")
    page.get_by_role("button", name="Save triage").click()
    expect(page.locator("p.message")).to_contain_text("Marked acknowledged.")
    expect(page.locator("#alert-state")).to_have_text("Acknowledged")
    expect(page.locator("#alert-note")).to_have_text("Asked Ada: a quarterly report.")
    expect(page.locator("header nav .badge")).to_have_text(re.compile(r"^1\s*open$"))

    # Acknowledged alerts still need attention: the list's default keeps them.
    page.goto(f"{live_server.url}/alerts/")
    expect(page.locator("#results table.alerts tbody tr")).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("Acknowledged")
    assert page.problems == []
