"""Reads over ingested events shared by the commands and the dashboard."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Min, Q, QuerySet

from activity.models import ActivityEvent
from activity.people.selectors import persons_named


def event_list(
    *,
    source: str | None = None,
    vendor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    categories: list[str] | None = None,
    outcomes: list[str] | None = None,
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
        events = events.filter(action__in=action_variants(action))
    if actor:
        events = events.filter(person_match(actor))
    if categories:
        events = events.filter(category__in=categories)
    if outcomes:
        events = events.filter(outcome__in=outcomes)
    return events.order_by("occurred_at", "id")


def known_actions() -> list[str]:
    """Every action stored, from the daily rollup by a loose index scan (one probe per
    distinct action, however many days and sources hold it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE actions(value) AS ("
            " SELECT min(action) FROM activity_dailyactivity"
            " UNION ALL SELECT (SELECT min(action) FROM activity_dailyactivity"
            " WHERE action > actions.value) FROM actions WHERE actions.value IS NOT NULL"
            ") SELECT value FROM actions WHERE value IS NOT NULL"
        )
        return [value for (value,) in cursor.fetchall()]


def action_variants(value: str) -> list[str]:
    """The stored actions that ``value`` names in any case (``logged_in`` is ``LOGGED_IN``)."""
    value = value.strip()
    folded = value.casefold()
    return [action for action in known_actions() if action.casefold() == folded] or [value]


def person_match(value: str) -> Q:
    """Events of the persons named by an email (any case), a vendor user id or a name, across
    every vendor (``activity.people``); events no person holds yet (stored before
    ``link_people``) are matched on their own columns when no person answers to it."""
    if persons := persons_named(value):
        return Q(person_id__in=persons)
    value = value.strip()
    return any_match([Q(actor_email=value.lower()), Q(actor_id=value), Q(actor_name=value)])


def any_match(conditions: list[Q], model=ActivityEvent) -> Q:
    """The OR of those ``conditions`` that match any row of ``model`` at all (all of them if
    none does).

    One equality is read in time order straight off its (column, time) index, while an OR
    makes PostgreSQL collect and sort every match; usually just one of the columns holds the
    value, and an index probe per condition finds which."""
    return any_of(existing_matches(model.objects.all(), conditions) or conditions)


def any_of(conditions: list[Q]) -> Q:
    match = Q()
    for q in conditions:
        match |= q
    return match


def existing_matches(queryset: QuerySet, conditions: list[Q]) -> list[Q]:
    """Those ``conditions`` that at least one row of ``queryset`` meets (one probe each)."""
    return [q for q in conditions if queryset.filter(q).exists()]


BUDGET_MS = 50
# A search's first window: six hours, or less where that many hours hold more rows than this
# (a few milliseconds of reading) so that a dense table still finishes one window in time.
FIRST_WINDOW = timedelta(hours=6)
FIRST_WINDOW_ROWS = 2_000


def within_budget(query, *, ms: int = BUDGET_MS, planner: dict[str, str] | None = None):
    """Run ``query()`` under a statement timeout on PostgreSQL; None if it runs out.

    ``planner`` settings (such as ``{"enable_bitmapscan": "off"}``) hold for that call only."""
    if connection.vendor != "postgresql":
        return query()
    # Parallel workers make a cancelled statement take several times its budget.
    settings = {
        "statement_timeout": str(int(ms)),
        "max_parallel_workers_per_gather": "0",
        **(planner or {}),
    }
    try:
        with transaction.atomic():
            saved = _set_local(settings)
            result = query()
            # SET LOCAL lasts until the outer transaction ends, not the savepoint.
            _set_local(saved)
            return result
    except DatabaseError:
        return None


def recent_matches_start(
    matches: QuerySet, *, time_field: str, want: int, ms: int = BUDGET_MS
) -> datetime | None:
    """Where a search of ``matches`` must start to hold ``want`` of them: None when that is
    the whole table, else the start of the newest span of time, at most ``ms`` to search.

    For filters no index serves, such as a part of a value: they are searched newest first,
    in windows of time that grow fourfold, each under the time left; the caller then bounds
    its page and its count to that span, so neither reads the whole table."""
    deadline = time.monotonic() + ms / 1000
    model = matches.model
    bounds = model.objects.aggregate(oldest=Min(time_field), newest=Max(time_field))
    if bounds["newest"] is None:
        return None
    span = FIRST_WINDOW
    rows = estimated_rows(model.objects.all())
    if rows:
        span = min(span, (bounds["newest"] - bounds["oldest"]) * FIRST_WINDOW_ROWS / rows)
    end, found = bounds["newest"], 0
    while True:
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0:
            return end
        start = end - span
        window = (
            matches.filter(**{f"{time_field}__gte": start}) if start > bounds["oldest"] else matches
        )
        if end != bounds["newest"]:
            window = window.filter(**{f"{time_field}__lt": end})
        count = within_budget(
            lambda w=window, n=want - found: w.order_by()[:n].count(), ms=remaining
        )
        if count is None:
            return end
        found += count
        if start <= bounds["oldest"]:
            return None
        if found >= want:
            return start
        end, span = start, span * 4


def _set_local(settings: dict[str, str]) -> dict[str, str]:
    """Apply ``settings`` for the current transaction; return the values they replaced."""
    names = list(settings)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        saved = dict(zip(names, cursor.fetchone(), strict=True))
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)),
            [part for name in names for part in (name, settings[name])],
        )
    return saved


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


def estimated_rows(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows ``queryset`` matches (None elsewhere): about a
    millisecond, where counting a few million rows cannot even be cancelled on time."""
    if connection.vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])
