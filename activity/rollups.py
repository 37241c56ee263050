"""Keeping the daily rollups in step with the event table, inside the same transactions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection

from activity.models import DailyActivity, DailyActor

_ACTIVITY_TABLE = DailyActivity._meta.db_table
_ACTOR_TABLE = DailyActor._meta.db_table


def actor_key(email: str, actor_id: str) -> str:
    """How one person is recognised across vendors: the email, else the vendor's user id."""
    if email:
        return email
    return f"id:{actor_id}" if actor_id else ""


def rollups_add(rows: Iterable[tuple[int, datetime, str, str, str]], *, sign: int = 1) -> None:
    """Count ``(source_id, occurred_at, action, actor_email, actor_id)`` rows into the rollups
    (``sign=-1`` takes them out again, for purges). Call inside the writing transaction."""
    by_action: Counter[tuple[date, int, str]] = Counter()
    by_actor: Counter[tuple[date, int, str]] = Counter()
    for source_id, occurred_at, action, email, actor_id in rows:
        day = occurred_at.date()
        by_action[day, source_id, action] += 1
        key = actor_key(email, actor_id)
        if key:
            by_actor[day, source_id, key] += 1
    _upsert(_ACTIVITY_TABLE, "action", by_action, sign)
    _upsert(_ACTOR_TABLE, "actor_key", by_actor, sign)


def _upsert(table: str, column: str, counts: Counter, sign: int) -> None:
    if not counts:
        return
    # Sorted keys: concurrent syncs lock rollup rows in one order, so they cannot deadlock.
    rows = [(*key, sign * count) for key, count in sorted(counts.items())]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (day, source_id, {column}, events) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT (day, source_id, {column}) "
            f"DO UPDATE SET events = {table}.events + excluded.events",
            rows,
        )
        if sign < 0:
            cursor.execute(f"DELETE FROM {table} WHERE events <= 0")


def rollups_rebuild() -> None:
    """Recount every rollup from the event table (after a bulk load, or to repair)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_ACTIVITY_TABLE}")
        cursor.execute(f"DELETE FROM {_ACTOR_TABLE}")
        day = _utc_day_sql()
        cursor.execute(
            f"INSERT INTO {_ACTIVITY_TABLE} (day, source_id, action, events) "
            f"SELECT {day}, source_id, action, count(*) FROM activity_activityevent "
            f"GROUP BY 1, 2, 3"
        )
        cursor.execute(
            f"INSERT INTO {_ACTOR_TABLE} (day, source_id, actor_key, events) "
            f"SELECT {day}, source_id, key, count(*) FROM ("
            "SELECT occurred_at, source_id, CASE WHEN actor_email <> '' THEN actor_email "
            "ELSE 'id:' || actor_id END AS key FROM activity_activityevent "
            "WHERE actor_email <> '' OR actor_id <> '') AS keyed GROUP BY 1, 2, 3"
        )


def _utc_day_sql() -> str:
    if connection.vendor == "postgresql":
        return "(occurred_at AT TIME ZONE 'UTC')::date"
    return "date(occurred_at)"
