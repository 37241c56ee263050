"""Reads for the pages: each returns rows or a queryset; views stay thin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from activity.models import (
    ActivityEvent,
    DailyActivity,
    DailyActor,
    Download,
    Source,
    SyncRun,
    UserActivitySnapshot,
)
from activity.sync.lease import lease_is_live
from activity.tasks import TaskState, sync_task_state

FACET_BUDGET_MS = 150
COUNT_LIMIT = 1000
Facets = dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool


def capped_count(queryset: QuerySet, limit: int = COUNT_LIMIT) -> CappedCount:
    """Count at most ``limit + 1`` rows: exact when small, "more than limit" otherwise."""
    value = queryset.order_by()[: limit + 1].count()
    return CappedCount(min(value, limit), value > limit)


def event_list() -> QuerySet[ActivityEvent]:
    return ActivityEvent.objects.select_related("source")


def facet_counts(queryset: QuerySet[ActivityEvent]) -> Facets | None:
    """Counts by vendor and by action within any filter, or None past the time budget."""

    def count() -> Facets:
        base = queryset.order_by()
        vendors = base.values_list("source__vendor").annotate(n=Count("id")).order_by("-n")
        actions = base.values_list("action").annotate(n=Count("id")).order_by("-n")[:10]
        return {"vendor": list(vendors), "action": list(actions)}

    return within_budget(count)


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
    vendors = rows.values_list("source__vendor").annotate(n=Sum("events")).order_by("-n")
    actions = rows.values_list("action").annotate(n=Sum("events")).order_by("-n")[:10]
    return {"vendor": list(vendors), "action": list(actions)}


def within_budget(query):
    """Run ``query()`` under a statement timeout on PostgreSQL; None if it runs out."""
    if connection.vendor != "postgresql":
        return query()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {FACET_BUDGET_MS}")
            return query()
    except DatabaseError:
        return None


def download_list() -> QuerySet[Download]:
    return Download.objects.select_related("event", "source")


def download_totals(queryset: QuerySet[Download]) -> dict[str, list[tuple[str, int]]] | None:
    def totals():
        base = queryset.order_by()
        return {
            "file_type": list(base.values_list("file_type").annotate(n=Count("pk")).order_by("-n")),
            "person": list(
                base.values_list("user_uuid", "user_name")
                .annotate(n=Count("pk"))
                .order_by("-n")[:10]
            ),
        }

    return within_budget(totals)


# -- charts (from the daily rollups, never from raw events) ------------------------------
def daily_events_by_vendor(*, since: date) -> list[tuple[date, str, int]]:
    return list(
        DailyActivity.objects.filter(day__gte=since)
        .values_list("day", "source__vendor")
        .annotate(events=Sum("events"))
        .order_by("day", "source__vendor")
    )


def weekly_active_people(*, since: date) -> list[tuple[date, int]]:
    return list(
        DailyActor.objects.filter(day__gte=since)
        .annotate(week=TruncWeek("day"))
        .values_list("week")
        .annotate(people=Count("actor_key", distinct=True))
        .order_by("week")
    )


def top_people(*, since: date, limit: int = 10) -> list[tuple[str, int]]:
    return list(
        DailyActor.objects.filter(day__gte=since)
        .values_list("actor_key")
        .annotate(events=Sum("events"))
        .order_by("-events")[:limit]
    )


def lightdash_snapshots(*, since: date) -> list[UserActivitySnapshot]:
    return list(
        UserActivitySnapshot.objects.filter(taken_at__date__gte=since)
        .select_related("source")
        .order_by("taken_at")
        .only("source__name", "taken_at", "weekly_querying_users_percent", "number_users")
    )


def latest_snapshot() -> UserActivitySnapshot | None:
    return UserActivitySnapshot.objects.select_related("source").order_by("-taken_at").first()


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


def newest_event_time():
    return ActivityEvent.objects.aggregate(newest=Max("occurred_at"))["newest"]
