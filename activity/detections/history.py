"""The stored history rules read: a person's events in a span (the event table's ``(person,
occurred_at, id)`` index), failures in a span (the partial index on failures), and people's
habits from the rollups, whatever their number of events: their exports per hour
(``HourlyActor``) and the hours they were active in each day (``ActiveHours``, one row a day).
Each question is asked once for all the people of a batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import batched, pairwise

from django.db.models import CharField, F, Func, Q, StringAgg, Value

from activity.detections.base import EventRow, event_rows
from activity.models import (
    ActiveHours,
    ActivityEvent,
    Baseline,
    BaselineDay,
    Download,
    HourlyActor,
)
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
    people_by_day: Mapping[datetime, Iterable[int]], baseline_days: int, *, at_least: int = 1
) -> dict[datetime, dict[int, tuple[tuple[int, ...], int]]]:
    """For each day (a UTC midnight) and each of its people, ``person id -> (active hours at
    each hour of the day 0-23, active hours on weekends)`` over the ``baseline_days`` before
    it: the clock hours in which the person did anything, an hour of a thousand exports
    counting once, like an hour of one; people with fewer than ``at_least`` active hours are
    left out. Read from the day's prepared baselines (``Baseline``, one row per person) if
    they are, otherwise summed from ``ActiveHours``."""
    by_date = {day.date(): day for day in people_by_day}
    prepared = set(
        BaselineDay.objects.filter(day__in=list(by_date), days=baseline_days).values_list(
            "day", flat=True
        )
    )
    found: dict[datetime, dict[int, tuple[tuple[int, ...], int]]] = {
        day: {} for day in people_by_day
    }
    wanted = {by_date[day]: set(people_by_day[by_date[day]]) for day in prepared}
    if any(wanted.values()):
        rows = Baseline.objects.filter(
            day__in=prepared,
            days=baseline_days,
            person_id__among=set().union(*wanted.values()),
        ).values_list("day", "person_id", "by_hour", "weekend")
        for day, person_id, by_hour, weekend in rows:
            counts = Baseline.hours_of(by_hour)
            if person_id in wanted[by_date[day]] and sum(counts) >= at_least:
                found[by_date[day]][person_id] = (counts, weekend)
    summed = active_hours_summed(
        {day: people for day, people in people_by_day.items() if day.date() not in prepared},
        baseline_days,
        at_least=at_least,
    )
    found.update(summed)
    return found


def active_hours_summed(
    people_by_day: Mapping[datetime, Iterable[int]], baseline_days: int, *, at_least: int = 1
) -> dict[datetime, dict[int, tuple[tuple[int, ...], int]]]:
    """``active_hours`` summed from ``ActiveHours``, one row per person and day.

    The database sends strings, not rows: each row as 48 bits in hex (``_DayBits``), joined per
    person and stretch of days, the stretches cut at every window's ends so that each row is
    formatted once. A window's stretches, joined, are read as one integer, and a count of the
    bits under a mask (``_HOUR_MASKS``) adds up one hour of every day at once."""
    wanted = {day: set(people) for day, people in people_by_day.items()}
    found: dict[datetime, dict[int, tuple[tuple[int, ...], int]]] = {day: {} for day in wanted}
    span = timedelta(days=baseline_days)
    for some in batched(sorted(day for day, people in wanted.items() if people), WINDOWS_AT_ONCE):
        ends = sorted({day.date() for day in some} | {(day - span).date() for day in some})
        stretches = list(pairwise(ends))
        windows = [
            (
                day,
                [
                    n
                    for n, (start, stop) in enumerate(stretches)
                    if start >= (day - span).date() and stop <= day.date()
                ],
            )
            for day in some
        ]
        rows = (
            ActiveHours.objects.filter(
                person_id__among=set().union(*(wanted[day] for day in some)),
                day__gte=ends[0],
                day__lt=ends[-1],
            )
            .order_by()
            .values("person_id")
            .annotate(
                **{
                    f"stretch_{n}": StringAgg(
                        _DayBits(), Value(""), filter=Q(day__gte=start, day__lt=stop)
                    )
                    for n, (start, stop) in enumerate(stretches)
                }
            )
            .values_list("person_id", *(f"stretch_{n}" for n in range(len(stretches))))
        )
        for person_id, *texts in rows:
            for day, parts in windows:
                if person_id not in wanted[day]:
                    continue
                text = "".join(texts[n] for n in parts if texts[n])
                if text and (habits := _habits_unpacked(int(text, 16), at_least)):
                    found[day][person_id] = habits
    return found


# One statement asks for at most this many days' windows (a backtest's batch can span weeks).
WINDOWS_AT_ONCE = 8
# A day as 48 bits: its weekend hours (the same as its hours on a Saturday or Sunday, else
# none) above its hours. The masks reach over a year of days, the longest baseline.
_DAY_BITS = 48
_LONGEST = 366
_HOUR_MASKS = tuple(
    sum(1 << (_DAY_BITS * day + hour) for day in range(_LONGEST)) for hour in range(24)
)
_HOURS_MASK = sum(_HOUR_MASKS)
_WEEKEND_MASK = _HOURS_MASK << 24


def _habits_unpacked(packed: int, at_least: int) -> tuple[tuple[int, ...], int] | None:
    if (packed & _HOURS_MASK).bit_count() < at_least:
        return None
    by_hour = tuple((packed & mask).bit_count() for mask in _HOUR_MASKS)
    return by_hour, (packed & _WEEKEND_MASK).bit_count()


class _DayBits(Func):
    """An ``ActiveHours`` row as 12 hex digits: ``hours``, with a copy 24 bits above it if
    ``day`` is a Saturday or Sunday."""

    output_field = CharField()

    def __init__(self) -> None:
        super().__init__(F("hours"), F("day"))

    def as_sql(self, compiler, connection, **extra):
        (hours, hours_params), (day, day_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        if connection.vendor == "postgresql":
            # 2000-01-03 was a Monday (an integer sum: EXTRACT is numeric, and slow).
            weekend = f"({day} - DATE '2000-01-03') %% 7 >= 5"
            packed = f"{hours}::bigint | CASE WHEN {weekend} THEN {hours}::bigint << 24 ELSE 0 END"
            sql = f"lpad(to_hex({packed}), 12, '0')"
        else:
            weekend = f"strftime('%%w', {day}) IN ('0', '6')"
            packed = f"{hours} | CASE WHEN {weekend} THEN {hours} << 24 ELSE 0 END"
            sql = f"printf('%%012X', {packed})"
        return sql, (*hours_params, *day_params, *hours_params)


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
