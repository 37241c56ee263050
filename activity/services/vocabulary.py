"""Writes of the vocabulary: classifying stored events again after a mapping changes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

from activity.connectors import CONNECTORS
from activity.models import ActivityEvent, Source
from activity.rollups import rollups_reclassify

BATCH_SIZE = 5000
_FIELDS = (
    "id",
    "source_id",
    "occurred_at",
    "action",
    "object_type",
    "person_id",
    "category",
    "outcome",
    "raw",
)


def events_reclassify(
    *,
    source: Source | None = None,
    batch_size: int = BATCH_SIZE,
    after_id: int = 0,
    on_batch: Callable[[int, int, int], None] | None = None,
) -> tuple[int, int]:
    """Recompute every stored event's category and outcome from its connector's mapping, in
    batches by id, each its own transaction with its rollups; return (read, changed).

    Idempotent (an event already right is not written) and resumable: a batch is all or
    nothing, and ``after_id`` skips what an interrupted run finished (``on_batch`` hears the
    last id of each committed batch, with the running totals)."""
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    events = ActivityEvent.objects.order_by("id")
    if source is not None:
        events = events.filter(source=source)
    read = changed = 0
    last = after_id
    while True:
        with transaction.atomic():
            rows = list(events.filter(id__gt=last).values_list(*_FIELDS)[:batch_size])
            if not rows:
                return read, changed
            moved = _reclassified(rows, vendor_of)
            by_class: dict[tuple[str, str], list[int]] = defaultdict(list)
            for row in moved:
                by_class[row[-2], row[-1]].append(row[0])
            for (category, outcome), ids in by_class.items():
                ActivityEvent.objects.filter(id__in=ids).update(category=category, outcome=outcome)
            rollups_reclassify(row[1:] for row in moved)
        read += len(rows)
        changed += len(moved)
        last = rows[-1][0]
        if on_batch:
            on_batch(last, read, changed)


def _reclassified(rows: list[tuple], vendor_of: dict[int, str]) -> list[tuple]:
    """``(id, source_id, occurred_at, action, object_type, person_id, old
    category, old outcome, new category, new outcome)`` for the rows whose class changes."""
    moved = []
    for *columns, old_cat, old_out, raw in rows:
        source_id, action = columns[1], columns[3]
        try:
            record = json.loads(raw)
        except ValueError:
            record = {}
        new_cat, new_out = CONNECTORS[vendor_of[source_id]].classify(
            action, record if isinstance(record, dict) else {}
        )
        if (new_cat, new_out) != (old_cat, old_out):
            moved.append((*columns, old_cat, old_out, str(new_cat), str(new_out)))
    return moved
