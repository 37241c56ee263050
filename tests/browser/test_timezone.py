"""The viewer's zone, end to end: the page's script stores it in a cookie, the server uses it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.browser


def test_times_are_shown_in_the_browsers_time_zone(browser, live_server, data):
    User.objects.create_superuser("admin", password="admin-password")
    context = browser.new_context(timezone_id="America/New_York")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/activity/")
        page.reload()  # the first page set the cookie; this one is rendered with it
        cookie = next(c for c in context.cookies() if c["name"] == "tz")
        assert cookie["value"] == "America%2FNew_York"
        first = page.locator("table time").first
        utc = datetime.fromisoformat(first.get_attribute("datetime"))
        shown = utc.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
        assert first.inner_text() == shown
    finally:
        context.close()
