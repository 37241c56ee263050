"""What more than one page's reads share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

COUNT_LIMIT = 1000


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool


def capped_count(queryset: QuerySet, limit: int = COUNT_LIMIT) -> CappedCount:
    """Count at most ``limit + 1`` rows: exact when small, "more than limit" otherwise."""
    value = queryset.order_by()[: limit + 1].count()
    return CappedCount(min(value, limit), value > limit)


def first_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)
