"""Keeping the daily rollups in step with the event table, inside the same transactions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection

from activity.models import (
    ActorCategory,
    ActorTotal,
    DailyActivity,
    DailyActor,
    DailyDownload,
    DailyDownloader,
    DownloaderTotal,
    WeeklyActor,
    WeeklyDownloader,
    WeeklyPeople,
)

_ACTIVITY_TABLE = DailyActivity._meta.db_table
_ACTOR_TABLE = DailyActor._meta.db_table
_WEEKLY_TABLE = WeeklyActor._meta.db_table
_WEEKLY_PEOPLE_TABLE = WeeklyPeople._meta.db_table
_TOTAL_TABLE = ActorTotal._meta.db_table
_CATEGORY_TABLE = ActorCategory._meta.db_table
_ACTIVITY_KEY = "day, source_id, action, object_type, category, outcome"


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def actor_key(email: str, actor_id: str) -> str:
    """How one person is recognised across vendors: the email, else the vendor's user id."""
    if email:
        return email
    return f"id:{actor_id}" if actor_id else ""


# What ``rollups_add`` counts of an event, after its source id: the event columns, in order.
COUNTED_COLUMNS = (
    "occurred_at",
    "action",
    "object_type",
    "category",
    "outcome",
    "actor_email",
    "actor_id",
)


def rollups_add(
    rows: Iterable[tuple[int, datetime, str, str, str, str, str, str]], *, sign: int = 1
) -> None:
    """Count ``(source_id, occurred_at, action, object_type, category, outcome, actor_email,
    actor_id)`` rows into the rollups (``sign=-1`` takes them out again, for purges). Call
    inside the writing transaction."""
    by_action: Counter[tuple[date, int, str, str, str, str]] = Counter()
    by_actor: Counter[tuple[date, int, str]] = Counter()
    by_week: Counter[tuple[date, str]] = Counter()
    by_total: Counter[tuple[str]] = Counter()
    by_category: Counter[tuple[str, str]] = Counter()
    for source_id, occurred_at, action, object_type, category, outcome, email, actor_id in rows:
        day = occurred_at.date()
        by_action[day, source_id, action, object_type, category, outcome] += sign
        key = actor_key(email, actor_id)
        if key:
            by_actor[day, source_id, key] += sign
            by_week[week_of(day), key] += sign
            by_total[(key,)] += sign
            by_category[key, category] += sign
    _upsert(_ACTIVITY_TABLE, _ACTIVITY_KEY, by_action)
    _upsert(_ACTOR_TABLE, "day, source_id, actor_key", by_actor)
    # A (week, person) row that appears or disappears is one more or one fewer person that week.
    people: Counter[tuple[date]] = Counter()
    for (week, key), events in _upsert(_WEEKLY_TABLE, "week, actor_key", by_week, returning=True):
        week = week if isinstance(week, date) else date.fromisoformat(week)  # SQLite: text
        if sign > 0 and events == by_week[week, key]:
            people[(week,)] += 1
        elif sign < 0 and events <= 0:
            people[(week,)] -= 1
    _upsert(_WEEKLY_PEOPLE_TABLE, "week", people, value="people")
    _upsert(_TOTAL_TABLE, "actor_key", by_total)
    _upsert(_CATEGORY_TABLE, "actor_key, category", by_category)


def rollups_reclassify(
    rows: Iterable[tuple[int, datetime, str, str, str, str, str, str, str, str]],
) -> None:
    """Move reclassified events between rollup rows: ``(source_id, occurred_at, action,
    object_type, actor_email, actor_id, old category, old outcome, new category, new
    outcome)``. Call inside the transaction that updates them."""
    by_action: Counter[tuple[date, int, str, str, str, str]] = Counter()
    by_category: Counter[tuple[str, str]] = Counter()
    for source_id, occurred_at, action, object_type, email, actor_id, *classes in rows:
        old_category, old_outcome, new_category, new_outcome = classes
        day = occurred_at.date()
        by_action[day, source_id, action, object_type, old_category, old_outcome] -= 1
        by_action[day, source_id, action, object_type, new_category, new_outcome] += 1
        key = actor_key(email, actor_id)
        if key:
            by_category[key, old_category] -= 1
            by_category[key, new_category] += 1
    _upsert(_ACTIVITY_TABLE, _ACTIVITY_KEY, _nonzero(by_action))
    _upsert(_CATEGORY_TABLE, "actor_key, category", _nonzero(by_category))


def _nonzero(counts: Counter) -> Counter:
    return Counter({key: n for key, n in counts.items() if n})


def download_rollups_add(rows: Iterable[tuple[int, datetime, str, str]], *, sign: int = 1) -> None:
    """Count ``(source_id, downloaded_at, file_type, user_name)`` rows into the download
    rollups (``sign=-1`` for purges). Call inside the writing transaction."""
    by_type: Counter[tuple[date, int, str]] = Counter()
    by_day: Counter[tuple[date, str]] = Counter()
    by_week: Counter[tuple[date, str]] = Counter()
    by_total: Counter[tuple[str]] = Counter()
    for source_id, downloaded_at, file_type, user_name in rows:
        day = downloaded_at.date()
        by_type[day, source_id, file_type] += sign
        by_day[day, user_name] += sign
        by_week[week_of(day), user_name] += sign
        by_total[(user_name,)] += sign
    _upsert(DailyDownload._meta.db_table, "day, source_id, file_type", by_type, "downloads")
    _upsert(DailyDownloader._meta.db_table, "day, user_name", by_day, "downloads")
    _upsert(WeeklyDownloader._meta.db_table, "week, user_name", by_week, "downloads")
    _upsert(DownloaderTotal._meta.db_table, "user_name", by_total, "downloads")


def _upsert(
    table: str, key_columns: str, counts: Counter, value: str = "events", *, returning=False
) -> list[tuple[tuple, int]]:
    """Add ``counts`` (signed) to ``table``; rows that fall to zero are removed. With
    ``returning``, returns each touched key with its new value."""
    if not counts:
        return []
    # Sorted keys: concurrent syncs lock rollup rows in one order, so they cannot deadlock.
    rows = [(*key, count) for key, count in sorted(counts.items())]
    upsert = (
        f"ON CONFLICT ({key_columns}) DO UPDATE SET {value} = {table}.{value} + excluded.{value}"
    )
    if returning:
        upsert += f" RETURNING {key_columns}, {value}"
    returned = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement for the page: the rows as column arrays, unnested in order.
            arrays = ", ".join(f"%s::{_sql_array(item)}" for item in rows[0])
            cursor.execute(
                f"INSERT INTO {table} ({key_columns}, {value}) "
                f"SELECT * FROM unnest({arrays}) {upsert}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            returned = cursor.fetchall() if returning else []
        elif returning:  # RETURNING needs one statement: a multi-row VALUES per chunk
            width = len(rows[0])
            for start in range(0, len(rows), 200):
                chunk = rows[start : start + 200]
                values = ", ".join([f"({', '.join(['%s'] * width)})"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} ({key_columns}, {value}) VALUES {values} {upsert}",
                    [item for row in chunk for item in row],
                )
                returned += cursor.fetchall()
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({key_columns}, {value}) "
                f"VALUES ({', '.join(['%s'] * len(rows[0]))}) {upsert}",
                rows,
            )
        if any(count < 0 for count in counts.values()):
            cursor.execute(f"DELETE FROM {table} WHERE {value} <= 0")
    return [(tuple(row[:-1]), row[-1]) for row in returned]


def _sql_array(item) -> str:
    """The PostgreSQL array type of a key column, from one of its values."""
    if isinstance(item, date):
        return "date[]"
    return "bigint[]" if isinstance(item, int) else "text[]"


def rollups_rebuild() -> None:
    """Recount every rollup from the event table (after a bulk load, or to repair)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_ACTIVITY_TABLE}")
        cursor.execute(f"DELETE FROM {_ACTOR_TABLE}")
        cursor.execute(f"DELETE FROM {_WEEKLY_TABLE}")
        cursor.execute(f"DELETE FROM {_WEEKLY_PEOPLE_TABLE}")
        cursor.execute(f"DELETE FROM {_TOTAL_TABLE}")
        cursor.execute(f"DELETE FROM {_CATEGORY_TABLE}")
        day = _utc_day_sql()
        cursor.execute(
            f"INSERT INTO {_ACTIVITY_TABLE} ({_ACTIVITY_KEY}, events) "
            f"SELECT {day}, source_id, action, object_type, category, outcome, count(*) "
            "FROM activity_activityevent GROUP BY 1, 2, 3, 4, 5, 6"
        )
        cursor.execute(
            f"INSERT INTO {_ACTOR_TABLE} (day, source_id, actor_key, events) "
            f"SELECT {day}, source_id, key, count(*) FROM ("
            f"SELECT occurred_at, source_id, {_ACTOR_KEY_SQL} AS key FROM activity_activityevent "
            "WHERE actor_email <> '' OR actor_id <> '') AS keyed GROUP BY 1, 2, 3"
        )
        cursor.execute(
            f"INSERT INTO {_WEEKLY_TABLE} (week, actor_key, events) "
            f"SELECT {_week_sql()}, actor_key, sum(events) FROM {_ACTOR_TABLE} GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {_WEEKLY_PEOPLE_TABLE} (week, people) "
            f"SELECT week, count(*) FROM {_WEEKLY_TABLE} GROUP BY week"
        )
        cursor.execute(
            f"INSERT INTO {_TOTAL_TABLE} (actor_key, events) "
            f"SELECT actor_key, sum(events) FROM {_WEEKLY_TABLE} GROUP BY actor_key"
        )
        cursor.execute(
            f"INSERT INTO {_CATEGORY_TABLE} (actor_key, category, events) "
            f"SELECT {_ACTOR_KEY_SQL}, category, count(*) FROM activity_activityevent "
            "WHERE actor_email <> '' OR actor_id <> '' GROUP BY 1, 2"
        )
        daily_download = DailyDownload._meta.db_table
        daily_downloader = DailyDownloader._meta.db_table
        weekly_downloader = WeeklyDownloader._meta.db_table
        downloader_total = DownloaderTotal._meta.db_table
        for table in (daily_download, daily_downloader, weekly_downloader, downloader_total):
            cursor.execute(f"DELETE FROM {table}")
        download_day = _utc_day_sql("downloaded_at")
        cursor.execute(
            f"INSERT INTO {daily_download} (day, source_id, file_type, downloads) "
            f"SELECT {download_day}, source_id, file_type, count(*) FROM activity_download "
            "GROUP BY 1, 2, 3"
        )
        cursor.execute(
            f"INSERT INTO {daily_downloader} (day, user_name, downloads) "
            f"SELECT {download_day}, user_name, count(*) FROM activity_download GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {weekly_downloader} (week, user_name, downloads) "
            f"SELECT {_week_sql()}, user_name, sum(downloads) FROM {daily_downloader} "
            "GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {downloader_total} (user_name, downloads) "
            f"SELECT user_name, sum(downloads) FROM {weekly_downloader} GROUP BY 1"
        )


# ``actor_key`` in SQL.
_ACTOR_KEY_SQL = "CASE WHEN actor_email <> '' THEN actor_email ELSE 'id:' || actor_id END"


def _utc_day_sql(column: str = "occurred_at") -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def week_sql() -> str:
    """The Monday of the ``day`` column's ISO week, in SQL."""
    return _week_sql()


def _week_sql() -> str:
    if connection.vendor == "postgresql":
        return "date_trunc('week', day)::date"
    return "date(day, '-6 days', 'weekday 1')"
