"""Which sources are due for a sync, and queueing them."""

from __future__ import annotations

from django.db.models import Max, Q
from django.utils import timezone

from activity.models import Source, SyncRun
from activity.tasks import sync_enqueue, sync_task_state


def sources_due() -> list[Source]:
    """Enabled sources to sync now.

    A source is due once its interval has passed since its last attempt started (skipped
    attempts do not count), and at once when its last sync was abandoned by a dead worker:
    that sync resumes from its last committed page instead of waiting for the next interval.
    """
    now = timezone.now()
    sources = Source.objects.filter(enabled=True).annotate(
        last_started=Max("runs__started_at", filter=~Q(runs__status=SyncRun.Status.SKIPPED))
    )
    return [
        source
        for source in sources
        if source.last_started is None
        or now - source.last_started >= source.sync_interval
        or sync_task_state(source).status == "abandoned"
    ]


def schedule_due_syncs() -> list[str]:
    """Queue every due source that is not already queued or running; return their names."""
    return [
        source.name
        for source in sources_due()
        if sync_enqueue(source_id=source.pk, trigger="schedule")
    ]
