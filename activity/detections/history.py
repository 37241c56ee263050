"""The stored history rules read, through the event table's indexes: a person's events in a
span (the ``(person, occurred_at, id)`` index), failures in a span (the partial index on
failures), and per-hour counts aggregated in the database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour

from activity.detections.base import EventRow, event_rows
from activity.models import ActivityEvent, DailyActor, Download
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


def hourly_max(
    person_id: int, start: datetime, stop: datetime, category: str, *, scheduled: bool = True
) -> int:
    """The most events of ``category`` the person had in any clock hour of the span (without
    ``scheduled``, leaving out scheduled deliveries)."""
    events = ActivityEvent.objects.filter(
        person_id=person_id, category=category, occurred_at__gte=start, occurred_at__lt=stop
    )
    if not scheduled:
        events = events.exclude(download__query_context__istartswith=SCHEDULED)
    counts = (
        events.annotate(hour=TruncHour("occurred_at", tzinfo=UTC))
        .values("hour")
        .annotate(events=Count("id"))
        .values_list("events", flat=True)
        .order_by()
    )
    return max(counts, default=0)  # at most 720 hours


def scheduled_deliveries(event_ids: Iterable[int]) -> set[int]:
    """Which of the events are downloads a schedule made (Lightdash's ``scheduled...`` query
    contexts), not a person."""
    return set(
        Download.objects.filter(
            event_id__in=list(event_ids), query_context__istartswith=SCHEDULED
        ).values_list("event_id", flat=True)
    )


def active_hours(person_id: int, start: datetime, stop: datetime) -> dict[tuple[int, int], int]:
    """The clock hours in the span in which the person did anything, counted by (ISO weekday
    1-7, UTC hour 0-23): an hour of a thousand exports counts once, like an hour of one."""
    hours = (
        ActivityEvent.objects.filter(
            person_id=person_id, occurred_at__gte=start, occurred_at__lt=stop
        )
        .annotate(hour=TruncHour("occurred_at", tzinfo=UTC))
        .values_list("hour", flat=True)
        .distinct()
        .order_by()
    )
    return dict(Counter((hour.isoweekday(), hour.hour) for hour in hours))


def people_with_events(
    person_ids: Iterable[int], start: datetime, stop: datetime, *, at_least: int
) -> set[int]:
    """Which of the people had at least ``at_least`` events on the UTC days from ``start`` to
    ``stop`` (whole days), read from the daily rollup in one query: the people too new or too
    rare for a baseline cost no more than that."""
    rows = (
        DailyActor.objects.filter(
            person_id__in=list(person_ids), day__gte=start.date(), day__lt=stop.date()
        )
        .values("person_id")
        .annotate(events=Sum("events"))
        .filter(events__gte=at_least)
        .values_list("person_id", flat=True)
    )
    return set(rows)


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
