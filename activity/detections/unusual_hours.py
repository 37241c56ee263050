"""Unusual hours: activity far outside the person's own usual hours, weekends included.

The baseline is the clock hours (UTC) in which the person did anything over the
``baseline_days`` before the day in question: an hour counts once however busy, so one burst
cannot make its hour usual. Their usual hours are the shortest stretch of the clock holding
``coverage`` of those active hours; an event at least ``hours_outside`` hours from that
stretch is unusual, and so is any weekend event of a person whose active hours fall on
weekends less than ``weekend_share`` of the time. People with fewer than
``min_baseline_hours`` active hours in the baseline are never judged (new people, rare
users), and a day needs ``min_events`` unusual events (a session, not one stray event). One
alert per person per UTC day, medium severity.

Most events fall near hours the person often works in: an event whose neighbourhood (the hours
closer than ``hours_outside``) holds more than ``1 - coverage`` of their active hours cannot be
unusual (the usual stretch must reach into it), so only the others cost a search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from itertools import accumulate
from operator import sub

from activity.detections import history
from activity.detections.base import (
    Context,
    EventRow,
    Finding,
    plural,
    span_text,
    threshold,
)
from activity.models import Person

NAME = "unusual_hours"
SEVERITY = "medium"
WEEKEND = (6, 7)  # ISO weekdays
HUMAN = Person.Kind.HUMAN


@dataclass(frozen=True)
class Settings:
    min_baseline_hours: int = threshold(
        50, help="Fewer active hours in the baseline: never judged."
    )
    baseline_days: int = threshold(30, maximum=365, help="Days of history behind the baseline.")
    coverage: float = threshold(
        0.9, minimum=0.5, maximum=1.0, help="Share of the baseline the usual hours hold."
    )
    hours_outside: int = threshold(3, maximum=12, help="How far outside the usual hours alerts.")
    weekend_share: float = threshold(
        0.02, minimum=0.0, maximum=1.0, help="Below this share of weekend work, weekends alert."
    )
    min_events: int = threshold(3, help="Unusual events in a day before an alert.")


@dataclass(frozen=True)
class Usual:
    start: int  # first usual hour
    length: int  # hours
    hours: int
    weekend_share: float

    def distance(self, hour: int) -> int:
        offset = (hour - self.start) % 24
        if offset < self.length:
            return 0
        return min(offset - self.length + 1, 24 - offset)

    @property
    def text(self) -> str:
        return f"{self.start:02d}:00 to {(self.start + self.length) % 24:02d}:00 UTC"


class Habits:
    """A person's active hours in the baseline, by hour of the day, judged by one rule's
    settings: kept by the worker for the day, so the work here is done once per person."""

    def __init__(self, by_hour: tuple[int, ...], weekend: int, settings: Settings) -> None:
        self.by_hour = by_hour  # 24
        self.weekend = weekend
        self.total = total = sum(by_hour)
        self.coverage = settings.coverage
        self.rare_weekends = (weekend / total if total else 0.0) < settings.weekend_share
        self._reach = range(1 - settings.hours_outside, settings.hours_outside)
        self._could_be_unusual: dict[int, bool] = {}

    def could_be_unusual(self, hour: int) -> bool:
        """False when the hours near ``hour`` (closer than hours_outside) hold too much for
        the usual stretch to miss. Only the other hours cost a search."""
        known = self._could_be_unusual.get(hour)
        if known is None:
            near = sum(self.by_hour[(hour + step) % 24] for step in self._reach)
            known = self._could_be_unusual[hour] = self.total - near >= self.coverage * self.total
        return known

    @property
    def weekend_share(self) -> float:
        return self.weekend / self.total if self.total else 0.0

    @cached_property
    def usual(self) -> Usual:
        return usual_hours(self, self.coverage)


def usual_hours(habits: Habits, coverage: float) -> Usual:
    """The shortest circular stretch of the clock holding ``coverage`` of the active hours
    (the earliest of those as short). A stretch that holds enough still does one hour longer,
    so the shortest length is found by halving; each length's 24 stretches are differences
    of running sums."""
    total = habits.total
    need = coverage * total
    running = list(accumulate(habits.by_hour * 2, initial=0))  # a stretch may run past midnight

    def held(length: int) -> list[int]:
        return list(map(sub, running[length : length + 24], running[:24]))

    shortest, longest = 1, 24
    while shortest < longest:
        middle = (shortest + longest) // 2
        if max(held(middle)) >= need:
            longest = middle
        else:
            shortest = middle + 1
    start = next(start for start, amount in enumerate(held(shortest)) if amount >= need)
    return Usual(start, shortest, total, habits.weekend_share)


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    by_day: dict[datetime, dict[int, list[EventRow]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        # Service accounts keep no hours; support staff alert on their own.
        if event.person_kind == HUMAN:
            by_day[history.day_start(event.occurred_at)][event.person_id].append(event)
    findings = []
    habits = _habits(by_day, settings, context)
    for day, page_rows in by_day.items():
        known = habits[day]
        flagged: dict[int, tuple[Usual, bool]] = {}
        for person_id, rows in page_rows.items():
            own = known[person_id]
            if own is None:
                continue
            weekend = own.rare_weekends and day.isoweekday() in WEEKEND
            odd = [row for row in rows if weekend or own.could_be_unusual(row.occurred_at.hour)]
            if not odd:
                continue
            usual = own.usual
            if weekend or any(
                usual.distance(row.occurred_at.hour) >= settings.hours_outside for row in odd
            ):
                flagged[person_id] = (usual, weekend)
        if not flagged:
            continue
        # The whole day of each flagged person, so the alert holds what earlier pages had.
        days_rows = history.people_events(flagged, day, day + timedelta(days=1))
        for person_id, (usual, weekend) in flagged.items():
            rows = [
                row
                for row in days_rows.get(person_id, [])
                if weekend or usual.distance(row.occurred_at.hour) >= settings.hours_outside
            ]
            if len(rows) >= settings.min_events:
                findings.append(_finding(person_id, day, rows, usual, weekend, settings, context))
    return findings


def _habits(
    people_by_day: dict[datetime, Iterable[int]], settings: Settings, context: Context
) -> dict[datetime, dict[int, Habits | None]]:
    """For each day, ``person id -> Habits`` over the baseline before it, or None for someone
    with too few active hours to judge. A day's baselines do not change with that day's
    events: kept by the worker process (the sync pages of the day) or the context (a
    backtest's batches), read from the database once, for all the days of a batch in one
    question."""
    scope = (
        f"{NAME}:{settings.baseline_days}:{settings.min_baseline_hours}:{settings.coverage}:"
        f"{settings.hours_outside}:{settings.weekend_share}"
    )
    known = {day: context.memo_for(f"{scope}:{day:%Y-%m-%d}") for day in people_by_day}
    missing = {
        day: [person_id for person_id in people if person_id not in known[day]]
        for day, people in people_by_day.items()
    }
    missing = {day: people for day, people in missing.items() if people}
    if missing:
        read = history.active_hours(
            missing, settings.baseline_days, at_least=settings.min_baseline_hours
        )
        for day, people in missing.items():
            for person_id in people:
                found = read[day].get(person_id)
                known[day][person_id] = found and Habits(*found, settings)
    return known


def _finding(
    person_id: int,
    day: datetime,
    rows: list[EventRow],
    usual: Usual,
    weekend: bool,
    settings: Settings,
    context: Context,
) -> Finding:
    when = "on a weekend, when they rarely work, " if weekend else ""
    return Finding(
        rule=NAME,
        severity=SEVERITY,
        group_key=f"person:{person_id}:{day:%Y-%m-%d}",
        person_id=person_id,
        events=tuple(rows),
        explanation=(
            f"{plural(len(rows), 'event')} by {context.label(person_id)} {when}"
            f"{span_text(rows[0].occurred_at, rows[-1].occurred_at)}; their usual hours "
            f"are {usual.text} (from {usual.hours} active hours over the previous "
            f"{settings.baseline_days} days)."
        ),
    )
