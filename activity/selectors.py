"""Reads over ingested events shared by the commands and the dashboard."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from activity.models import ActivityEvent


def event_list(
    *,
    source: str | None = None,
    vendor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> QuerySet[ActivityEvent]:
    """Events matching every given filter, oldest first (the export order).

    ``actor`` matches an email (case-insensitive), a vendor user id, or a display name.
    """
    events = ActivityEvent.objects.all()
    if source:
        events = events.filter(source__name=source)
    if vendor:
        events = events.filter(source__vendor=vendor)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(
            Q(actor_email=actor.lower()) | Q(actor_id=actor) | Q(actor_name=actor)
        )
    return events.order_by("occurred_at", "id")
