"""The viewer's time zone: from ``?tz=``, the ``tz`` cookie, or UTC.

``static/js/timezone.js`` stores the browser's zone in the cookie before the first page is
drawn; a zone the viewer picks in the top bar is stored there too, with a
second cookie that tells the script to leave it alone (``remember_zone``).
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

from dashboard.params import TIMEZONE

UTC = ZoneInfo("UTC")
# Set when the viewer picked the zone: the page's script then keeps it.
CHOSEN = "tz_chosen"
COOKIE_AGE = 365 * 24 * 3600
# What the top bar offers, with the viewer's own zone added when it is not here.
COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (URL-encoded or not, as the page's script stores it in its
    cookie: ``America%2FNew_York``); UTC for anything that is not a known zone."""
    name = unquote(name or "").strip()
    return ZoneInfo(name) if name in _known_zones() else UTC


def viewer_timezone(request) -> ZoneInfo:
    return zone_named(request.GET.get(TIMEZONE) or request.COOKIES.get(TIMEZONE))


def zone_choices(current: str) -> list[str]:
    return sorted({*COMMON_ZONES, current}, key=lambda zone: (zone != "UTC", zone))


def viewer_zone(request) -> dict:
    """Template context: the viewer's zone, whether they picked it, and what they can pick."""
    zone = getattr(request, "viewer_tz", UTC).key
    return {
        "viewer_tz": zone,
        "tz_chosen": request.COOKIES.get(CHOSEN) == "1" or TIMEZONE in request.GET,
        "zone_choices": zone_choices(zone),
    }


def remember_zone(response, name: str) -> None:
    """Store the zone picked in the top bar on ``response``, or, for an empty ``name``, forget
    it so that the page's script stores the browser's zone again."""
    if name:
        response.set_cookie(TIMEZONE, quote(name, safe=""), max_age=COOKIE_AGE, samesite="Lax")
        response.set_cookie(CHOSEN, "1", max_age=COOKIE_AGE, samesite="Lax")
    else:
        response.delete_cookie(TIMEZONE, samesite="Lax")
        response.delete_cookie(CHOSEN, samesite="Lax")


def is_zone(name: str) -> bool:
    return name in _known_zones()


class ViewerTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.viewer_tz = viewer_timezone(request)
        timezone.activate(request.viewer_tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
