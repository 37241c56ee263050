"""Every time on every page: the viewer's local time, its zone next to it, UTC on hover."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import ActivityEvent, SyncRun
from dashboard.templatetags.timestamps import timestamp
from dashboard.timezones import zone_choices

pytestmark = pytest.mark.django_db
PARIS = "Europe%2FParis"


def test_a_time_shows_its_zone_and_the_utc_instant_on_hover():
    at = datetime(2026, 12, 1, 13, 2, 3, 450000, tzinfo=UTC)
    with timezone.override("Europe/Paris"):
        html = str(timestamp(at))
    assert html == (
        '<time datetime="2026-12-01T13:02:03.450000+00:00" title="2026-12-01T13:02:03.450000Z'
        ' (UTC)">2026-12-01 14:02:03 <span class="zone">Europe/Paris</span></time>'
    )
    assert timestamp(None) == ""


def pages(data) -> list[str]:
    event = ActivityEvent.objects.filter(source=data["lightdash"]).first()
    SyncRun.objects.create(source=data["velt"], status="succeeded", finished_at=timezone.now())
    return [
        reverse("activity"),
        reverse("activity_detail", args=[event.pk]),
        reverse("downloads"),
        reverse("users"),
        reverse("person_by_key", args=["person1@example.com"]),
        reverse("sources"),
    ]


def test_every_time_on_every_page_carries_the_viewers_zone(viewer, data):
    viewer.cookies["tz"] = PARIS
    for url in pages(data):
        body = viewer.get(url, follow=True).content.decode()
        times = re.findall(r"<time [^>]*>.*?</time>", body)
        assert times, url
        assert all('<span class="zone">Europe/Paris</span>' in t for t in times), url
        assert all('title="' in t and 'Z (UTC)"' in t for t in times), url


def test_the_top_bar_offers_the_common_zones_and_the_viewers_own(viewer, data):
    viewer.cookies["tz"] = "Asia%2FKathmandu"
    body = viewer.get(reverse("sources")).content.decode()
    assert '<label for="zone-picker">Time zone</label>' in body
    assert '<option value="Asia/Kathmandu">' in body and '<option value="Europe/Paris">' in body
    # Not picked: the browser's zone is selected and the page's script may update it.
    assert "Asia/Kathmandu (browser's)" in body and "data-tz-chosen" not in body
    assert zone_choices("Europe/Paris")[0] == "UTC"


def test_a_picked_zone_is_kept_in_cookies_and_the_page_comes_back(viewer, data):
    back = reverse("activity") + "?vendor=velt"
    response = viewer.post(reverse("timezone"), {"tz": "Asia/Tokyo", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert response.cookies["tz"].value == "Asia%2FTokyo"
    assert response.cookies["tz_chosen"].value == "1"
    body = viewer.get(back).content.decode()
    assert "data-tz-chosen" in body and '<option value="Asia/Tokyo" selected>' in body
    assert '<span class="zone">Asia/Tokyo</span>' in body


def test_the_browsers_zone_again_forgets_the_picked_one(viewer, data):
    viewer.post(reverse("timezone"), {"tz": "Asia/Tokyo", "next": "/sources/"})
    response = viewer.post(reverse("timezone"), {"tz": "", "next": "/sources/"})
    assert response.cookies["tz"].value == "" and response.cookies["tz_chosen"].value == ""
    assert response.cookies["tz_chosen"]["max-age"] == 0


@pytest.mark.parametrize(
    ("form", "status", "location"),
    [
        ({"tz": "Mars/Olympus_Mons", "next": "/sources/"}, 400, None),
        ({"tz": "UTC", "next": "https://evil.test/"}, 302, "/"),
        ({"tz": "UTC", "next": "//evil.test/"}, 302, "/"),
    ],
)
def test_an_unknown_zone_or_a_foreign_next_is_refused(viewer, form, status, location):
    response = viewer.post(reverse("timezone"), form)
    assert response.status_code == status
    if location:
        assert response["Location"] == location


def test_only_a_get_page_may_reload_for_the_browsers_zone(viewer, data):
    assert "data-tz-reload" in viewer.get(reverse("sources")).content.decode()
    assert "js/timezone.js" in viewer.get(reverse("sources")).content.decode()
