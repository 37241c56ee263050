"""Reads over ingested events shared by the commands and the dashboard."""

from __future__ import annotations

from datetime import datetime

from django.db import DatabaseError, connection, transaction
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
        events = events.filter(person_match(actor))
    return events.order_by("occurred_at", "id")


def person_match(value: str) -> Q:
    """Events of the person named by an email (any case), a vendor user id or a display name."""
    value = value.strip()
    return any_match([Q(actor_email=value.lower()), Q(actor_id=value), Q(actor_name=value)])


def any_match(conditions: list[Q]) -> Q:
    """The OR of those ``conditions`` that match any event at all (all of them if none does).

    One equality is read in time order straight off its (column, time, id) index, while an OR
    makes PostgreSQL collect and sort every match; usually just one of the columns holds the
    value, and an index probe per condition finds which."""
    matching = [q for q in conditions if ActivityEvent.objects.filter(q).exists()] or conditions
    match = Q()
    for q in matching:
        match |= q
    return match


BUDGET_MS = 50


def within_budget(query, *, ms: int = BUDGET_MS, planner: dict[str, str] | None = None):
    """Run ``query()`` under a statement timeout on PostgreSQL; None if it runs out.

    ``planner`` settings (such as ``{"enable_bitmapscan": "off"}``) hold for that call only."""
    if connection.vendor != "postgresql":
        return query()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(ms)}")
                # Parallel workers make a cancelled statement take several times its budget.
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                for name, value in (planner or {}).items():
                    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
            return query()
    except DatabaseError:
        return None


def download_file_types() -> list[str]:
    """The distinct file types, one index probe each (a loose index scan over the
    (file_type, downloaded_at) index) instead of a DISTINCT over every download."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE types(value) AS ("
            " SELECT min(file_type) FROM activity_download"
            " UNION ALL SELECT (SELECT min(file_type) FROM activity_download"
            " WHERE file_type > types.value) FROM types WHERE types.value IS NOT NULL"
            ") SELECT value FROM types WHERE value IS NOT NULL"
        )
        return [value for (value,) in cursor.fetchall()]
