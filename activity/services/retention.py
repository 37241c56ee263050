"""Deleting old events in small batches, so the table is never locked for long."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from activity.models import ActivityEvent, Download, EventRevision, Source
from activity.rollups import COUNTED_COLUMNS, download_rollups_add, rollups_add

BATCH_SIZE = 5000


def events_purge(
    *,
    before: datetime,
    source: Source | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete events (with their download rows and earlier versions) that occurred before
    ``before``; return how many.

    Each batch is its own short transaction; an interrupted purge simply resumes.
    """
    events = ActivityEvent.objects.filter(occurred_at__lt=before)
    if source is not None:
        events = events.filter(source=source)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                events.order_by("occurred_at", "id").values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return total
            deleted = events_delete(ids)
        total += deleted
        if on_batch:
            on_batch(total)


def events_delete(ids: list[int]) -> int:
    """Delete these events, their download rows and earlier versions, and take them out of
    the rollups; return how many. Call inside a transaction."""
    doomed = ActivityEvent.objects.filter(id__in=ids)
    counted = list(doomed.values_list("source_id", *COUNTED_COLUMNS))
    doomed_downloads = Download.objects.filter(event_id__in=ids)
    downloads = list(
        doomed_downloads.values_list("source_id", "downloaded_at", "file_type", "user_name")
    )
    doomed_downloads._raw_delete(Download.objects.db)
    EventRevision.objects.filter(event_id__in=ids)._raw_delete(EventRevision.objects.db)
    deleted = doomed._raw_delete(ActivityEvent.objects.db)
    # Taken out once the events are gone: the active hours are recounted from those left.
    rollups_add(counted, sign=-1)
    download_rollups_add(downloads, sign=-1)
    return deleted
