"""End to end: find a person, see them across every vendor, merge a suggested twin, undo it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.people import make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def data(transactional_db):
    # Committed, so the live server's own connection sees it.
    return make_people()


def test_search_a_person_see_every_vendor_merge_a_suggestion_and_undo_it(page, live_server, data):
    page.goto(f"{live_server.url}/people/")
    expect(page.locator("#results table.people tbody tr")).to_have_count(4)
    page.get_by_label("Name, email or vendor id").fill("lovelace")
    page.get_by_label("Name, email or vendor id").press("Enter")
    expect(page).to_have_url(re.compile(r"/people/\?.*q=lovelace"))
    rows = page.locator("#results table.people tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Ada Lovelace").click()
    expect(page).to_have_url(re.compile(rf"/people/{data.ada.pk}/$"))
    identities = page.locator("table.identities tbody")
    for vendor in ("Lightdash", "Datafold", "Domo", "Velt"):
        expect(identities).to_contain_text(vendor)
    expect(page.locator('[data-figure="fig-person-per-day"] .main-svg').first).to_be_visible()

    # The two Grace Hoppers: a suggestion for staff, merged only when staff say so.
    page.goto(f"{live_server.url}/people/")
    page.get_by_label("With a suggested merge").check()
    expect(page).to_have_url(re.compile(r"suggested=on"))
    expect(page.locator("#results table.people tbody tr")).to_have_count(2)
    page.goto(f"{live_server.url}/people/{data.grace.pk}/")
    twin = data.grace_twin.pk
    suggestion = page.locator("article.suggestion").filter(has_text=f"person {twin}")
    expect(suggestion).to_contain_text("ghopper@other.example")
    expect(suggestion).to_contain_text("4 events")
    suggestion.get_by_label(f"Reason to merge person {twin} into this one").fill("same badge")
    suggestion.get_by_role("button", name=f"Merge person {twin} into this one").click()
    expect(page.locator("p.message")).to_contain_text("Merged Grace Hopper")
    expect(page.locator("table.identities tbody tr")).to_have_count(2)
    expect(page.locator("ul.decisions")).to_contain_text("same badge")

    history = page.locator("ul.decisions li").first
    history.get_by_label(re.compile("Reason to undo decision")).fill("two people after all")
    history.get_by_role("button", name="Undo").click()
    expect(page.locator("p.message")).to_contain_text("Undid the merge")
    expect(page.locator("table.identities tbody tr")).to_have_count(1)
    expect(page.locator("ul.decisions")).to_contain_text("two people after all")
    page.goto(f"{live_server.url}/people/{twin}/")
    expect(page).to_have_url(re.compile(rf"/people/{twin}/$"))  # its own person again
    assert page.problems == []
