"""The viewer's time zone: from ``?tz=`` or the cookie the page's script sets; UTC otherwise."""

from __future__ import annotations

from functools import cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

from dashboard.params import TIMEZONE

UTC = ZoneInfo("UTC")


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
