"""The stored history rules read: a person's events in a span (the event table's ``(person,
occurred_at, id)`` index), failures in a span (the partial index on failures), and people's
habits from the rollups, whatever their number of events: their exports per hour
(``HourlyActor``) and the hours they were active in each day (``ActiveHours``, one row a day).
Each question is asked once for all the people of a batch."""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Q

from activity.detections.base import EventRow, event_rows
from activity.models import ActiveHours, ActivityEvent, Download, HourlyActor
from activity.vocabulary import Category, Outcome

# Lightdash's query contexts of scheduled deliveries: scheduledDelivery, scheduledChart...
SCHEDULED = "scheduled"


def person_events(
    person_id: int, start: datetime, stop: datetime, *, categories: Iterable[str] = ()
) -> list[EventRow]:
    """The person's events with ``start <= occurred_at < stop``, oldest first."""
    events = ActivityEvent.objects.filter(
        person_id=person_id, occurred_at__gte=start, occurred_at__lt=stop
    )
    if categories:
        events = events.filter(category__in=list(categories))
    return event_rows(events.order_by("occurred_at", "id"))


def failed_signins(start: datetime, stop: datetime, condition: Q) -> list[EventRow]:
    """Failed authentication events in the span matching ``condition``, oldest first."""
    events = ActivityEvent.objects.filter(
        condition,
        outcome=Outcome.FAILURE,
        category=Category.AUTHENTICATION,
        occurred_at__gte=start,
        occurred_at__lt=stop,
    )
    return event_rows(events.order_by("occurred_at", "id"))


def grown(fetch, rows: list[EventRow], gap: timedelta) -> list[EventRow]:
    """``rows`` with every stored row chained to them by gaps under ``gap``: ``fetch(start,
    stop)`` is asked for a wider span until no row lies within ``gap`` of its edges."""
    start, stop = rows[0].occurred_at, rows[-1].occurred_at
    while True:
        found = fetch(start - gap, stop + gap + timedelta(microseconds=1))
        if not found:
            return rows
        first, last = found[0].occurred_at, found[-1].occurred_at
        if first >= start and last <= stop:
            return found
        start, stop = min(start, first), max(stop, last)


def people_events(
    person_ids: Iterable[int], start: datetime, stop: datetime, *, categories: Iterable[str] = ()
) -> dict[int, list[EventRow]]:
    """``person_events`` of many people at once: ``person id -> rows``, oldest first."""
    events = ActivityEvent.objects.filter(
        person_id__among=person_ids, occurred_at__gte=start, occurred_at__lt=stop
    )
    if categories:
        events = events.filter(category__in=list(categories))
    found: dict[int, list[EventRow]] = {}
    for row in event_rows(events.order_by("occurred_at", "id")):
        found.setdefault(row.person_id, []).append(row)
    return found


def hourly_counts(
    hours: Iterable[tuple[int, datetime]], category: str, *, at_least: int = 1
) -> dict[tuple, int]:
    """``(person id, hour) -> events`` of ``category`` in those clock hours that had at least
    ``at_least``."""
    hours = set(hours)
    if not hours:
        return {}
    rows = HourlyActor.objects.filter(
        person_id__among={person_id for person_id, _ in hours},
        hour__gte=min(hour for _, hour in hours),
        hour__lte=max(hour for _, hour in hours),
        category=category,
        events__gte=at_least,
    ).values_list("person_id", "hour", "events")
    return {
        (person_id, hour): events for person_id, hour, events in rows if (person_id, hour) in hours
    }


def hourly_series(
    person_ids: Iterable[int], start: datetime, stop: datetime, category: str
) -> dict[int, list[tuple[datetime, int]]]:
    """``person id -> [(hour, events of category)]`` of the clock hours in the span in which
    they had any (at most 24 a day each)."""
    rows = (
        HourlyActor.objects.filter(
            person_id__among=person_ids, hour__gte=start, hour__lt=stop, category=category
        )
        .values_list("person_id", "hour", "events")
        .order_by()
    )
    found: dict[int, list[tuple[datetime, int]]] = {}
    for person_id, hour, events in rows:
        found.setdefault(person_id, []).append((hour, events))
    return found


def scheduled_deliveries(event_ids: Iterable[int]) -> set[int]:
    """Which of the events are downloads a schedule made (Lightdash's ``scheduled...`` query
    contexts), not a person."""
    return set(
        Download.objects.filter(
            event_id__in=list(event_ids), query_context__istartswith=SCHEDULED
        ).values_list("event_id", flat=True)
    )


def active_hours(
    person_ids: Iterable[int], days: Iterable[datetime], baseline_days: int, *, at_least: int = 1
) -> dict[datetime, dict[int, tuple[tuple[int, ...], int]]]:
    """For each of ``days`` (UTC midnights), ``person id -> (active hours at each hour of the
    day 0-23, active hours on weekends)`` over the ``baseline_days`` before it: the clock hours
    in which each person did anything, an hour of a thousand exports counting once, like an
    hour of one. Read from ``ActiveHours`` (one row per person and day, hours as bits), once
    for all the days; people with fewer than ``at_least`` active hours are left out.

    The rows (a month of hundreds of people: thousands) are summed here, each day's bits
    spread into 16-bit lanes of one integer (``_LANES``): a few integer operations a row,
    where the database evaluated an expression per hour for every row. A person's days are
    added up in one running sum, each window a difference of two of its sums."""
    person_ids, days = list(person_ids), sorted(days)
    if not person_ids or not days:
        return {day: {} for day in days}
    span = timedelta(days=baseline_days)
    windows = [(day, (day - span).date(), day.date()) for day in days]
    rows = (
        ActiveHours.objects.filter(
            person_id__among=person_ids, day__gte=windows[0][1], day__lt=windows[-1][2]
        )
        .values_list("person_id", "day", "hours")
        .order_by("person_id", "day")  # the index's order
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:  # plain rows: thousands, without a model's cost each
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    found: dict[datetime, dict[int, tuple[tuple[int, ...], int]]] = {day: {} for day in days}

    def person_done(person_id: int, on: list[date], lanes: list[int], weekend: list[int]) -> None:
        # Each window's sums as differences of the running sums (one pass, any number of days).
        for key, start, stop in windows:
            first, last = bisect_left(on, start), bisect_left(on, stop)
            by_hour = struct.unpack("<24H", (lanes[last] - lanes[first]).to_bytes(48, "little"))
            if sum(by_hour) >= at_least:
                found[key][person_id] = (by_hour, weekend[last] - weekend[first])

    low, middle, high = _LANES
    current, on, lanes, weekend = None, [], [0], [0]
    for person_id, day, hours in fetched:
        if person_id != current:
            if current is not None:
                person_done(current, on, lanes, weekend)
            current, on, lanes, weekend = person_id, [], [0], [0]
        on.append(day)
        lanes.append(
            lanes[-1] + (low[hours & 255] | middle[hours >> 8 & 255] | high[hours >> 16 & 255])
        )
        weekend.append(weekend[-1] + (hours.bit_count() if day.isoweekday() >= 6 else 0))
    if current is not None:
        person_done(current, on, lanes, weekend)
    return found


def _spread(byte: int, first_hour: int) -> int:
    """The bits of ``byte`` (hours ``first_hour`` on) each in its own 16-bit lane."""
    return sum(1 << 16 * (first_hour + bit) for bit in range(8) if byte >> bit & 1)


# Per byte of a day's hours (0-7, 8-15, 16-23): the byte's bits spread into 16-bit lanes. A
# lane counts up to 65,535 days, beyond any baseline.
_LANES = tuple(tuple(_spread(byte, 8 * part) for byte in range(256)) for part in range(3))


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
