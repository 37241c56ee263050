"""``{{ value|timestamp }}``: the one way a page shows a moment in time.

The viewer's local time with its zone next to it ("2026-12-01 14:02:03 Europe/Paris"), and the
full UTC instant in ``datetime`` and on hover. A filter rather than an include: an include per
row costs a template lookup and a new context each time, most of a 50-row page's rendering.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def timestamp(at: datetime | None) -> str:
    if at is None:
        return ""
    utc = at.astimezone(UTC)
    local = timezone.localtime(at)
    return format_html(
        '<time datetime="{}" title="{}Z (UTC)">{} <span class="zone">{}</span></time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        local.strftime("%Y-%m-%d %H:%M:%S"),
        timezone.get_current_timezone_name(),
    )
