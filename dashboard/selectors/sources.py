"""Reads for the sources page: each source's syncs, task and lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from activity.connectors import CONNECTORS
from activity.coverage import Gap, retention_days
from activity.models import ActivityEvent, DailyActivity, Source, SyncRun
from activity.sync.lease import lease_is_live
from activity.tasks import TaskState, sync_task_state
from activity.vocabulary import Category
from dashboard.selectors.coverage import gaps_at_risk


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
    at_risk: list[Gap]  # gaps about to fall past the vendor's retention
    retention_days: int  # how long the vendor keeps the source's logs
    has_directory: bool  # the vendor lists its users (``Source.directory_*`` say how it went)

    @property
    def lag(self) -> timedelta | None:
        if self.last_success and self.last_success.finished_at:
            return timezone.now() - self.last_success.finished_at
        return None


def source_health() -> list[SourceHealth]:
    now = timezone.now()
    day_ago = now - timedelta(hours=24)
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
                at_risk=gaps_at_risk(source=source, now=now),
                retention_days=retention_days(source),
                has_directory=CONNECTORS[source.vendor].has_directory,
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
