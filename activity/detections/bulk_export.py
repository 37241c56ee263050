"""Bulk export: a person's exports in one clock hour (UTC) above both an absolute floor and a
multiple of their own busiest hour over the previous 30 days, read from stored events (so it
works on the first day after a backfill). Service accounts and scheduled deliveries (Lightdash
downloads whose query context is a schedule's) are left out unless included."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from activity.detections import history
from activity.detections.base import Context, EventRow, Finding, plural, span_text, threshold
from activity.models import Person
from activity.vocabulary import Category

NAME = "bulk_export"
SEVERITY = "high"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Settings:
    floor: int = threshold(20, help="Exports in one hour below this never alert.")
    baseline_multiple: float = threshold(
        5.0, help="...and the hour must exceed this many times the person's busiest hour."
    )
    baseline_days: int = threshold(30, maximum=365, help="Days of history behind the baseline.")
    include_service_accounts: bool = threshold(
        False, minimum=0, help="Also watch service accounts."
    )
    include_scheduled_deliveries: bool = threshold(
        False, minimum=0, help="Also count downloads a schedule made."
    )


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    hours: dict[tuple[int, object], None] = defaultdict(lambda: None)
    for event in events:
        if event.category == Category.EXPORT and event.person_id is not None:
            hours[event.person_id, history.hour_start(event.occurred_at)]
    findings = []
    for person_id, start in hours:
        if context.kind(person_id) == Person.Kind.SERVICE and not settings.include_service_accounts:
            continue
        rows = history.person_events(person_id, start, start + HOUR, categories=[Category.EXPORT])
        if len(rows) >= settings.floor and not settings.include_scheduled_deliveries:
            scheduled = history.scheduled_deliveries(row.id for row in rows)
            rows = [row for row in rows if row.id not in scheduled]
        if len(rows) < settings.floor:
            continue
        usual = history.hourly_max(
            person_id,
            start - timedelta(days=settings.baseline_days),
            start,
            Category.EXPORT,
            scheduled=settings.include_scheduled_deliveries,
        )
        if len(rows) <= settings.baseline_multiple * usual:
            continue
        usual_text = f"their usual is at most {usual} an hour" if usual else "they exported nothing"
        findings.append(
            Finding(
                rule=NAME,
                severity=SEVERITY,
                group_key=f"person:{person_id}:{start:%Y-%m-%dT%H}",
                person_id=person_id,
                events=tuple(rows),
                explanation=(
                    f"{plural(len(rows), 'export')} in one hour by {context.label(person_id)} "
                    f"({span_text(rows[0].occurred_at, rows[-1].occurred_at)}); {usual_text} "
                    f"over the previous {settings.baseline_days} days."
                ),
            )
        )
    return findings
