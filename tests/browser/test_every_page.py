"""Every page on a laptop and on a phone: no console errors, no sideways scrolling, the
browser's own time zone on every time, every control named, text contrast at least 4.5:1, and
the keyboard's focus visible."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from activity.models import ActivityEvent, Person, SyncRun
from tests.browser import accessibility
from tests.dashboard.alerts import make_alert

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
ZONE = "Asia/Kolkata"  # not UTC, and a half-hour offset


def pages(data) -> dict[str, str]:
    event = ActivityEvent.objects.filter(source=data["lightdash"]).order_by("-id").first()
    SyncRun.objects.create(source=data["velt"], status="succeeded", finished_at=timezone.now())
    someone = Person.objects.get(primary_email="person1@example.com")
    alert = make_alert(data["datafold"], someone, at=timezone.now(), events=3)
    make_alert(data["domo"], None, at=timezone.now(), rule="failed_signin_burst", subject="::1")
    return {
        "activity": "/activity/",
        "activity with a row open": f"/activity/?vendor=lightdash&event={event.pk}",
        "detail": f"/activity/{event.pk}/?vendor=lightdash",
        "downloads": "/downloads/",
        "users": "/users/",
        "people": "/people/",
        "people found": "/people/?q=person&kind=human",
        "person": "/people/person1@example.com/",
        "alerts": "/alerts/",
        "alert": f"/alerts/{alert.pk}/",
        "sources": "/sources/",
        "coverage": f"/sources/{data['velt'].name}/coverage/",
    }


@pytest.fixture
def visit(browser, live_server, data):
    """A logged-in browser at a viewport size, in ZONE; returns the page and its problems."""
    User.objects.create_superuser("admin", password="admin-password")
    contexts = []

    def open_at(viewport):
        context = browser.new_context(viewport=viewport, timezone_id=ZONE)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.login_problems = accessibility.problems(page)
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/activity/")
        return page

    yield open_at
    for context in contexts:
        context.close()


def titles_fit(page) -> bool:
    """Whether every chart's title lies within its chart, not cut off at its edge."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".chart")].every((chart) => {
          const title = chart.querySelector(".gtitle");
          if (!title) { return true; }
          const outer = chart.getBoundingClientRect(), box = title.getBoundingClientRect();
          return box.left >= outer.left - 1 && box.right <= outer.right + 1;
        })"""
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_every_page_fits_shows_the_browsers_zone_and_logs_no_errors(
    visit, live_server, data, viewport
):
    page = visit(viewport)
    browsers_zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert browsers_zone in {"Asia/Kolkata", "Asia/Calcutta"}  # Chromium's name for it
    for name, url in pages(data).items():
        page.goto(f"{live_server.url}{url}")
        if name == "users":
            page.wait_for_selector(".chart .main-svg")
            assert titles_fit(page)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= inner, f"{name} scrolls sideways: {width} > {inner}"
        zones = set(page.locator("time .zone").all_inner_texts())
        assert zones == {browsers_zone}, name
        assert accessibility.problems(page) == [], name
        assert page.problems == [], name
    assert page.login_problems == []


def test_the_keyboards_focus_is_visible(visit, live_server):
    page = visit(LAPTOP)
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const e = document.activeElement, s = getComputedStyle(e);"
            " return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert outline[1] != "none" and outline[2] >= 2, outline
