"""Keeping the daily rollups in step with the event table, inside the same transactions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from activity.models import (
    ActiveHours,
    ActivityEvent,
    ActorCategory,
    ActorTotal,
    DailyActivity,
    DailyActor,
    DailyDownload,
    DailyDownloader,
    DownloaderTotal,
    HourlyActor,
    Person,
    WeeklyActor,
    WeeklyDownloader,
    WeeklyPeople,
)
from activity.sql import array_literal
from activity.vocabulary import Category

_ACTIVITY_TABLE = DailyActivity._meta.db_table
_ACTOR_TABLE = DailyActor._meta.db_table
_WEEKLY_TABLE = WeeklyActor._meta.db_table
_WEEKLY_PEOPLE_TABLE = WeeklyPeople._meta.db_table
_TOTAL_TABLE = ActorTotal._meta.db_table
_CATEGORY_TABLE = ActorCategory._meta.db_table
_HOURLY_TABLE = HourlyActor._meta.db_table
_HOURLY_KEY = "person_id, hour, category"
_ACTIVE_HOURS_TABLE = ActiveHours._meta.db_table
_PERSON_TABLE = Person._meta.db_table
_ACTIVITY_KEY = "day, source_id, action, object_type, category, outcome"


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def hour_of(moment: datetime) -> datetime:
    """The UTC clock hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# What ``rollups_add`` counts of an event, after its source id: the event columns, in order.
COUNTED_COLUMNS = (
    "occurred_at",
    "action",
    "object_type",
    "category",
    "outcome",
    "person_id",
)


def rollups_add(
    rows: Iterable[tuple[int, datetime, str, str, str, str, int | None]], *, sign: int = 1
) -> None:
    """Count ``(source_id, occurred_at, action, object_type, category, outcome, person_id)``
    rows into the rollups (``sign=-1`` takes them out again, for purges). Call inside the
    writing transaction."""
    by_action: Counter[tuple[date, int, str, str, str, str]] = Counter()
    by_person: Counter[tuple[date, int, int]] = Counter()
    by_category: Counter[tuple[int, str]] = Counter()
    by_hour: Counter[tuple[int, datetime, str]] = Counter()
    latest: dict[int, datetime] = {}
    for source_id, occurred_at, action, object_type, category, outcome, person_id in rows:
        day = occurred_at.date()
        by_action[day, source_id, action, object_type, category, outcome] += sign
        if person_id:
            by_person[day, source_id, person_id] += sign
            by_category[person_id, category] += sign
            by_hour[person_id, hour_of(occurred_at), category] += sign
            if sign > 0 and (person_id not in latest or latest[person_id] < occurred_at):
                latest[person_id] = occurred_at
    person_rollups_add(
        by_person, by_category, by_hour=by_hour, activity=by_action, last_seen=latest
    )


def person_rollups_add(
    by_day: Counter[tuple[date, int, int]],
    by_category: Counter[tuple[int, str]],
    *,
    by_hour: Counter[tuple[int, datetime, str]],
    active: Counter[tuple[int, date]] | None = None,
    activity: Counter | None = None,
    last_seen: dict[int, datetime] | None = None,
) -> None:
    """Add signed counts of events per (day, source, person), per (person, category) and per
    (person, UTC hour, category) to every rollup that counts people (exports only by hour),
    set the hours of ``by_hour``'s new events and ``active``'s bits in the people's active
    hours, add ``activity`` to the daily activity rollup, and move each person's last seen up
    to ``last_seen``."""
    by_week: Counter[tuple[date, int]] = Counter()
    by_total: Counter[tuple[int]] = Counter()
    for (day, _, person_id), events in by_day.items():
        by_week[week_of(day), person_id] += events
        by_total[(person_id,)] += events
    weekly = _Counts(_WEEKLY_TABLE, "week, person_id", _nonzero(by_week))
    active = Counter(active or {})  # bits to set
    for (person_id, hour, _), events in by_hour.items():
        if events > 0:
            active[person_id, hour.astimezone(UTC).date()] |= 1 << hour.astimezone(UTC).hour
    # Days that may have lost an hour (events purged, or moved to another person).
    fewer = {(person_id, day) for (day, _, person_id), events in by_day.items() if events < 0}
    _add(
        _Counts(_ACTIVITY_TABLE, _ACTIVITY_KEY, activity or Counter()),
        _Counts(_ACTOR_TABLE, "day, source_id, person_id", _nonzero(by_day)),
        weekly,
        _Counts(_TOTAL_TABLE, "person_id", _nonzero(by_total)),
        _Counts(_CATEGORY_TABLE, "person_id, category", _nonzero(by_category)),
        _Counts(_HOURLY_TABLE, _HOURLY_KEY, _exports(by_hour)),
        _Counts(_ACTIVE_HOURS_TABLE, "person_id, day", active, "hours", combine="|"),
        people_of=weekly,
        last_seen=last_seen or {},
    )
    if fewer:
        _active_hours_recount(fewer)


def _exports(by_hour: Counter[tuple[int, datetime, str]]) -> Counter:
    """The hourly rollup counts exports only (its one reader is the bulk export rule)."""
    return Counter({key: n for key, n in by_hour.items() if n and key[2] == Category.EXPORT})


def _active_hours_recount(days: set[tuple[int, date]]) -> None:
    """Set the active hours of those (person, day) again from their events (after events
    left them: purged, moved to another person); rare, and read through the person index."""
    masks = dict.fromkeys(days, 0)
    start = datetime.combine(min(day for _, day in days), datetime.min.time(), UTC)
    stop = datetime.combine(max(day for _, day in days), datetime.min.time(), UTC)
    times = ActivityEvent.objects.filter(
        person_id__in={person_id for person_id, _ in days},
        occurred_at__gte=start,
        occurred_at__lt=stop + timedelta(days=1),
    ).values_list("person_id", "occurred_at")
    for person_id, moment in times:
        moment = moment.astimezone(UTC)
        key = (person_id, moment.date())
        if key in masks:
            masks[key] |= 1 << moment.hour
    empty = [key for key, mask in masks.items() if not mask]
    for person_id, day in empty:
        ActiveHours.objects.filter(person_id=person_id, day=day).delete()
    ActiveHours.objects.bulk_create(
        [ActiveHours(person_id=p, day=d, hours=mask) for (p, d), mask in masks.items() if mask],
        update_conflicts=True,
        unique_fields=["person", "day"],
        update_fields=["hours"],
    )


def rollups_reclassify(
    rows: Iterable[tuple[int, datetime, str, str, int | None, str, str, str, str]],
) -> None:
    """Move reclassified events between rollup rows: ``(source_id, occurred_at, action,
    object_type, person_id, old category, old outcome, new category, new outcome)``. Call
    inside the transaction that updates them."""
    by_action: Counter[tuple[date, int, str, str, str, str]] = Counter()
    by_category: Counter[tuple[int, str]] = Counter()
    by_hour: Counter[tuple[int, datetime, str]] = Counter()
    for source_id, occurred_at, action, object_type, person_id, *classes in rows:
        old_category, old_outcome, new_category, new_outcome = classes
        day = occurred_at.date()
        by_action[day, source_id, action, object_type, old_category, old_outcome] -= 1
        by_action[day, source_id, action, object_type, new_category, new_outcome] += 1
        if person_id:
            by_category[person_id, old_category] -= 1
            by_category[person_id, new_category] += 1
            by_hour[person_id, hour_of(occurred_at), old_category] -= 1
            by_hour[person_id, hour_of(occurred_at), new_category] += 1
    _add(
        _Counts(_ACTIVITY_TABLE, _ACTIVITY_KEY, _nonzero(by_action)),
        _Counts(_CATEGORY_TABLE, "person_id, category", _nonzero(by_category)),
        _Counts(_HOURLY_TABLE, _HOURLY_KEY, _exports(by_hour)),
    )


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
    _add(
        _Counts(DailyDownload._meta.db_table, "day, source_id, file_type", by_type, "downloads"),
        _Counts(DailyDownloader._meta.db_table, "day, user_name", by_day, "downloads"),
        _Counts(WeeklyDownloader._meta.db_table, "week, user_name", by_week, "downloads"),
        _Counts(DownloaderTotal._meta.db_table, "user_name", by_total, "downloads"),
    )


@dataclass(frozen=True)
class _Counts:
    """Signed counts to add to one rollup table, by its key columns."""

    table: str
    key_columns: str
    counts: Counter
    value: str = "events"
    combine: str = "+"  # how a new value meets the stored one: added, or bits set ("|")

    def rows(self) -> list[tuple]:
        # Sorted keys: concurrent syncs lock rollup rows in one order, so they cannot deadlock.
        return [(*key, count) for key, count in sorted(self.counts.items())]

    def on_conflict(self) -> str:
        return (
            f"ON CONFLICT ({self.key_columns}) "
            f"DO UPDATE SET {self.value} = "
            f"{self.table}.{self.value} {self.combine} excluded.{self.value}"
        )


def _add(
    *tables: _Counts, people_of: _Counts | None = None, last_seen: dict[int, datetime] | None = None
) -> None:
    """Add each table's counts; rows that fall to zero are removed. ``people_of`` (the weekly
    person rows) also counts into WeeklyPeople the rows that appear or disappear;
    ``last_seen`` moves persons' last seen up (never down).

    Person rows are locked here only, in one statement on PostgreSQL, in id order: concurrent
    syncs that share persons wait for each other instead of deadlocking."""
    tables = tuple(counts for counts in tables if counts.counts)
    if not tables and not last_seen:
        return
    if connection.vendor == "postgresql":
        _add_postgresql(tables, people_of, last_seen or {})
    else:
        for counts in tables:
            returned = _add_generic(counts, returning=counts is people_of)
            if counts is people_of:
                _add_generic(_people_counts(counts, returned))
        _last_seen_generic(last_seen or {})
    if any(n < 0 for counts in tables for n in counts.counts.values()):
        with connection.cursor() as cursor:
            for table in {counts.table for counts in tables}:
                cursor.execute(f"DELETE FROM {table} WHERE {_value_of(tables, table)} <= 0")
            if people_of in tables:
                cursor.execute(f"DELETE FROM {_WEEKLY_PEOPLE_TABLE} WHERE people <= 0")


def _value_of(tables: tuple[_Counts, ...], table: str) -> str:
    return next(counts.value for counts in tables if counts.table == table)


def _add_postgresql(
    tables: tuple[_Counts, ...], people_of: _Counts | None, last_seen: dict[int, datetime]
) -> None:
    """One statement for the page, whatever the number of rollups: each table's rows as
    column arrays, unnested in order, inserted by its own data-modifying CTE."""
    parts: list[str] = []
    params: list[list] = []
    if last_seen:
        # An upsert whose sorted input locks the persons in id order; it always meets the
        # existing row, so the placeholder values of the insert are never written.
        ids = sorted(last_seen)
        params += [array_literal(ids), array_literal(last_seen[person_id] for person_id in ids)]
        parts.append(
            f"seen AS (INSERT INTO {_PERSON_TABLE} (id, display_name, primary_email, status, "
            "kind, created_at, last_seen_at) SELECT id, '', '', 'unknown', 'human', now(), last "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS given(id, last) ORDER BY id "
            "ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at "
            f"WHERE {_PERSON_TABLE}.last_seen_at IS NULL "
            f"OR {_PERSON_TABLE}.last_seen_at < excluded.last_seen_at)"
        )
    for n, counts in enumerate(tables):
        rows = counts.rows()
        columns = f"{counts.key_columns}, {counts.value}"
        arrays = ", ".join(f"%s::{_sql_array(item)}" for item in rows[0])
        params += [array_literal(column) for column in zip(*rows, strict=True)]
        parts.append(f"rows{n} ({columns}) AS (SELECT * FROM unnest({arrays}))")
        returning = f" RETURNING {columns}" if counts is people_of else ""
        parts.append(
            f"added{n} AS (INSERT INTO {counts.table} ({columns}) "
            f"SELECT * FROM rows{n} {counts.on_conflict()}{returning})"
        )
        if counts is people_of:
            # A row whose new count is what was just added is new; one at zero or below is gone.
            parts.append(
                f"people AS (INSERT INTO {_WEEKLY_PEOPLE_TABLE} (week, people) "
                "SELECT week, people FROM (SELECT week, sum(CASE "
                "WHEN a.events = r.events AND r.events > 0 THEN 1 "
                "WHEN a.events <= 0 AND r.events < 0 THEN -1 ELSE 0 END) AS people "
                f"FROM added{n} a JOIN rows{n} r USING (week, person_id) GROUP BY week) "
                "AS changed WHERE people <> 0 ORDER BY week "
                f"{_Counts(_WEEKLY_PEOPLE_TABLE, 'week', Counter(), 'people').on_conflict()})"
            )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT 1", params)


def _last_seen_generic(last_seen: dict[int, datetime]) -> None:
    if not last_seen:
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {_PERSON_TABLE} SET last_seen_at = %s "
            "WHERE id = %s AND (last_seen_at IS NULL OR last_seen_at < %s)",
            [
                (adapt(moment), person_id, adapt(moment))
                for person_id, moment in sorted(last_seen.items())
            ],
        )


def _people_counts(weekly: _Counts, returned: list[tuple]) -> _Counts:
    """The weeks' person counts that change with ``weekly``'s rows (see ``_add``)."""
    people: Counter[tuple[date]] = Counter()
    for *key, events in returned:
        week = key[0] if isinstance(key[0], date) else date.fromisoformat(key[0])  # SQLite
        added = weekly.counts[week, key[1]]
        if added > 0 and events == added:
            people[(week,)] += 1
        elif added < 0 and events <= 0:
            people[(week,)] -= 1
    return _Counts(_WEEKLY_PEOPLE_TABLE, "week", _nonzero(people), "people")


def _add_generic(counts: _Counts, *, returning: bool = False) -> list[tuple]:
    """Upsert ``counts`` row by row (SQLite); with ``returning``, each touched row's key and
    new value."""
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        tuple(adapt(item) if isinstance(item, datetime) else item for item in row)
        for row in counts.rows()
    ]
    if not rows:
        return []
    upsert = counts.on_conflict()
    width = len(rows[0])
    with connection.cursor() as cursor:
        if not returning:
            cursor.executemany(
                f"INSERT INTO {counts.table} ({counts.key_columns}, {counts.value}) "
                f"VALUES ({', '.join(['%s'] * width)}) {upsert}",
                rows,
            )
            return []
        returned = []
        for start in range(0, len(rows), 200):  # RETURNING needs one statement per chunk
            chunk = rows[start : start + 200]
            values = ", ".join([f"({', '.join(['%s'] * width)})"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {counts.table} ({counts.key_columns}, {counts.value}) "
                f"VALUES {values} {upsert} RETURNING {counts.key_columns}, {counts.value}",
                [item for row in chunk for item in row],
            )
            returned += cursor.fetchall()
    return returned


def _sql_array(item) -> str:
    """The PostgreSQL array type of a key column, from one of its values."""
    if isinstance(item, datetime):
        return "timestamptz[]"
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
        cursor.execute(f"DELETE FROM {_HOURLY_TABLE}")
        cursor.execute(f"DELETE FROM {_ACTIVE_HOURS_TABLE}")
        day = _utc_day_sql()
        cursor.execute(
            f"INSERT INTO {_ACTIVITY_TABLE} ({_ACTIVITY_KEY}, events) "
            f"SELECT {day}, source_id, action, object_type, category, outcome, count(*) "
            "FROM activity_activityevent GROUP BY 1, 2, 3, 4, 5, 6"
        )
        cursor.execute(
            f"INSERT INTO {_ACTOR_TABLE} (day, source_id, person_id, events) "
            f"SELECT {day}, source_id, person_id, count(*) FROM activity_activityevent "
            "WHERE person_id IS NOT NULL GROUP BY 1, 2, 3"
        )
        cursor.execute(
            f"INSERT INTO {_WEEKLY_TABLE} (week, person_id, events) "
            f"SELECT {_week_sql()}, person_id, sum(events) FROM {_ACTOR_TABLE} GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {_WEEKLY_PEOPLE_TABLE} (week, people) "
            f"SELECT week, count(*) FROM {_WEEKLY_TABLE} GROUP BY week"
        )
        cursor.execute(
            f"INSERT INTO {_TOTAL_TABLE} (person_id, events) "
            f"SELECT person_id, sum(events) FROM {_WEEKLY_TABLE} GROUP BY person_id"
        )
        cursor.execute(
            f"INSERT INTO {_CATEGORY_TABLE} (person_id, category, events) "
            "SELECT person_id, category, count(*) FROM activity_activityevent "
            "WHERE person_id IS NOT NULL GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {_HOURLY_TABLE} ({_HOURLY_KEY}, events) "
            f"SELECT person_id, {utc_hour_sql()}, category, count(*) "
            "FROM activity_activityevent WHERE person_id IS NOT NULL AND category = 'export' "
            "GROUP BY 1, 2, 3"
        )
        cursor.execute(active_hours_from_events_sql())
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


def _utc_day_sql(column: str = "occurred_at") -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def utc_hour_sql(column: str = "occurred_at") -> str:
    """The UTC clock hour of a timestamp column, in SQL (as Django stores it on SQLite)."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"strftime('%Y-%m-%d %H:00:00', {column})"


def active_hours_from_events_sql() -> str:
    """Fill ``ActiveHours`` from the events (the sum of distinct powers of two is their
    bitwise or, on both databases)."""
    if connection.vendor == "postgresql":
        day = "(occurred_at AT TIME ZONE 'UTC')::date"
        bit = "(1 << extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int)"
    else:
        day = "date(occurred_at)"
        bit = "(1 << CAST(strftime('%H', occurred_at) AS INTEGER))"
    return (
        f"INSERT INTO {_ACTIVE_HOURS_TABLE} (person_id, day, hours) "
        f"SELECT person_id, {day}, sum(DISTINCT {bit}) FROM activity_activityevent "
        "WHERE person_id IS NOT NULL GROUP BY 1, 2"
    )


def week_sql() -> str:
    """The Monday of the ``day`` column's ISO week, in SQL."""
    return _week_sql()


def _week_sql() -> str:
    if connection.vendor == "postgresql":
        return "date_trunc('week', day)::date"
    return "date(day, '-6 days', 'weekday 1')"
