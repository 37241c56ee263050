"""Writing a page of normalized events: exactly once, decided by the database's unique key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from activity.models import ActivityEvent, Download, Source, UserActivitySnapshot
from activity.rollups import download_rollups_add, rollups_add
from activity.sync.records import NormalizedEvent
from activity.sync.values import text

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
    return (
        source_id,
        external_key(text(event.external_id, 10_000)),
        event.occurred_at,
        text(event.actor_id, 255),
        text(event.actor_name, 255),
        text(event.actor_email, 254).lower(),
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


@transaction.atomic
def events_upsert(*, source: Source, events: Sequence[NormalizedEvent]) -> int:
    """Insert the events the source does not have yet; return how many were new.

    Atomic (the stage table empties on commit), and usually called inside the page's
    transaction so the cursor moves with the rows. Duplicates (within the page or with stored
    events) are dropped by ``ON CONFLICT DO NOTHING`` on the unique (source, external_id).
    """
    if not events:
        return 0
    now = timezone.now()
    unique: dict[str, tuple[tuple, NormalizedEvent]] = {}
    for event in events:
        row = event_row(source.pk, event, now)
        unique.setdefault(row[1], (row, event))
    rows = [row for row, _ in unique.values()]
    if connection.vendor == "postgresql":
        inserted = _insert_postgresql(rows)
    else:
        inserted = _insert_generic(rows)
    new_rows = [unique[key][0] for _, key in inserted]
    rollups_add(
        (row[0], row[2], row[6], row[7], row[15], row[16], row[5], row[3]) for row in new_rows
    )
    downloads = [
        (event_id, unique[key][1]) for event_id, key in inserted if unique[key][1].download
    ]
    if downloads:
        _insert_downloads(source, downloads)
        download_rollups_add(
            (
                source.pk,
                event.occurred_at,
                text(event.download.file_type, 50),
                text(event.download.user_name, 255),
            )
            for _, event in downloads
        )
    return len(inserted)


def _insert_postgresql(rows: list[tuple]) -> list[tuple[int, str]]:
    """The rows, by COPY straight into the table, or merged if some are already stored.

    A backfill's pages are all new, and COPY is the fastest way in. A page that overlaps
    stored events (an incremental sync's re-read window, a retried page) is refused whole by
    the unique key, and then merged row by row.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [_EVENT_TABLE, len(rows)],
        )
        ids = [event_id for (event_id,) in cursor.fetchall()]
        try:
            with transaction.atomic():
                _copy(
                    cursor,
                    _EVENT_TABLE,
                    ("id", *EVENT_COLUMNS),
                    [(event_id, *row) for event_id, row in zip(ids, rows, strict=True)],
                )
        except IntegrityError:
            return _merge_postgresql(rows)
    return [(event_id, row[1]) for event_id, row in zip(ids, rows, strict=True)]


def _merge_postgresql(rows: list[tuple]) -> list[tuple[int, str]]:
    """COPY into a temporary stage, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
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
        cursor.execute(f"DELETE FROM {_STAGE_TABLE}")
    return inserted


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
