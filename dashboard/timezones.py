"""The viewer's time zone: from ``?tz=`` or the cookie the page's script sets; UTC otherwise."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from dashboard.params import TIMEZONE


def viewer_timezone(request) -> ZoneInfo:
    name = request.GET.get(TIMEZONE) or request.COOKIES.get(TIMEZONE) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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
