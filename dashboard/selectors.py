"""Reads for the pages: each returns rows or a queryset; views stay thin."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from activity.connectors import CONNECTORS
from activity.models import (
    ActivityEvent,
    ActorCategory,
    ActorTotal,
    DailyActivity,
    DailyActor,
    DailyDownload,
    DailyDownloader,
    Download,
    DownloaderTotal,
    Source,
    SyncRun,
    UserActivitySnapshot,
    WeeklyActor,
    WeeklyDownloader,
    WeeklyPeople,
)
from activity.rollups import week_of
from activity.selectors import estimated_rows, within_budget
from activity.sync.lease import lease_is_live
from activity.tasks import TaskState, sync_task_state
from activity.vocabulary import Category, Outcome
from dashboard import params
from dashboard.cursors import Cursor, KeysetPage, keyset_page, row_before
from dashboard.rollup_scope import FACET_COLUMNS, Facets, RollupScope, facets_of
from dashboard.top import threshold_top

COUNT_LIMIT = 1000
# Parts of the activity page's 100 ms; each part degrades on its own when it runs out.
SEARCH_BUDGET_MS = 60
SEARCH_FIRST_WINDOW = timedelta(hours=6)
COUNT_BUDGET_MS = 30
FACET_BUDGET_MS = 40
# Counting more rows than this does not fit the budget; the estimate says so up front.
FACET_MAX_ROWS = 300_000
# Download totals group by text columns, a third as fast.
DOWNLOAD_TOTALS_MAX_ROWS = 100_000


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool


def capped_count(queryset: QuerySet, limit: int = COUNT_LIMIT) -> CappedCount:
    """Count at most ``limit + 1`` rows: exact when small, "more than limit" otherwise."""
    value = queryset.order_by()[: limit + 1].count()
    return CappedCount(min(value, limit), value > limit)


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
        upper_bound=bool(scope.person_key and narrowed),
        cut=cut,
    )


def download_list() -> QuerySet[Download]:
    return Download.objects.select_related("event", "source")


def download_totals(
    queryset: QuerySet[Download], *, days: tuple[date | None, date | None] | None
) -> dict[str, list[tuple[str, int]]] | None:
    """Totals by file type and person: from the rollups for a filter of whole UTC ``days``
    (see ``rollup_scope.download_days``), otherwise counted under the time budget."""
    if days is not None:
        return download_totals_from_rollups(since=days[0], until=days[1])
    if (estimated_rows(queryset) or 0) > DOWNLOAD_TOTALS_MAX_ROWS:
        return None

    def totals():
        base = queryset.order_by()
        return {
            "file_type": list(base.values_list("file_type").annotate(n=Count("pk")).order_by("-n")),
            "person": list(
                base.values_list("user_name").annotate(n=Count("pk")).order_by("-n")[:10]
            ),
        }

    return within_budget(totals)


def download_totals_from_rollups(
    *, since: date | None, until: date | None
) -> dict[str, list[tuple[str, int]]]:
    """The same totals from the rollups, for a filter of whole UTC days only: file types from
    the daily rollup, people from whole weeks plus the days at either edge."""
    types = DailyDownload.objects.all()
    if since:
        types = types.filter(day__gte=since)
    if until:
        types = types.filter(day__lte=until)
    by_type = (
        types.values_list("file_type").annotate(n=Sum("downloads")).order_by("-n", "file_type")
    )
    totals = DownloaderTotal.objects.order_by("-downloads", "user_name")
    people = threshold_top(
        totals.values_list("user_name", "downloads"),
        lambda names: _period_downloads(since=since, until=until, names=names),
    )
    return {"file_type": list(by_type), "person": people}


def _period_downloads(
    *, since: date | None, until: date | None, names: list[str] | None
) -> Counter[str]:
    """Downloads per user name between two UTC days: whole weeks from the weekly rollup, the
    days at either edge from the daily one."""
    first_week = _first_monday(since) if since else None
    end_week = week_of(until + timedelta(days=1)) if until else None  # weeks wholly before it
    weekly = WeeklyDownloader.objects.all()
    edges = Q(pk__in=[])
    if first_week:
        weekly = weekly.filter(week__gte=first_week)
        edges |= Q(day__gte=since, day__lt=first_week)
    if end_week:
        weekly = weekly.filter(week__lt=end_week)
        edges |= Q(day__gte=max(end_week, first_week or end_week), day__lte=until)
    if first_week and end_week and end_week <= first_week:  # within one week: days only
        weekly, edges = weekly.none(), Q(day__gte=since, day__lte=until)
    daily = DailyDownloader.objects.filter(edges)
    if names is not None:
        weekly, daily = weekly.filter(user_name__in=names), daily.filter(user_name__in=names)
    people: Counter[str] = Counter()
    for rows in (weekly, daily):
        for name, n in rows.values_list("user_name").annotate(n=Sum("downloads")).order_by():
            people[name] += n
    return people


# -- charts (from the daily rollups, never from raw events) ------------------------------
def daily_events_by_vendor(*, since: date) -> list[tuple[date, str, int]]:
    return _daily_events(DailyActivity.objects.filter(day__gte=since), by="vendor")


def daily_events_by_category(*, since: date) -> list[tuple[date, str, int]]:
    return _daily_events(DailyActivity.objects.filter(day__gte=since), by="category")


def daily_failed_signins(*, since: date) -> list[tuple[date, str, int]]:
    """Failed sign-ins per day and vendor: authentication events the vendor says failed."""
    rows = DailyActivity.objects.filter(
        day__gte=since, category=Category.AUTHENTICATION, outcome=Outcome.FAILURE
    )
    return _daily_events(rows, by="vendor")


def _daily_events(rows, *, by: str) -> list[tuple[date, str, int]]:
    """``(day, vendor or category, events)`` from daily rollup rows, in order."""
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    column = "source_id" if by == "vendor" else by
    totals: Counter[tuple[date, str]] = Counter()
    for day, value, events in (
        rows.values_list("day", column).annotate(events=Sum("events")).order_by()
    ):
        totals[day, vendor_of[value] if by == "vendor" else value] += events
    return [(day, value, events) for (day, value), events in sorted(totals.items())]


def weekly_active_people(*, since: date) -> list[tuple[date, int]]:
    """Distinct people per whole week (weeks start on Monday) from the first Monday on or
    after ``since``: a week cut by the period's start would be drawn as a dip."""
    return list(
        WeeklyPeople.objects.filter(week__gte=_first_monday(since), people__gt=0)
        .order_by("week")
        .values_list("week", "people")
    )


def top_people(*, since: date, limit: int = 10) -> list[tuple[str, int]]:
    """The most active people since ``since``, without summing everyone's period: whole
    weeks from the weekly rollup, the days before the first Monday from the daily one."""
    totals = ActorTotal.objects.order_by("-events", "actor_key").values_list("actor_key", "events")
    return threshold_top(totals, lambda keys: _period_events(since=since, keys=keys), limit=limit)


def _period_events(*, since: date, keys: list[str] | None) -> Counter[str]:
    first_full = _first_monday(since)
    counted: Counter[str] = Counter()
    weekly = WeeklyActor.objects.filter(week__gte=first_full)
    daily = DailyActor.objects.filter(day__gte=since, day__lt=first_full)
    if keys is not None:
        weekly, daily = weekly.filter(actor_key__in=keys), daily.filter(actor_key__in=keys)
    for rows in (weekly, daily):
        for key, events in rows.values_list("actor_key").annotate(n=Sum("events")).order_by():
            counted[key] += events
    return counted


def _first_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def lightdash_snapshots(*, since: date) -> list[tuple[str, datetime, float | None]]:
    """``(source name, taken at, weekly querying users %)``, the last snapshot of each source
    and day: a year of hourly snapshots is one point a day."""
    rows = (
        UserActivitySnapshot.objects.filter(taken_at__date__gte=since)
        .order_by("taken_at")
        .values_list("source__name", "taken_at", "weekly_querying_users_percent")
    )
    last_of_day = {
        (name, taken_at.date()): (name, taken_at, value) for name, taken_at, value in rows
    }
    return list(last_of_day.values())


def latest_snapshot() -> UserActivitySnapshot | None:
    return UserActivitySnapshot.objects.select_related("source").order_by("-taken_at").first()


def text_match(text: str) -> Q:
    """Events whose action, object name, person or summary contains ``text`` (any case)."""
    text = text.strip()
    match = Q()
    for field in ("action", "object_name", "actor_name", "actor_email", "summary"):
        match |= Q(**{f"{field}__icontains": text})
    return match


# -- people -------------------------------------------------------------------------------
def person_events(key: str) -> QuerySet[ActivityEvent]:
    return event_list().filter(_person_match(key))


def _person_match(key: str) -> Q:
    return Q(actor_id=key[3:]) if key.startswith("id:") else Q(actor_email=key.lower())


def person_downloads(key: str) -> QuerySet[Download]:
    """Downloads by the person's own Lightdash id. Lightdash's download rows carry a user UUID
    and names, never an email: a person known by email has none to show here (reading every
    download to join it to its event found none either, in seconds)."""
    if key.startswith("id:"):
        return download_list().filter(user_uuid=key[3:])
    return download_list().none()


def person_by_vendor(key: str) -> list[tuple[str, int]]:
    return list(
        DailyActor.objects.filter(actor_key=_rollup_key(key))
        .values_list("source__vendor")
        .annotate(events=Sum("events"))
        .order_by("-events")
    )


def person_by_category(key: str) -> list[tuple[str, int]]:
    return list(
        ActorCategory.objects.filter(actor_key=_rollup_key(key))
        .order_by("-events", "category")
        .values_list("category", "events")
    )


def _rollup_key(key: str) -> str:
    return key if key.startswith("id:") else key.lower()


def person_label(key: str) -> str:
    event = (
        ActivityEvent.objects.filter(_person_match(key))
        .order_by("-occurred_at")
        .only("actor_name")
        .first()
    )
    if event and event.actor_name:
        return event.actor_name
    return key.removeprefix("id:")


# -- sources ------------------------------------------------------------------------------
@dataclass
class SourceHealth:
    source: Source
    unmapped_actions: list[tuple[str, int]]
    last_success: SyncRun | None
    last_failure: SyncRun | None
    recent_runs: list[SyncRun]
    events_24h: int
    lease_live: bool
    task: TaskState

    @property
    def lag(self) -> timedelta | None:
        if self.last_success and self.last_success.finished_at:
            return timezone.now() - self.last_success.finished_at
        return None


def source_health() -> list[SourceHealth]:
    day_ago = timezone.now() - timedelta(hours=24)
    result = []
    for source in Source.objects.order_by("name"):
        runs = list(source.runs.order_by("-started_at")[:5])
        result.append(
            SourceHealth(
                source=source,
                last_success=source.runs.filter(status=SyncRun.Status.SUCCEEDED)
                .order_by("-started_at")
                .first(),
                last_failure=source.runs.filter(status=SyncRun.Status.FAILED)
                .order_by("-started_at")
                .first(),
                recent_runs=runs,
                events_24h=ActivityEvent.objects.filter(
                    source=source, occurred_at__gte=day_ago
                ).count(),
                lease_live=lease_is_live(source),
                unmapped_actions=unmapped_actions(source),
                task=sync_task_state(source),
            )
        )
    return result


def unmapped_actions(source: Source) -> list[tuple[str, int]]:
    """The source's stored actions that neither its vendor's table nor the verb fallback
    explains (category ``other``), with their counts, most frequent first."""
    table = CONNECTORS[source.vendor].categories
    rows = (
        DailyActivity.objects.filter(source=source, category=Category.OTHER)
        .values_list("action")
        .annotate(n=Sum("events"))
        .order_by("-n", "action")
    )
    return [(action, n) for action, n in rows if action not in table]


def newest_event_time(*, oldest: bool = False):
    """The time of the newest event (or the oldest), off the time index."""
    order = "occurred_at" if oldest else "-occurred_at"
    return ActivityEvent.objects.order_by(order).values_list("occurred_at", flat=True).first()
