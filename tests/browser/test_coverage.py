"""The coverage page in a browser: the calendar draws, the gap is listed and staff can queue
its re-read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activity.coverage import floor_hour
from activity.models import CoveredWindow
from tests.browser.test_every_page import LAPTOP, PHONE

pytestmark = pytest.mark.browser
H = timedelta(hours=1)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_coverage_page_shows_the_gap_and_queues_its_reread(page, live_server, data, viewport):
    source = data["datafold"]
    now = floor_hour(timezone.now())
    for start, stop, rows in ((now - 20 * 24 * H, now - 50 * H, 3), (now - 44 * H, now, 0)):
        CoveredWindow.objects.create(
            source=source, stream="logs", asked_from=start, asked_to=stop, rows=rows
        )
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/sources/")
    page.click(f"a[href='/sources/{source.name}/coverage/']")
    calendar = page.locator(".calendar")
    assert calendar.is_visible()
    assert calendar.get_attribute("role") == "img"
    assert "never read" in calendar.get_attribute("aria-label")
    assert page.locator(".calendar .day").count() == 365
    width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner  # the calendar scrolls in its own box, not the page
    gap = page.locator("table.gaps tr.fetchable").first
    assert "6" in gap.locator("td[data-label=Hours]").inner_text()
    gap.get_by_role("button", name="Re-read this window").click()
    assert "Queued a re-read of" in page.locator(".message").inner_text()
    assert page.problems == []
