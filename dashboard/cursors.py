"""Keyset cursors over ``(time desc, id desc)``, signed so a forged one is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing

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


def keyset_page(
    queryset, *, cursor: Cursor | None, size: int, time_field: str, id_field: str
) -> KeysetPage:
    """One page newest first, with cursors for the next older and newer pages."""
    if cursor is None or cursor.direction == "older":
        if cursor:
            queryset = queryset.filter(**{f"{time_field}__lte": cursor.at}).exclude(
                **{time_field: cursor.at, f"{id_field}__gte": cursor.id}
            )
        rows = list(queryset.order_by(f"-{time_field}", f"-{id_field}")[: size + 1])
        has_more_older, has_newer = len(rows) > size, cursor is not None
        rows = rows[:size]
    else:
        queryset = queryset.filter(**{f"{time_field}__gte": cursor.at}).exclude(
            **{time_field: cursor.at, f"{id_field}__lte": cursor.id}
        )
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
