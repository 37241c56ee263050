"""Which sources are due for a sync, and queueing them."""

from __future__ import annotations

from django.db.models import Max, Q
from django.utils import timezone

from activity.models import Source, SyncRun
from activity.tasks import sync_enqueue


def sources_due() -> list[Source]:
    """Enabled sources whose last sync attempt started at least one interval ago."""
    now = timezone.now()
    sources = Source.objects.filter(enabled=True).annotate(
        last_started=Max("runs__started_at", filter=~Q(runs__status=SyncRun.Status.SKIPPED))
    )
    return [
        source
        for source in sources
        if source.last_started is None or now - source.last_started >= source.sync_interval
    ]


def schedule_due_syncs() -> list[str]:
    """Queue every due source that is not already queued or running; return their names."""
    return [
        source.name
        for source in sources_due()
        if sync_enqueue(source_id=source.pk, trigger="schedule")
    ]
