"""Re-reading one window of a source: the bounded backfill behind "Re-read this window".

It is ``sync_activity NAME --since START --until STOP`` run by the sync workers: the same
engine, so stored events are kept, duplicates are impossible and no high-water mark moves
(a run bounded by ``until`` leaves the marks alone), and every page it reads goes into the
completeness ledger.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from activity.coverage import retention_days, retention_horizon
from activity.models import Source, SyncRun
from activity.sync.engine import sync_source

# The longest window one re-read may ask for: a month of a busy source is already a long run.
MAX_REREAD = timedelta(days=31)
# A re-read that finds a sync of the source running waits this long and tries again.
RETRY_AFTER = timedelta(minutes=1)
MAX_ATTEMPTS = 30
TRIGGER = "re-read"


class RereadRefused(ValueError):
    """The window cannot be re-read; the message says why."""


def reread_check(*, source: Source, start: datetime, stop: datetime, now: datetime) -> None:
    """Refuse a window that is reversed, in the future, too long, or older than the vendor
    keeps."""
    if start >= stop:
        raise RereadRefused("the window's start must be before its end")
    if stop > now:
        raise RereadRefused("the window must end in the past")
    if stop - start > MAX_REREAD:
        raise RereadRefused(
            f"a re-read covers at most {MAX_REREAD.days} days: re-read a longer gap in parts"
        )
    horizon = retention_horizon(source, now)
    if start < horizon:
        raise RereadRefused(
            f"the vendor keeps {retention_days(source)} days of {source.name}'s logs (its "
            f"retention_days): nothing before {horizon:%Y-%m-%d %H:%M} UTC can be fetched"
        )


def reread_enqueue(*, source: Source, start: datetime, stop: datetime) -> None:
    """Check the window and queue its re-read (when the current transaction commits)."""
    reread_check(source=source, start=start, stop=stop, now=timezone.now())
    transaction.on_commit(
        lambda: reread_task.enqueue(
            source_id=source.pk, since=start.isoformat(), until=stop.isoformat()
        ),
        robust=True,
    )


@task
def reread_task(source_id: int, since: str, until: str, attempt: int = 1) -> dict:
    source = Source.objects.get(pk=source_id)
    run = sync_source(
        source,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
        trigger=TRIGGER,
    )
    # Another sync of the source held its lease: wait for it rather than give up.
    if (
        run.status == SyncRun.Status.SKIPPED
        and attempt < MAX_ATTEMPTS
        and reread_task.get_backend().supports_defer
    ):
        reread_task.using(run_after=timezone.now() + RETRY_AFTER).enqueue(
            source_id=source_id, since=since, until=until, attempt=attempt + 1
        )
    return {"sync_run": run.pk, "status": run.status, "error": run.error}
