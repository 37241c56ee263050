"""The log in the browser: rows open in a side panel, keys move through them, back keeps filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
VIEWPORTS = pytest.mark.parametrize(
    "viewport",
    [{"width": 1440, "height": 900}, {"width": 390, "height": 844}],
    ids=["laptop", "phone"],
)


@VIEWPORTS
def test_a_row_opens_in_the_side_panel_and_escape_closes_it(page, live_server, viewport):
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/activity/?vendor=domo")
    row = page.locator("table.events tbody tr").nth(2)
    row.locator("td").nth(4).click()  # anywhere on the row, not only its link
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_contain_text("by")
    assert re.search(r"/activity/\?vendor=domo&event=\d+$", page.url)
    assert page.locator("table.events tbody tr").count() == 50  # the list stays behind it
    if viewport["width"] < 640:  # the whole screen: its close link is in reach
        panel.get_by_role("link", name=re.compile("Close")).click()
    else:
        page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.url.endswith("/activity/?vendor=domo")
    # Back from an opened row is the list again, and a pasted URL opens the same row.
    row.get_by_role("link", name=re.compile("Details")).click()
    page.wait_for_url("**event=*")
    opened = page.url
    page.go_back()
    page.wait_for_url("**/activity/?vendor=domo")
    expect(panel).to_be_hidden()
    page.goto(opened)
    expect(panel).to_be_visible()
    assert page.problems == []


def test_keys_move_the_highlighted_row_and_enter_opens_it(page, live_server):
    page.goto(f"{live_server.url}/activity/?vendor=velt")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    current = page.locator("table.events tbody tr.current")
    expect(current).to_have_count(1)
    assert current.evaluate("row => row.rowIndex") == 2  # the header row is 0
    page.keyboard.press("Enter")
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator('table.events tbody tr[aria-current="true"]')).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_hidden()
    assert page.problems == []


@VIEWPORTS
def test_the_detail_page_goes_back_to_the_filtered_log(page, live_server, viewport):
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/activity/?vendor=datafold&outcome=unknown")
    href = page.locator("a.open-detail").first.get_attribute("href")
    page.goto(f"{live_server.url}{href}")
    page.get_by_role("link", name="← Back to the log").click()
    page.wait_for_url("**/activity/?vendor=datafold&outcome=unknown")
    assert page.locator("select[name=vendor]").input_value() == "datafold"
    assert page.locator("select[name=outcome]").evaluate("s => [...s.selectedOptions].length") == 1
    assert page.problems == []
