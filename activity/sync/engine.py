"""Sync one source: take its lease, walk its vendor's pages, commit each page with its cursor."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from activity.connectors import CONNECTORS
from activity.connectors.base import Connector
from activity.crypto import SecretsUnreadable
from activity.detections.tasks import detections_enqueue
from activity.models import CoveredWindow, Source, SyncRun
from activity.people.directory import directory_apply, directory_due
from activity.people.seen import SyncIdentities
from activity.sync.errors import DirectoryUnavailable, SyncError
from activity.sync.lease import lease_acquire, lease_heartbeat, lease_holder_name, lease_release
from activity.sync.prefetch import Prefetch
from activity.sync.records import Page
from activity.sync.store import events_save, snapshot_save

logger = logging.getLogger(__name__)
MAX_SKIPPED_SAMPLES = 20
SAMPLE_CHARS = 500

ProgressCallback = Callable[[SyncRun, Page], None]


def sync_source(
    source: Source,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    trigger: str = "command",
    on_page: ProgressCallback | None = None,
    now: datetime | None = None,
) -> SyncRun:
    """Sync ``source`` and return its finished SyncRun (succeeded, failed or skipped).

    Never raises for vendor or data problems: they end up in ``run.error``. ``now`` is the
    moment the sync treats as the present (windowed APIs read up to it, less their lag).
    """
    holder = lease_holder_name()
    run = SyncRun.objects.create(
        source=source, trigger=trigger, since=since, until=until, holder=holder
    )
    if not lease_acquire(source, holder):
        source.refresh_from_db(fields=["lease_holder", "lease_acquired_at"])
        since_text = (
            f" since {source.lease_acquired_at:%Y-%m-%d %H:%M:%S} UTC"
            if source.lease_acquired_at
            else ""
        )
        return _finish(
            run,
            SyncRun.Status.SKIPPED,
            f"skipped: another sync of this source is running "
            f"(held by {source.lease_holder or 'another process'}{since_text})",
        )
    # Holding the lease, any other run still marked running was cut off (a killed worker):
    # say so on that run, with who took over, so the sources page shows the takeover.
    abandoned = SyncRun.objects.filter(source=source, status=SyncRun.Status.RUNNING).exclude(
        pk=run.pk
    )
    if abandoned.update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error=Concat(
            Value("abandoned: "),
            F("holder"),
            Value(f" stopped mid-sync; {holder} took over the lease and resumed from its cursor"),
        ),
    ):
        logger.warning("sync of %s: took over the lease of a stopped run", source.name)
    # The run is finished before the lease is released: whoever sees the lease free also
    # sees how the run ended.
    try:
        return _finish(run, *_attempt(source, run, since, until, now, holder, on_page))
    finally:
        lease_release(source, holder)
        # Whatever pages committed, failed run or not: their events are evaluated.
        detections_enqueue(source_id=source.pk)


def _attempt(
    source: Source,
    run: SyncRun,
    since: datetime | None,
    until: datetime | None,
    now: datetime | None,
    holder: str,
    on_page: ProgressCallback | None,
) -> tuple[str, str]:
    """Walk and commit the source's pages; return the run's status and error."""
    try:
        source.refresh_from_db()
        connector = CONNECTORS[source.vendor](source, since=since, until=until, now=now)
        _run_pages(source, run, connector, holder=holder, on_page=on_page)
        if run.failed_streams:
            return SyncRun.Status.FAILED, _redact(run.error, source)
    except SyncError as error:
        error_text = f"{run.error}\n{error}" if run.error else str(error)
        return SyncRun.Status.FAILED, _redact(error_text, source)
    except SecretsUnreadable as error:
        return SyncRun.Status.FAILED, str(error)
    except Exception as error:
        logger.exception("sync of source %s failed unexpectedly", source.name)
        return (
            SyncRun.Status.FAILED,
            f"internal error: {type(error).__name__}: {_redact(str(error), source)}",
        )
    return SyncRun.Status.SUCCEEDED, ""


def _run_pages(
    source: Source,
    run: SyncRun,
    connector: Connector,
    *,
    holder: str,
    on_page: ProgressCallback | None,
) -> None:
    connector.prepare()
    with connector.client() as client:
        _read_directory(source, connector, client)
        identities = SyncIdentities.begin(source)
        try:
            with Prefetch(connector.walk(client)) as pages:
                for page in pages:
                    _commit_page(source, run, page, holder=holder, identities=identities)
                    if on_page:
                        on_page(run, page)
        finally:
            identities.close()


def _read_directory(source: Source, connector: Connector, client) -> None:
    """The vendor's user directory, before the events (so their ids link to emails), at
    most hourly. It never fails the sync: why it could not be read is kept on the source
    (the sources page says what permission to grant) and the events sync without it."""
    if not connector.has_directory or not directory_due(source, now=connector.now):
        return
    error = ""
    try:
        directory_apply(source, connector.directory(client), now=connector.now)
    except DirectoryUnavailable as unavailable:
        error = str(unavailable)
    except SyncError as failure:
        error = f"The directory could not be read this time: {failure}"
    except Exception as failure:
        logger.exception("reading the directory of %s failed unexpectedly", source.name)
        error = f"internal error reading the directory: {type(failure).__name__}"
    source.directory_read_at, source.directory_error = connector.now, _redact(error, source)
    Source.objects.filter(pk=source.pk).update(
        directory_read_at=source.directory_read_at, directory_error=source.directory_error
    )


@transaction.atomic
def _commit_page(
    source: Source, run: SyncRun, page: Page, *, holder: str, identities: SyncIdentities
) -> None:
    """The page's rows, its cursor, the run's counters and the lease's heartbeat: all or
    nothing, in one commit.

    On PostgreSQL the commit does not wait for its WAL flush: a database crash can lose the
    last pages committed, but always with their cursor, so the next sync fetches them again
    from the vendor (nothing lost, nothing twice), and every page saves a disk flush."""
    if page.failure:
        _stream_failed(run, page)
        lease_heartbeat(source, holder)
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    new, changed = events_save(source=source, events=page.events, identities=identities)
    if page.snapshot is not None:
        snapshot_save(source=source, document=page.snapshot)
    if page.covered is not None:
        CoveredWindow.objects.create(
            source=source,
            stream=page.stream,
            asked_from=page.covered.start,
            asked_to=page.covered.stop,
            rows=page.covered.rows,
        )
    # Re-read under a row lock so a concurrent edit of another stream's state is kept.
    state = (
        Source.objects.select_for_update().values_list("sync_state", flat=True).get(pk=source.pk)
    )
    state = {**(state or {}), page.stream: page.state}
    Source.objects.filter(pk=source.pk).update(sync_state=state)
    source.sync_state = state
    run.pages += 1
    run.events_seen += len(page.events)
    run.events_new += new
    run.events_changed += changed
    run.records_skipped += len(page.skipped)
    _add_samples(run.skipped_samples, page.skipped, source)
    _add_samples(run.flag_samples, page.flags, source)
    SyncRun.objects.filter(pk=run.pk).update(
        pages=F("pages") + 1,
        events_seen=F("events_seen") + len(page.events),
        events_new=F("events_new") + new,
        events_changed=F("events_changed") + changed,
        records_skipped=F("records_skipped") + len(page.skipped),
        skipped_samples=run.skipped_samples,
        flag_samples=run.flag_samples,
    )
    lease_heartbeat(source, holder)


def _add_samples(samples: list, records: list, source: Source) -> None:
    room = MAX_SKIPPED_SAMPLES - len(samples)
    samples.extend(
        {"reason": item.reason, "record": _redact(_sample(item.record), source)}
        for item in records[: max(room, 0)]
    )


def _stream_failed(run: SyncRun, page: Page) -> None:
    """One stream failed while the source's others go on: the run says which, and why."""
    run.failed_streams.append(page.stream)
    line = f"stream {page.stream} failed: {page.failure}"
    run.error = f"{run.error}\n{line}" if run.error else line
    SyncRun.objects.filter(pk=run.pk).update(
        failed_streams=run.failed_streams, error=_redact(run.error, run.source)
    )


def _finish(run: SyncRun, status: str, error: str) -> SyncRun:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run


def _sample(record: object) -> str:
    try:
        text = json.dumps(record, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(record)
    return text[:SAMPLE_CHARS]


def _redact(message: str, source: Source) -> str:
    """Vendors sometimes echo what they were sent; never let a secret through."""
    try:
        secrets = source.secrets.values()
    except SecretsUnreadable:
        return message
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "[secret]")
    return message
