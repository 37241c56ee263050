"""``{{ value|timestamp }}``: the markup of dashboard/_time.html, for long lists.

An include per row costs a template lookup and a new context each time; on a page of 50
events that was most of the rendering time.
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
    return format_html(
        '<time datetime="{}" title="{}Z (UTC)">{}</time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S"),
    )
