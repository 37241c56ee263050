"""The viewer's zone, end to end: the page's script stores it in a cookie, the server uses it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.browser


def shown_in(page, zone: str) -> bool:
    first = page.locator("table time").first
    utc = datetime.fromisoformat(first.get_attribute("datetime"))
    local = utc.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    return first.inner_text() == f"{local} {zone}"


def test_the_first_page_is_shown_in_the_browsers_zone_and_a_picked_zone_stays(
    browser, live_server, data
):
    User.objects.create_superuser("admin", password="admin-password")
    context = browser.new_context(timezone_id="America/New_York")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/activity/")
        # No reload needed: the login page already stored the zone.
        assert next(c for c in context.cookies() if c["name"] == "tz")["value"] == (
            "America%2FNew_York"
        )
        assert shown_in(page, "America/New_York")

        # A stale cookie (the laptop travelled): the page reloads itself once before showing.
        context.add_cookies([{"name": "tz", "value": "UTC", "url": live_server.url}])
        page.goto(f"{live_server.url}/activity/?vendor=velt")
        page.wait_for_load_state()
        assert shown_in(page, "America/New_York")

        # A zone picked in the top bar wins over the browser's, and the page stays put.
        page.select_option("#zone-picker", "Asia/Tokyo")
        page.wait_for_selector("html[data-tz-chosen]")
        assert page.url.endswith("/activity/?vendor=velt")
        assert shown_in(page, "Asia/Tokyo")
        page.reload()
        assert shown_in(page, "Asia/Tokyo")
    finally:
        context.close()
