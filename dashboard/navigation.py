"""What the navigation shows on every page: the count of open alerts, read only when a page
draws the navigation (an htmx fragment does not)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from dashboard import selectors
from dashboard.permissions import VIEW_PERMISSION


def open_alerts(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(VIEW_PERMISSION):
        return {}
    return {"open_alerts": SimpleLazyObject(selectors.open_alert_count)}
