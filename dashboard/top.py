"""The top of a ranking over a period, without counting everyone's period (the threshold
algorithm): candidates come busiest first by their all-time total, which bounds what any
period can hold, and are counted over the period in growing batches until the last of the
top beats the next candidate's all-time total."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.db.models import QuerySet

FIRST_BATCH = 50
MAX_CANDIDATES = 5000


def threshold_top(
    totals: QuerySet,
    count: Callable[[list[str] | None], Counter[str]],
    *,
    limit: int = 10,
    first_batch: int | None = None,
) -> list[tuple[str, int]]:
    """The ``limit`` largest period counts, ties by key.

    ``totals`` yields ``(key, all-time total)`` busiest first; ``count(keys)`` counts those
    keys over the period (``count(None)``: everyone's, the fallback when a distribution is so
    flat that the bound does not close within ``MAX_CANDIDATES``)."""
    best: list[tuple[str, int]] = []
    offset, size = 0, first_batch or FIRST_BATCH
    while offset < MAX_CANDIDATES:
        batch = list(totals[offset : offset + size])
        if not batch:
            return best
        best = _top([*best, *count([key for key, _ in batch]).items()], limit)
        bound = batch[-1][1]  # nobody after this batch had more, ever
        if len(best) == limit and best[-1][1] > bound:
            return best
        offset, size = offset + size, size * 4
    return _top(list(count(None).items()), limit)


def _top(items: list[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    return sorted((item for item in items if item[1] > 0), key=lambda i: (-i[1], i[0]))[:limit]
