"""Background syncs: a thin task around the engine, and queueing that never queues twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from activity.models import Source
from activity.sync.engine import sync_source
from activity.sync.lease import lease_is_live

# A task marked running this long without a live lease belongs to a dead worker.
START_GRACE = timedelta(minutes=2)


@task
def sync_source_task(source_id: int, trigger: str = "schedule") -> dict:
    source = Source.objects.get(pk=source_id)
    run = sync_source(source, trigger=trigger)
    return {"sync_run": run.pk, "status": run.status, "error": run.error}


@dataclass(frozen=True)
class TaskState:
    status: str  # "", queued, running, succeeded, failed, abandoned
    error: str = ""

    @property
    def pending(self) -> bool:
        return self.status in ("queued", "running")


def sync_task_state(source: Source) -> TaskState:
    """The state of the source's latest queued sync, as the sources page shows it.

    A task still marked running whose worker holds no lease died mid-sync (a killed
    worker's task stays "running" in the task table): it is reported as abandoned.
    """
    if not source.sync_task_id:
        return TaskState("")
    try:
        result = sync_source_task.get_result(source.sync_task_id)
    except (TaskResultDoesNotExist, NotImplementedError):
        return TaskState("")
    if result.status == TaskResultStatus.READY:
        return TaskState("queued")
    if result.status == TaskResultStatus.RUNNING:
        started = result.started_at or result.enqueued_at
        if lease_is_live(source) or (started and timezone.now() - started < START_GRACE):
            return TaskState("running")
        return TaskState("abandoned", "the worker stopped during the sync")
    if result.status == TaskResultStatus.SUCCESSFUL:
        value = result.return_value or {}
        if value.get("status") == "failed":
            return TaskState("failed", value.get("error", ""))
        return TaskState("succeeded")
    errors = result.errors
    return TaskState("failed", errors[-1].exception_class_path if errors else "")


def sync_enqueue(*, source_id: int, trigger: str) -> bool:
    """Queue a sync of the source unless one is already queued or running.

    The source row is locked while deciding, so two schedulers (or a scheduler and a click on
    "Sync now") cannot both queue it. The task row is written in the same transaction, so a
    worker sees it only once the decision is committed.
    """
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source_id)
        if sync_task_state(source).pending:
            return False
        result = sync_source_task.enqueue(source_id=source_id, trigger=trigger)
        Source.objects.filter(pk=source_id).update(sync_task_id=str(result.id))
    return True
