"""Reads for the activity log: its page of events, count, facets and events per day."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet

from activity.models import ActivityEvent
from activity.selectors import estimated_rows, within_budget
from dashboard import params
from dashboard.cursors import Cursor, KeysetPage, keyset_page, row_before
from dashboard.rollup_scope import FACET_COLUMNS, Facets, RollupScope, facets_of
from dashboard.selectors.common import CappedCount, capped_count

# Parts of the activity page's 100 ms; each part degrades on its own when it runs out.
SEARCH_BUDGET_MS = 60
SEARCH_FIRST_WINDOW = timedelta(hours=6)
COUNT_BUDGET_MS = 30
FACET_BUDGET_MS = 40
# Counting more rows than this does not fit the budget; the estimate says so up front.
FACET_MAX_ROWS = 40_000


def event_count(
    events: QuerySet[ActivityEvent], *, first_page: KeysetPage | None
) -> CappedCount | None:
    """How many events match: from the first page itself when it is the only one, else
    ``capped_count`` under the time budget (None when a filter matches few events far apart
    and even that would take too long)."""
    if first_page is not None and first_page.older is None:
        return CappedCount(len(first_page.rows), False)
    return within_budget(lambda: capped_count(events), ms=COUNT_BUDGET_MS)


def event_page(
    events: QuerySet[ActivityEvent],
    *,
    cursor: Cursor | None,
    filtered: bool,
    scope: RollupScope | None = None,
) -> KeysetPage:
    """One page of events, newest first.

    A filtered list is read window by window under a time budget (``_budgeted_page``): the
    days the rollups say may hold a match when the ``scope`` is known (none at all proves the
    list empty without reading an event), else windows of time that grow fourfold."""
    if not filtered or (cursor is not None and cursor.direction == "newer"):
        return keyset_page(
            events, cursor=cursor, size=params.PAGE_SIZE, time_field="occurred_at", id_field="id"
        )
    windows = _day_windows(scope.days(), cursor) if scope is not None else _growing_windows(cursor)
    return _budgeted_page(events, cursor=cursor, windows=windows)


def search_is_countable(page: KeysetPage) -> bool:
    """Whether a text search's count and facets are worth trying: on PostgreSQL only when its
    first page is its only one (a search with more pages would need a read of every event)."""
    return connection.vendor != "postgresql" or (page.older is None and page.newer is None)


Window = tuple[datetime | None, Cursor | None]  # (from, before): rows in [from, before)


def _day_windows(days: list[tuple[date, int]], cursor: Cursor | None) -> Iterator[Window]:
    """Windows over the days that may hold a match, newest first, each holding at least a
    page of them (by the rollups' bound) and none starting or ending on a day without: the
    days before, after and between are read only where a window spans a gap."""
    days = [(day, n) for day, n in days if cursor is None or day <= cursor.at.date()]
    groups: list[list[date]] = []
    held = 0
    for day, n in days:
        if not groups or held > params.PAGE_SIZE:
            groups.append([])
            held = 0
        groups[-1].append(day)
        held += n
    for group in groups:
        end = Cursor(_utc_midnight(group[0] + timedelta(days=1)), 0, "older")
        yield _utc_midnight(group[-1]), cursor if cursor and cursor.at < end.at else end


def _growing_windows(cursor: Cursor | None) -> Iterator[Window]:
    """Windows of time back from the cursor (or the newest event), 6 hours and then four
    times longer each, down to the oldest event."""
    oldest = newest_event_time(oldest=True)
    if oldest is None:
        return
    end = cursor.at if cursor else newest_event_time()
    upper, span = cursor, SEARCH_FIRST_WINDOW
    while True:
        start = end - span
        if start <= oldest:
            yield None, upper
            return
        yield start, upper
        # Rows at exactly ``start`` were read; (start, 0) sorts below all of them.
        end, span, upper = start, span * 4, Cursor(start, 0, "older")


def _budgeted_page(
    events: QuerySet[ActivityEvent], *, cursor: Cursor | None, windows: Iterator[Window]
) -> KeysetPage:
    """Newest first through ``windows`` until the page is full, within a time budget on
    PostgreSQL.

    Each window reads its index from its newest end and stops as soon as the page is full, so
    a common match costs little; a rare one stops when the budget runs out, and the page says
    how far back it searched, with an "older" link that carries on from there. What it shows is
    exact: every match newer than that point. (No index serves every combination of filters,
    nor an arbitrary substring: a trigram index spends longer on the common trigrams of the
    text than this spends reading rows.)"""
    size = params.PAGE_SIZE
    budgeted = connection.vendor == "postgresql"
    deadline = time.monotonic() + SEARCH_BUDGET_MS / 1000
    rows: list[ActivityEvent] = []
    searched: Cursor | None = cursor  # every match newer than this has been read
    for start, before in windows:
        window = events.filter(occurred_at__gte=start) if start else events
        if before is not None:
            window = window.filter(
                row_before(window, before, time_field="occurred_at", id_field="id")
            )
        need = size + 1 - len(rows)
        found = _read_window(window, need, deadline if budgeted else None)
        if found is None:
            break
        rows += found
        if len(rows) > size:
            break
        searched = Cursor(start, 0, "older") if start else None
    else:
        return KeysetPage(rows, None, _newer(rows, cursor))
    if len(rows) > size:
        rows = rows[:size]
        older = Cursor(rows[-1].occurred_at, rows[-1].id, "older").encode()
        return KeysetPage(rows, older, _newer(rows, cursor))
    if searched is None:  # not even the first window finished: nothing was searched
        newest = newest_event_time()
        searched = Cursor(newest + timedelta(microseconds=1), 0, "older")
    return KeysetPage(rows, searched.encode(), _newer(rows, cursor), searched_to=searched.at)


def _read_window(window: QuerySet[ActivityEvent], need: int, deadline: float | None):
    """The window's newest ``need`` rows, or None when the deadline has passed first."""

    def read():
        return list(window.order_by("-occurred_at", "-id")[:need])

    if deadline is None:
        return read()
    remaining = int((deadline - time.monotonic()) * 1000)
    return within_budget(read, ms=remaining) if remaining > 0 else None


def _newer(rows: list[ActivityEvent], cursor: Cursor | None) -> str | None:
    return Cursor(rows[0].occurred_at, rows[0].id, "newer").encode() if cursor and rows else None


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def event_list() -> QuerySet[ActivityEvent]:
    return ActivityEvent.objects.select_related("source")


def activity_facets(
    events: QuerySet[ActivityEvent], *, scope: RollupScope | None, first_page: KeysetPage | None
) -> Facets | None:
    """Facet counts (``rollup_scope.facets_of``): from the first page when it is the only one,
    from the rollups when they hold the filter, else counted under the time budget."""
    if first_page is not None and first_page.older is None:
        counted = Counter(
            tuple(getattr(event, column) for column in FACET_COLUMNS) for event in first_page.rows
        )
        return facets_of((*key, n) for key, n in counted.items())
    if scope is not None and scope.counts_facets:
        return scope.facets()
    return facet_counts(events)


def facet_counts(queryset: QuerySet[ActivityEvent]) -> Facets | None:
    """Counts by vendor and by action within any filter, or None past the time budget."""
    if (estimated_rows(queryset) or 0) > FACET_MAX_ROWS:
        return None
    return within_budget(
        ms=FACET_BUDGET_MS,
        query=lambda: facets_of(
            queryset.order_by().values_list(*FACET_COLUMNS).annotate(n=Count("id"))
        ),
    )


# The log's histogram: the last 90 days when the filter has no start, at most a year of it.
HISTOGRAM_DAYS = 90
HISTOGRAM_MAX_DAYS = 366


@dataclass(frozen=True)
class DayCounts:
    """Events per UTC day of a filter, oldest first, days without any included."""

    days: list[tuple[date, int]]
    upper_bound: bool  # a person and another column: the rollups give at most this many
    cut: bool  # the filter's range is longer than the days shown (its last ones)


def event_days(scope: RollupScope, *, today: date) -> DayCounts:
    """The log's events per day from the daily rollups alone (never the event table)."""
    until = min(scope.until or today, today)
    since = scope.since or until - timedelta(days=HISTOGRAM_DAYS - 1)
    cut = (until - since).days >= HISTOGRAM_MAX_DAYS
    if cut:
        since = until - timedelta(days=HISTOGRAM_MAX_DAYS - 1)
    counts = dict(replace(scope, since=since, until=until).days()) if since <= until else {}
    narrowed = scope.actions or scope.object_type or scope.categories or scope.outcomes
    return DayCounts(
        days=[
            (since + timedelta(days=n), counts.get(since + timedelta(days=n), 0))
            for n in range((until - since).days + 1)
        ],
        upper_bound=bool(scope.persons is not None and narrowed),
        cut=cut,
    )


def text_match(text: str) -> Q:
    """Events whose action, object name, person or summary contains ``text`` (any case)."""
    text = text.strip()
    match = Q()
    for field in ("action", "object_name", "actor_name", "actor_email", "summary"):
        match |= Q(**{f"{field}__icontains": text})
    return match


def newest_event_time(*, oldest: bool = False):
    """The time of the newest event (or the oldest), off the time index."""
    order = "occurred_at" if oldest else "-occurred_at"
    return ActivityEvent.objects.order_by(order).values_list("occurred_at", flat=True).first()
