"""Background syncs: a thin task around the engine, and queueing that never queues twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from activity.models import Source, SyncRun
from activity.sync.engine import sync_source
from activity.sync.lease import lease_is_live

# How long a claimed task may take to reach the lease (start-up, a lease held by another
# run) before a task still marked running without one is taken for a dead worker.
START_GRACE = timedelta(minutes=2)


class WorkerLost(Exception):
    """The worker running a sync stopped (killed, machine lost) before finishing it."""


@task
def sync_source_task(source_id: int, trigger: str = "schedule") -> dict:
    source = Source.objects.get(pk=source_id)
    run = sync_source(source, trigger=trigger)
    return {"sync_run": run.pk, "status": run.status, "error": run.error}


@dataclass(frozen=True)
class TaskState:
    status: str  # "", queued, running, succeeded, failed, abandoned
    error: str = ""
    since: datetime | None = None  # queued, started or finished at

    @property
    def pending(self) -> bool:
        return self.status in ("queued", "running")


def sync_task_state(source: Source) -> TaskState:
    """The state of the source's latest queued sync, as the sources page shows it.

    django-tasks-db leaves the task of a worker killed mid-sync marked running forever, so
    "running" is believed only while the lease backs it: a lease taken since the task started
    that is no longer held means its worker died (abandoned); no lease at all is allowed for
    ``START_GRACE``, the time a worker needs to get from claiming the task to the lease.
    """
    if not source.sync_task_id:
        return TaskState("")
    try:
        result = sync_source_task.get_result(source.sync_task_id)
    except (TaskResultDoesNotExist, NotImplementedError):
        return TaskState("")
    if result.status == TaskResultStatus.READY:
        return TaskState("queued", since=result.enqueued_at)
    if result.status == TaskResultStatus.RUNNING:
        started = result.started_at or result.enqueued_at
        if lease_is_live(source):
            return TaskState("running", since=started)
        if _worker_alive_without_lease(source, started):
            return TaskState("running", since=started)
        return TaskState("abandoned", "its worker stopped during the sync", since=started)
    finished = result.finished_at
    if result.status == TaskResultStatus.SUCCESSFUL:
        value = result.return_value or {}
        if value.get("status") == "failed":
            return TaskState("failed", value.get("error", ""), since=finished)
        return TaskState("succeeded", since=finished)
    errors = result.errors
    return TaskState("failed", _last_line(errors[-1].traceback) if errors else "", since=finished)


def _worker_alive_without_lease(source: Source, started) -> bool:
    """Whether a running task seen without a live lease is in fact starting, finishing, or
    has just taken the lease.

    A worker writes the holder after taking the lock, and ends its run before it clears the
    holder and unlocks; so a fresh look at the lease, then at the run, tells a worker that
    died holding the lease (holder written, no lock, no finished run) from the rest.
    """
    source.refresh_from_db(fields=["lease_holder", "lease_acquired_at", "lease_heartbeat_at"])
    if lease_is_live(source):
        return True
    recent = timezone.now() - START_GRACE
    if SyncRun.objects.filter(
        source=source, started_at__gte=started, finished_at__gte=recent
    ).exists():
        return True
    if source.lease_holder and source.lease_acquired_at and source.lease_acquired_at >= started:
        return False
    return started >= recent


def _last_line(traceback: str) -> str:
    lines = traceback.strip().splitlines()
    return lines[-1] if lines else ""


def sync_enqueue(*, source_id: int, trigger: str) -> bool:
    """Queue a sync of the source unless one is already queued or running; say if it did.

    Inside a transaction the sync is queued when that transaction commits (so a worker never
    looks for a source that is not there yet); the answer is then the decision at call time.
    """
    if not transaction.get_connection().in_atomic_block:
        return _enqueue_unless_pending(source_id, trigger)
    if sync_task_state(Source.objects.get(pk=source_id)).pending:
        return False
    transaction.on_commit(lambda: _enqueue_unless_pending(source_id, trigger), robust=True)
    return True


def _enqueue_unless_pending(source_id: int, trigger: str) -> bool:
    """Decide and queue under a lock on the source row.

    Two schedulers, or a scheduler and a click on "Sync now", cannot both queue the source.
    With the database backend the task row is written in the same transaction as the
    decision, so it exists exactly when the source points at it.
    """
    if not sync_source_task.get_backend().supports_get_result:
        # Nothing to track (e.g. the immediate backend, which has run the sync on return).
        sync_source_task.enqueue(source_id=source_id, trigger=trigger)
        return True
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source_id)
        state = sync_task_state(source)
        if state.pending:
            return False
        if state.status == "abandoned":
            _mark_lost(source)
        result = sync_source_task.enqueue(source_id=source_id, trigger=trigger)
        Source.objects.filter(pk=source_id).update(sync_task_id=str(result.id))
    return True


def _mark_lost(source: Source) -> None:
    """Close a dead worker's task as failed, so the task table stops calling it running."""
    result = sync_source_task.get_result(source.sync_task_id)
    db_result = getattr(result, "db_result", None)  # django-tasks-db's row
    if db_result is not None:
        holder = source.lease_holder or "its worker"
        db_result.set_failed(WorkerLost(f"{holder} stopped during the sync; queued again"))
