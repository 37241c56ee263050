"""Writing a page of normalized events: exactly once, decided by the database's unique key."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from activity.models import ActivityEvent, Download, EventRevision, Source, UserActivitySnapshot
from activity.people.linking import page_persons
from activity.people.seen import SyncIdentities, page_check
from activity.rollups import COUNTED_COLUMNS, download_rollups_add, rollups_add
from activity.sync.records import NormalizedEvent
from activity.sync.values import text
from activity.transactions import atomically

EVENT_COLUMNS = (
    "source_id",
    "external_id",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_name",
    "summary",
    "ip_address",
    "user_agent",
    "raw",
    "ingested_at",
    "category",
    "outcome",
    "person_id",
)
DOWNLOAD_COLUMNS = (
    "event_id",
    "source_id",
    "downloaded_at",
    "user_uuid",
    "user_name",
    "file_type",
    "query_uuid",
    "query_context",
)
_TIME_COLUMNS = {"occurred_at", "ingested_at", "downloaded_at"}
_EVENT_TABLE = ActivityEvent._meta.db_table
_DOWNLOAD_TABLE = Download._meta.db_table
_STAGE_TABLE = "activity_event_stage"
_SQLITE_CHUNK = 500
_MAX_KEY = 255


def raw_json(record: object) -> str:
    """The record as compact JSON text, key order kept; escaped only if it holds lone surrogates."""
    dumped = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        dumped.encode()
    except UnicodeEncodeError:
        dumped = json.dumps(record, separators=(",", ":"))
    return dumped


def external_key(value: str) -> str:
    # A longer vendor id is hashed rather than cut, so two ids can never collide.
    if len(value) <= _MAX_KEY:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def event_row(source_id: int, event: NormalizedEvent, now: datetime) -> tuple:
    """The event's columns, all but the person (``EVENT_COLUMNS`` without the last)."""
    return (
        source_id,
        external_key(text(event.external_id, 10_000)),
        event.occurred_at,
        text(event.actor_id, 255),
        text(event.actor_name, 255),
        text(event.actor_email, 254).strip().lower(),
        text(event.action, 255),
        text(event.object_type, 255),
        text(event.object_id, 255),
        text(event.object_name, 1000),
        text(event.summary, 10_000),
        text(event.ip_address, 64),
        text(event.user_agent, 2000),
        raw_json(event.raw),
        now,
        event.category,
        event.outcome,
    )


def events_upsert(*, source: Source, events: Sequence[NormalizedEvent]) -> int:
    """Store the events (see ``events_save``); return how many were new."""
    return events_save(source=source, events=events)[0]


def events_save(
    *,
    source: Source,
    events: Sequence[NormalizedEvent],
    identities: SyncIdentities | None = None,
) -> tuple[int, int]:
    """Insert the events the source does not have yet, and bring up to date the stored ones
    whose vendor record changed since (the earlier version is kept as an EventRevision);
    return how many were new and how many changed.

    Atomic (the stage table empties on commit), and usually called inside the page's
    transaction so the cursor moves with the rows. Duplicates (within the page or with stored
    events) are dropped by ``ON CONFLICT DO NOTHING`` on the unique (source, external_id).
    A sync run passes its ``identities`` (see ``people.seen``).
    """
    if not events:
        return 0, 0
    # Stored again, its persons from the database, if staff moved them meanwhile (or the
    # database broke a deadlock with them by undoing this page).
    return atomically(
        functools.partial(_events_store, source, events, identities),
        undone=identities.page_undone if identities is not None else None,
    )


def _events_store(
    source: Source, events: Sequence[NormalizedEvent], identities: SyncIdentities | None
) -> tuple[int, int]:
    now = timezone.now()
    unique: dict[str, tuple[tuple, NormalizedEvent]] = {}
    for event in events:
        row = event_row(source.pk, event, now)
        unique.setdefault(row[1], (row, event))
    persons = page_persons(
        source.pk,
        ((row[3], row[5], row[4], event.actor_kind, row[2]) for row, event in unique.values()),
        identities,
    )
    for (key, (row, event)), person_id in zip(list(unique.items()), persons, strict=True):
        unique[key] = ((*row, person_id), event)
    rows = [row for row, _ in unique.values()]
    if connection.vendor == "postgresql":
        with_ids = any(event.download for _, event in unique.values())
        inserted, stale = _insert_postgresql(rows, with_ids=with_ids)
    else:
        inserted = _insert_generic(rows)
        known = set(unique).difference(key for _, key in inserted)
        stale = _stale_generic(source, known, unique) if known else []
    rollups_add(_rollup_row(unique[key][0]) for _, key in inserted)
    downloads = [
        (event_id, unique[key][1]) for event_id, key in inserted if unique[key][1].download
    ]
    if downloads:
        _insert_downloads(source, downloads)
        download_rollups_add(_download_rollup_rows(source, downloads))
    if stale:
        _replace_changed(source, stale, unique, now)
    page_check((row[-1] for row, _ in unique.values() if row[-1]), identities)
    if identities is not None:
        identities.page_stored(changed=bool(stale))
    return len(inserted), len(stale)


# A stored event as compared with a re-read one: id, external_id, raw, then what the rollups
# count of it, in ``rollups_add``'s order after the source.
_STALE_COLUMNS = ("id", "external_id", "raw", *COUNTED_COLUMNS)


def _stale_generic(source: Source, known: set[str], unique: dict) -> list[tuple]:
    """The stored events among ``known`` whose record or time differ from the page's."""
    stale = []
    keys = sorted(known)
    for start in range(0, len(keys), _SQLITE_CHUNK):
        stored = ActivityEvent.objects.filter(
            source=source, external_id__in=keys[start : start + _SQLITE_CHUNK]
        ).values_list(*_STALE_COLUMNS)
        for values in stored:
            row = unique[values[1]][0]
            if values[2] != row[13] or values[3] != row[2]:
                stale.append(values)
    return stale


def _replace_changed(source: Source, stale: list[tuple], unique: dict, now: datetime) -> None:
    """The vendor changed these stored events: keep each earlier version, store the
    current one, and move the rollups' counts from the old values to the new."""
    EventRevision.objects.bulk_create(
        EventRevision(event_id=values[0], raw=values[2], occurred_at=values[3], replaced_at=now)
        for values in stale
    )
    rollups_add(((source.pk, *values[3:]) for values in stale), sign=-1)
    fields = [column for column in EVENT_COLUMNS if column not in ("source_id", "ingested_at")]
    for values in stale:
        row = dict(zip(EVENT_COLUMNS, unique[values[1]][0], strict=True))
        ActivityEvent.objects.filter(pk=values[0]).update(**{f: row[f] for f in fields})
    rollups_add(_rollup_row(unique[values[1]][0]) for values in stale)
    ids = {values[0]: unique[values[1]][1] for values in stale}
    old = Download.objects.filter(event_id__in=ids)
    download_rollups_add(
        old.values_list("source_id", "downloaded_at", "file_type", "user_name"), sign=-1
    )
    changed = [(event_id, ids[event_id]) for event_id in old.values_list("event_id", flat=True)]
    old.delete()
    changed = [(event_id, event) for event_id, event in changed if event.download]
    if changed:
        _insert_downloads(source, changed)
        download_rollups_add(_download_rollup_rows(source, changed))


def _rollup_row(row: tuple) -> tuple:
    """What the rollups count of an event row (``rollups_add``): source, time, action, object
    type, category, outcome, person."""
    return row[0], row[2], row[6], row[7], row[15], row[16], row[17]


def _download_rollup_rows(source: Source, downloads: list[tuple[int, NormalizedEvent]]):
    return (
        (
            source.pk,
            event.occurred_at,
            text(event.download.file_type, 50),
            text(event.download.user_name, 255),
        )
        for _, event in downloads
    )


def _insert_postgresql(
    rows: list[tuple], *, with_ids: bool
) -> tuple[list[tuple[int | None, str]], list[tuple]]:
    """The rows, by COPY straight into the table, or merged if some are already stored;
    returns the inserted (id, external_id) and the stored events whose content changed.
    ``with_ids``: the caller needs the new ids (downloads point to their events); without,
    the ids are left to the column's default and not returned (one round trip fewer).

    A backfill's pages are all new, and COPY is the fastest way in. A page that overlaps
    stored events (an incremental sync's re-read window, a retried page) is refused whole by
    the unique key, and then merged row by row.
    """
    with connection.cursor() as cursor:
        ids: list[int | None] = [None] * len(rows)
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [_EVENT_TABLE, len(rows)],
            )
            ids = [event_id for (event_id,) in cursor.fetchall()]
        try:
            with transaction.atomic():
                if with_ids:
                    columns = ("id", *EVENT_COLUMNS)
                    copied = [(event_id, *row) for event_id, row in zip(ids, rows, strict=True)]
                else:
                    columns, copied = EVENT_COLUMNS, rows
                _copy(cursor, _EVENT_TABLE, columns, copied)
        except IntegrityError:
            return _merge_postgresql(rows)
    return [(event_id, row[1]) for event_id, row in zip(ids, rows, strict=True)], []


def _merge_postgresql(rows: list[tuple]) -> tuple[list[tuple[int, str]], list[tuple]]:
    """COPY into a temporary stage, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING,
    then one join of the stage with the table for the stored rows whose content differs."""
    columns = ", ".join(EVENT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TABLE} ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {_EVENT_TABLE} WITH NO DATA"
        )
        _copy(cursor, _STAGE_TABLE, EVENT_COLUMNS, rows)
        cursor.execute(
            f"INSERT INTO {_EVENT_TABLE} ({columns}) "
            f"SELECT {columns} FROM {_STAGE_TABLE} "
            "ON CONFLICT (source_id, external_id) DO NOTHING RETURNING id, external_id"
        )
        inserted = cursor.fetchall()
        stored = ", ".join(f"e.{column}" for column in _STALE_COLUMNS)
        cursor.execute(
            f"SELECT {stored} FROM {_STAGE_TABLE} s JOIN {_EVENT_TABLE} e "
            "ON e.source_id = s.source_id AND e.external_id = s.external_id "
            "WHERE e.raw <> s.raw OR e.occurred_at <> s.occurred_at"
        )
        stale = cursor.fetchall()
        cursor.execute(f"DELETE FROM {_STAGE_TABLE}")
    return inserted, stale


def _insert_generic(rows: list[tuple]) -> list[tuple[int, str]]:
    """Multi-row INSERT ... RETURNING (SQLite)."""
    rows = _adapt_times(rows, EVENT_COLUMNS)
    columns = ", ".join(EVENT_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(EVENT_COLUMNS)) + ")"
    inserted: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            cursor.execute(
                f"INSERT INTO {_EVENT_TABLE} ({columns}) VALUES "
                + ", ".join([placeholders] * len(chunk))
                + " ON CONFLICT (source_id, external_id) DO NOTHING RETURNING id, external_id",
                [value for row in chunk for value in row],
            )
            inserted.extend(cursor.fetchall())
    return inserted


def _insert_downloads(source: Source, downloads: list[tuple[int, NormalizedEvent]]) -> None:
    """The download rows of newly inserted events (so none exists yet)."""
    rows = [
        (
            event_id,
            source.pk,
            event.occurred_at,
            text(event.download.user_uuid, 255),
            text(event.download.user_name, 255),
            text(event.download.file_type, 50),
            text(event.download.query_uuid, 255),
            text(event.download.query_context, 255),
        )
        for event_id, event in downloads
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, _DOWNLOAD_TABLE, DOWNLOAD_COLUMNS, rows)
        else:
            cursor.executemany(
                f"INSERT INTO {_DOWNLOAD_TABLE} ({', '.join(DOWNLOAD_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(DOWNLOAD_COLUMNS))})",
                _adapt_times(rows, DOWNLOAD_COLUMNS),
            )


def _copy(cursor, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _adapt_times(rows: list[tuple], columns: Sequence[str]) -> list[tuple]:
    """Datetimes as the ORM stores them, for databases without a native type (SQLite)."""
    adapt = connection.ops.adapt_datetimefield_value
    times = {i for i, column in enumerate(columns) if column in _TIME_COLUMNS}
    return [
        tuple(adapt(value) if i in times else value for i, value in enumerate(row)) for row in rows
    ]


def snapshot_save(*, source: Source, document: dict) -> UserActivitySnapshot:
    def number(key: str) -> float | None:
        value = document.get(key)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    def count(key: str) -> int | None:
        value = number(key)
        return None if value is None else int(value)

    return UserActivitySnapshot.objects.create(
        source=source,
        number_users=count("numberUsers"),
        number_viewers=count("numberViewers"),
        number_interactive_viewers=count("numberInteractiveViewers"),
        number_editors=count("numberEditors"),
        number_admins=count("numberAdmins"),
        weekly_querying_users_percent=number("numberWeeklyQueryingUsers"),
        raw=raw_json(document),
    )
