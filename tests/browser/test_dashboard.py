"""End to end in headless Chromium: what an admin does every day."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_filters_change_the_url_and_paging_goes_older_and_newer(page, live_server):
    page.select_option("select[name=vendor]", "velt")
    page.wait_for_url("**/activity/?*vendor=velt*")
    page.wait_for_selector("#results table.events tbody tr")
    assert page.locator("#results").count() == 1
    assert all(
        "Velt" in text
        for text in page.locator("table.events tbody tr td:nth-child(2)").all_inner_texts()
    )
    first_row = page.locator("table.events tbody tr").first.inner_text()
    page.click("a[rel=next]")
    page.wait_for_url("**cursor=*")
    assert page.locator("table.events tbody tr").first.inner_text() != first_row
    page.click("a[rel=prev]")
    page.wait_for_function(
        "text => document.querySelector('table.events tbody tr').innerText === text", arg=first_row
    )
    page.go_back()
    page.wait_for_url("**cursor=*")
    assert page.problems == []


def test_a_row_opens_its_detail_and_its_person(page, live_server):
    page.goto(f"{live_server.url}/activity/?vendor=datafold")
    page.locator("table.events tbody tr").first.get_by_text("Details").click()
    page.wait_for_url("**event=*")
    expect(page.locator("#panel")).to_contain_text("Raw record")
    page.locator("#panel").get_by_text("all their activity").click()
    page.wait_for_url("**/people/**")
    assert page.locator("table.events tbody tr").count() > 0
    # Outside the log a row's details are their own page.
    page.locator("table.events tbody tr").first.get_by_text("Details").click()
    page.wait_for_url("**/activity/*/")
    assert "Raw record" in page.content()
    assert page.problems == []


def test_charts_render_without_console_errors_and_a_bar_opens_the_log(page, live_server):
    page.goto(f"{live_server.url}/users/?period=30")
    page.wait_for_selector("#fig-per-day ~ * , .chart .main-svg")
    assert page.locator(".chart .main-svg").count() >= 4
    assert page.problems == []
    figure = json.loads(json.loads(page.locator("#fig-per-day").inner_text()))
    bars = figure["data"][0]
    day = bars["x"][-1]
    # A click on the first vendor's last bar opens that day's events of that vendor.
    bar = page.locator('[data-figure="fig-per-day"] .trace.bars').first.locator("path").last
    box = bar.bounding_box()  # plotly's drag layer takes the pointer: click where the bar is
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"**date_from={day}&date_to={day}*")
    assert "vendor=" in page.url
    assert page.locator("table.events tbody tr").count() > 0


def test_an_export_downloads_the_filtered_events(page, live_server):
    page.goto(f"{live_server.url}/activity/?vendor=domo")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="JSONL").click()
    path = download_info.value.path()
    with open(path, encoding="utf-8") as exported:
        lines = [json.loads(line) for line in exported]
    assert len(lines) == 130 and {line["vendor"] for line in lines} == {"domo"}


def test_the_sources_page_queues_a_sync(page, live_server):
    page.goto(f"{live_server.url}/sources/")
    page.locator("section.source").first.get_by_role("button", name="Sync now").click()
    page.wait_for_selector("p.message")
    assert "Queued a sync" in page.locator("p.message").inner_text()
    assert page.problems == []


def test_filtering_by_outcome_shows_the_failed_rows_marked(page, live_server):
    page.select_option("select[name=outcome]", "failure")
    page.wait_for_url("**/activity/?*outcome=failure*")
    page.wait_for_selector("#results table.events tbody tr.failed")
    rows = page.locator("#results table.events tbody tr")
    assert rows.count() > 0 and rows.count() == page.locator("tr.failed .outcome-failure").count()
    assert "failure" in page.locator(".facets").inner_text()
    assert page.problems == []


def test_a_bad_date_range_shows_its_error_by_the_field_and_clears_the_results(page, live_server):
    assert page.locator("table.events tbody tr").count() > 0
    before = page.evaluate("history.length")
    page.select_option("select[name=vendor]", "domo")
    page.wait_for_url("**vendor=domo*")
    page.wait_for_selector("#results table.events tbody tr")
    assert page.evaluate("history.length") == before + 1  # one request, one entry
    page.fill("input[name=date_from]", "2026-02-01")
    page.fill("input[name=date_to]", "2026-01-01")
    page.wait_for_selector("#error-date_to:has-text('before the start date')")
    assert page.locator("#results table.events").count() == 0
    assert page.locator("#results [role=alert]").count() == 1
    page.fill("input[name=date_to]", "2026-03-01")
    expect(page.locator("#error-date_to")).to_have_text("")
    page.wait_for_selector("#results table.events tbody tr")
