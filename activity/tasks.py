"""Background tasks: thin wrappers around the sync engine, with JSON-simple arguments."""

from __future__ import annotations

from django.db import transaction
from django.tasks import task

from activity.models import Source
from activity.sync.engine import sync_source


@task
def sync_source_task(source_id: int, trigger: str = "schedule") -> dict:
    source = Source.objects.get(pk=source_id)
    run = sync_source(source, trigger=trigger)
    return {"sync_run": run.pk, "status": run.status, "error": run.error}


def sync_enqueue(*, source_id: int, trigger: str) -> None:
    """Queue a sync of the source once the current transaction commits."""
    transaction.on_commit(lambda: sync_source_task.enqueue(source_id=source_id, trigger=trigger))
