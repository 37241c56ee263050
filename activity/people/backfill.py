"""Linking stored events to persons after the fact: events stored before persons existed,
or imported without them. Committed batches by event id, each with its rollups."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connection

from activity.connectors import CONNECTORS
from activity.models import ActivityEvent, Person, Source
from activity.people.linking import page_persons
from activity.people.seen import page_check
from activity.rollups import hour_of, person_rollups_add
from activity.sql import array_literal
from activity.transactions import atomically

BATCH_SIZE = 5000
_COLUMNS = ("id", "source_id", "actor_id", "actor_email", "actor_name", "occurred_at", "category")


def events_link(
    *,
    source: Source | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Give every stored event without a person its person, in batches by id, each its own
    transaction with the people rollups; return how many were linked.

    Idempotent and resumable: only events without a person are read, so a run after a kill
    goes on where the last committed batch ended (``on_batch`` hears its last id and the
    running total)."""
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    events = ActivityEvent.objects.filter(person__isnull=True).order_by("id")
    if source is not None:
        events = events.filter(source=source)
    linked = last = 0
    while True:
        # Linked again, its persons from the database, if staff merged one of them meanwhile
        # (or the database broke a deadlock with them by undoing this batch).
        rows = atomically(functools.partial(_link_next, events, last, batch_size, vendor_of))
        if not rows:
            return linked
        linked += len(rows)
        last = rows[-1][0]
        if on_batch:
            on_batch(last, linked)


def _link_next(events, after: int, batch_size: int, vendor_of: dict[int, str]) -> list[tuple]:
    """The next batch of events after id ``after`` linked; its rows."""
    rows = list(events.filter(id__gt=after).values_list(*_COLUMNS, "raw")[:batch_size])
    if rows:
        _link_batch(rows, vendor_of)
    return rows


def _link_batch(rows: list[tuple], vendor_of: dict[int, str]) -> None:
    by_source: dict[int, list[tuple]] = {}
    for row in rows:
        by_source.setdefault(row[1], []).append(row)
    assignments: list[tuple[int, int]] = []
    by_day: Counter = Counter()
    by_category: Counter = Counter()
    by_hour: Counter = Counter()
    latest: dict[int, datetime] = {}
    for source_id, source_rows in by_source.items():
        connector = CONNECTORS[vendor_of[source_id]]
        persons = page_persons(
            source_id,
            (
                (actor_id, email, name, connector.actor_kind(_record(raw)), occurred_at)
                for _, _, actor_id, email, name, occurred_at, _, raw in source_rows
            ),
        )
        for (event_id, _, _, _, _, occurred_at, category, _), person_id in zip(
            source_rows, persons, strict=True
        ):
            assignments.append((event_id, person_id))
            by_day[occurred_at.astimezone(UTC).date(), source_id, person_id] += 1
            by_category[person_id, category] += 1
            by_hour[person_id, hour_of(occurred_at), category] += 1
            if person_id and (person_id not in latest or latest[person_id] < occurred_at):
                latest[person_id] = occurred_at
    # The persons locked in id order, as a merge locks its own first: a merge of one of them
    # has committed by the check, or waits for this batch (whose rollup rows it would move).
    list(Person.objects.select_for_update().filter(id__among=latest).order_by("id").values("id"))
    page_check(latest, None)
    _assign(assignments)
    person_rollups_add(by_day, by_category, by_hour=by_hour, last_seen=latest)


def _record(raw: str) -> dict:
    try:
        record = json.loads(raw)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _assign(assignments: list[tuple[int, int]]) -> None:
    table = ActivityEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET person_id = given.person_id "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS given(id, person_id) "
                f"WHERE {table}.id = given.id",
                [
                    array_literal(e for e, _ in assignments),
                    array_literal(p for _, p in assignments),
                ],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET person_id = %s WHERE id = %s",
                [(person_id, event_id) for event_id, person_id in assignments],
            )
