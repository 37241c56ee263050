"""Reads for the pages: each returns rows or a queryset; views stay thin."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from activity.models import (
    ActivityEvent,
    DailyActivity,
    DailyActor,
    DailyDownload,
    DailyDownloader,
    Download,
    Source,
    SyncRun,
    UserActivitySnapshot,
    WeeklyActor,
    WeeklyDownloader,
)
from activity.rollups import week_of
from activity.selectors import estimated_rows, within_budget
from activity.sync.lease import lease_is_live
from activity.tasks import TaskState, sync_task_state
from dashboard import params
from dashboard.cursors import Cursor, KeysetPage, keyset_page, row_before

COUNT_LIMIT = 1000
# Parts of the activity page's 100 ms; each part degrades on its own when it runs out.
SEARCH_BUDGET_MS = 60
SEARCH_FIRST_WINDOW = timedelta(hours=6)
COUNT_BUDGET_MS = 30
FACET_BUDGET_MS = 40
# Counting more rows than this does not fit the budget; the estimate says so up front.
FACET_MAX_ROWS = 300_000
Facets = dict[str, list[tuple[str, int]]]


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


def event_page(events: QuerySet[ActivityEvent], *, cursor: Cursor | None, text: bool) -> KeysetPage:
    """One page of events, newest first; a text search is time-bounded (``event_search_page``)."""
    if (
        text
        and connection.vendor == "postgresql"
        and (cursor is None or cursor.direction == "older")
    ):
        return event_search_page(events, cursor=cursor)
    return _event_page(events, cursor)


def search_is_countable(page: KeysetPage) -> bool:
    """Whether a text search's count and facets are worth trying: on PostgreSQL only when its
    first page is its only one (a search with more pages would need a read of every event)."""
    return connection.vendor != "postgresql" or (page.older is None and page.newer is None)


def _event_page(events: QuerySet[ActivityEvent], cursor: Cursor | None) -> KeysetPage:
    return keyset_page(
        events, cursor=cursor, size=params.PAGE_SIZE, time_field="occurred_at", id_field="id"
    )


def event_search_page(events: QuerySet[ActivityEvent], *, cursor: Cursor | None) -> KeysetPage:
    """Free text, newest first, in windows of time that grow fourfold, within a time budget.

    Each window reads the (occurred_at, id) index from its newest end and stops as soon as
    the page is full, so common words cost little; rare words stop when the budget runs out,
    and the page says how far back it searched, with an "older" link that carries on from
    there. What it shows is exact: every match newer than that point. (No index serves an
    arbitrary substring well: a trigram index spends longer on the common trigrams of the
    text than this spends reading rows.)"""
    size = params.PAGE_SIZE
    oldest = newest_event_time(oldest=True)
    if oldest is None:
        return KeysetPage([], None, None)
    end = cursor.at if cursor else newest_event_time()
    upper = cursor
    rows: list[ActivityEvent] = []
    span = SEARCH_FIRST_WINDOW
    deadline = time.monotonic() + SEARCH_BUDGET_MS / 1000
    exhausted = False
    while len(rows) <= size:
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0:
            break
        start = end - span
        window = events.filter(occurred_at__gte=start) if start > oldest else events
        if upper is not None:
            window = window.filter(
                row_before(window, upper, time_field="occurred_at", id_field="id")
            )
        need = size + 1 - len(rows)
        found = within_budget(
            lambda w=window, n=need: list(w.order_by("-occurred_at", "-id")[:n]), ms=remaining
        )
        if found is None:
            break
        rows += found
        if start <= oldest:
            exhausted = True
            break
        end, span = start, span * 4
        # Rows at exactly ``start`` were searched; (start, 0) sorts below all of them.
        upper = Cursor(start, 0, "older")
    newer = Cursor(rows[0].occurred_at, rows[0].id, "newer").encode() if cursor and rows else None
    if len(rows) > size:
        rows = rows[:size]
        older = Cursor(rows[-1].occurred_at, rows[-1].id, "older").encode()
        return KeysetPage(rows, older, newer)
    if exhausted:
        return KeysetPage(rows, None, newer)
    stop = upper or Cursor(end, 0, "older")
    if upper is None:  # not even the first window finished: nothing was searched
        stop = Cursor(end + timedelta(microseconds=1), 0, "older")
    return KeysetPage(rows, stop.encode(), newer, searched_to=stop.at)


def event_list() -> QuerySet[ActivityEvent]:
    return ActivityEvent.objects.select_related("source")


def facet_counts(queryset: QuerySet[ActivityEvent]) -> Facets | None:
    """Counts by vendor and by action within any filter, or None past the time budget."""
    if (estimated_rows(queryset) or 0) > FACET_MAX_ROWS:
        return None
    return within_budget(
        ms=FACET_BUDGET_MS,
        query=lambda: _facets(
            queryset.order_by().values_list("source_id", "action").annotate(n=Count("id"))
        ),
    )


def facet_counts_from_rollups(
    *,
    since: date | None,
    until: date | None,
    vendor: str | None,
    source: Source | None,
    action: str | None,
) -> Facets:
    """The same counts from the daily rollups, for filters they can answer (whole UTC days)."""
    rows = DailyActivity.objects.all()
    if since:
        rows = rows.filter(day__gte=since)
    if until:
        rows = rows.filter(day__lte=until)
    if vendor:
        rows = rows.filter(source__vendor=vendor)
    if source:
        rows = rows.filter(source=source)
    if action:
        rows = rows.filter(action=action)
    return _facets(rows.values_list("source_id", "action").annotate(n=Sum("events")))


def _facets(rows) -> Facets:
    """Vendor and top-10 action counts from one scan grouped by (source, action)."""
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    vendors: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    for source_id, action, n in rows:
        vendors[vendor_of[source_id]] += n
        actions[action] += n
    return {"vendor": vendors.most_common(), "action": actions.most_common(10)}


def download_list() -> QuerySet[Download]:
    return Download.objects.select_related("event", "source")


def download_totals(queryset: QuerySet[Download]) -> dict[str, list[tuple[str, int]]] | None:
    if (estimated_rows(queryset) or 0) > FACET_MAX_ROWS:
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
    people: Counter[str] = Counter()
    for name, n in weekly.values_list("user_name").annotate(n=Sum("downloads")):
        people[name] += n
    for name, n in (
        DailyDownloader.objects.filter(edges).values_list("user_name").annotate(n=Sum("downloads"))
    ):
        people[name] += n
    top = sorted(people.items(), key=lambda item: (-item[1], item[0]))[:10]
    return {"file_type": list(by_type), "person": top}


# -- charts (from the daily rollups, never from raw events) ------------------------------
def daily_events_by_vendor(*, since: date) -> list[tuple[date, str, int]]:
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    totals: Counter[tuple[date, str]] = Counter()
    rows = (
        DailyActivity.objects.filter(day__gte=since)
        .values_list("day", "source_id")
        .annotate(events=Sum("events"))
        .order_by()
    )
    for day, source_id, events in rows:
        totals[day, vendor_of[source_id]] += events
    return [(day, vendor, events) for (day, vendor), events in sorted(totals.items())]


def weekly_active_people(*, since: date) -> list[tuple[date, int]]:
    """Distinct people per week (weeks start on Monday); the first week counts from ``since``."""
    first_full = _first_monday(since)
    rows = list(
        WeeklyActor.objects.filter(week__gte=first_full)
        .values_list("week")
        .annotate(people=Count("id"))
        .order_by("week")
    )
    if first_full > since:
        partial = DailyActor.objects.filter(day__gte=since, day__lt=first_full).aggregate(
            people=Count("actor_key", distinct=True)
        )["people"]
        if partial:
            rows.insert(0, (week_of(since), partial))
    return rows


def top_people(*, since: date, limit: int = 10) -> list[tuple[str, int]]:
    """The most active people since ``since``: whole weeks from the weekly rollup, the days
    before the first Monday from the daily one."""
    first_full = _first_monday(since)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT actor_key, sum(events) FROM ("
            f" SELECT actor_key, events FROM {WeeklyActor._meta.db_table} WHERE week >= %s"
            " UNION ALL"
            f" SELECT actor_key, events FROM {DailyActor._meta.db_table}"
            " WHERE day >= %s AND day < %s"
            ") AS counted GROUP BY actor_key ORDER BY 2 DESC, 1 LIMIT %s",
            [first_full, since, first_full, limit],
        )
        return [(key, int(events)) for key, events in cursor.fetchall()]


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
    if key.startswith("id:"):
        return download_list().filter(user_uuid=key[3:])
    return download_list().filter(event__actor_email=key.lower())


def person_by_vendor(key: str) -> list[tuple[str, int]]:
    return list(
        DailyActor.objects.filter(actor_key=key if key.startswith("id:") else key.lower())
        .values_list("source__vendor")
        .annotate(events=Sum("events"))
        .order_by("-events")
    )


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
                task=sync_task_state(source),
            )
        )
    return result


def newest_event_time(*, oldest: bool = False):
    """The time of the newest event (or the oldest), off the time index."""
    order = "occurred_at" if oldest else "-occurred_at"
    return ActivityEvent.objects.order_by(order).values_list("occurred_at", flat=True).first()
