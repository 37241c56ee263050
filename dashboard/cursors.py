"""Keyset cursors over ``(time desc, id desc)``, signed so a forged one is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

SALT = "dashboard.cursor"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int
    direction: str  # "older" or "newer"

    def encode(self) -> str:
        return signing.dumps(
            [self.at.isoformat(), self.id, self.direction], salt=SALT, compress=True
        )

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            at, key, direction = signing.loads(value, salt=SALT)
            cursor = cls(datetime.fromisoformat(at), int(key), direction)
        except (signing.BadSignature, ValueError, TypeError):
            raise BadCursor(
                "This page link is invalid or was altered. Start from the first page."
            ) from None
        if direction not in ("older", "newer") or cursor.at.tzinfo is None:
            raise BadCursor("This page link is invalid or was altered. Start from the first page.")
        return cursor


@dataclass
class KeysetPage:
    rows: list
    older: str | None
    newer: str | None
    # Set when a time-bounded search stopped before filling the page: everything newer than
    # this was searched, and ``older`` goes on from here.
    searched_to: datetime | None = None


def keyset_page(
    queryset, *, cursor: Cursor | None, size: int, time_field: str, id_field: str
) -> KeysetPage:
    """One page newest first, with cursors for the next older and newer pages."""
    if cursor is None or cursor.direction == "older":
        if cursor:
            queryset = queryset.filter(_row_compare(queryset, time_field, id_field, "<", cursor))
        rows = list(queryset.order_by(f"-{time_field}", f"-{id_field}")[: size + 1])
        has_more_older, has_newer = len(rows) > size, cursor is not None
        rows = rows[:size]
    else:
        queryset = queryset.filter(_row_compare(queryset, time_field, id_field, ">", cursor))
        rows = list(queryset.order_by(time_field, id_field)[: size + 1])
        has_newer, has_more_older = len(rows) > size, True
        rows = list(reversed(rows[:size]))
    if not rows:
        return KeysetPage([], None, None)

    def make(row, direction: str) -> str:
        return Cursor(getattr(row, time_field), getattr(row, id_field), direction).encode()

    return KeysetPage(
        rows,
        older=make(rows[-1], "older") if has_more_older else None,
        newer=make(rows[0], "newer") if has_newer else None,
    )


def row_before(queryset, cursor: Cursor, *, time_field: str, id_field: str) -> RawSQL:
    """The rows that sort before ``cursor`` newest first: ``(time, id) < (at, id)``."""
    return _row_compare(queryset, time_field, id_field, "<", cursor)


def _row_compare(queryset, time_field: str, id_field: str, op: str, cursor: Cursor) -> RawSQL:
    """``(time, id) < (%s, %s)``: one range condition that PostgreSQL reads straight off the
    (time, id) index, where the equivalent AND/OR (or the ORM's exclude()) makes it filter."""
    meta = queryset.model._meta
    table = connection.ops.quote_name(meta.db_table)
    time_column = connection.ops.quote_name(meta.get_field(time_field).column)
    id_column = connection.ops.quote_name(meta.get_field(id_field).column)
    # The time goes in as the ORM stores it (SQLite keeps datetimes as text).
    at = meta.get_field(time_field).get_db_prep_value(cursor.at, connection)
    return RawSQL(  # noqa: S611 (names from the model's meta, values as parameters)
        f"({table}.{time_column}, {table}.{id_column}) {op} (%s, %s)",
        (at, cursor.id),
        output_field=BooleanField(),
    )


def counted_paginator(object_list, per_page: int, *, count: int) -> Paginator:
    """A numbered paginator for a list whose length is already known (not counted twice)."""
    paginator = Paginator(object_list, per_page)
    paginator.__dict__["count"] = count  # Paginator.count is a cached_property
    return paginator
