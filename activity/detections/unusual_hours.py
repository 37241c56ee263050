"""Unusual hours: activity far outside the person's own usual hours, weekends included.

The baseline is the clock hours (UTC) in which the person did anything over the
``baseline_days`` before the day in question: an hour counts once however busy, so one burst
cannot make its hour usual. Their usual hours are the shortest stretch of the clock holding
``coverage`` of those active hours; an event at least ``hours_outside`` hours from that
stretch is unusual, and so is any weekend event of a person whose active hours fall on
weekends less than ``weekend_share`` of the time. People with fewer than
``min_baseline_hours`` active hours in the baseline are never judged (new people, rare
users). One alert per person per UTC day, medium severity."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

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


def usual_hours(counts: dict[tuple[int, int], int], coverage: float) -> Usual:
    """The shortest circular stretch of the clock holding ``coverage`` of the active hours."""
    by_hour = [0] * 24
    for (_, hour), hours in counts.items():
        by_hour[hour] += hours
    total = sum(by_hour)
    weekend = sum(hours for (weekday, _), hours in counts.items() if weekday in WEEKEND)
    need = coverage * total
    for length in range(1, 25):
        for start in range(24):
            if sum(by_hour[(start + i) % 24] for i in range(length)) >= need:
                return Usual(start, length, total, weekend / total if total else 0.0)
    return Usual(0, 24, total, weekend / total if total else 0.0)


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    days: dict[tuple[int, datetime], None] = defaultdict(lambda: None)
    people = context.people(event.person_id for event in events)
    for event in events:
        # Service accounts keep no hours; support staff alert on their own.
        if event.person_id is not None and people.get(event.person_id, ("",))[0] == HUMAN:
            days[event.person_id, history.day_start(event.occurred_at)]
    judged: dict[datetime, set[int]] = {}
    for day in {day for _, day in days}:
        # Events bound active hours: fewer events than the minimum, fewer hours.
        judged[day] = history.people_with_events(
            {person_id for person_id, other in days if other == day},
            day - timedelta(days=settings.baseline_days),
            day,
            at_least=settings.min_baseline_hours,
        )
    findings = []
    for person_id, day in days:
        if person_id not in judged[day]:
            continue
        baseline_start = day - timedelta(days=settings.baseline_days)
        counts = history.active_hours(person_id, baseline_start, day)
        if sum(counts.values()) < settings.min_baseline_hours:
            continue
        usual = usual_hours(counts, settings.coverage)
        weekend = day.isoweekday() in WEEKEND and usual.weekend_share < settings.weekend_share
        rows = [
            row
            for row in history.person_events(person_id, day, day + timedelta(days=1))
            if weekend or usual.distance(row.occurred_at.hour) >= settings.hours_outside
        ]
        if not rows:
            continue
        when = "on a weekend, when they rarely work, " if weekend else ""
        findings.append(
            Finding(
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
        )
    return findings
