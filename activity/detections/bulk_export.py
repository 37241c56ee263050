"""Bulk export: a person's exports in one clock hour (UTC) above both an absolute floor and a
multiple of their own busiest hour over the previous 30 days, read from the stored history
(the hourly rollup, so it works on the first day after a backfill). The busiest hour counts
every export of theirs, scheduled deliveries included, so a person whose schedules export in
bulk is held to a higher bar. Service accounts and scheduled deliveries (Lightdash downloads
whose query context is a schedule's) are left out of the hour judged unless included. A peer
group (set on the person by staff) and a person can have thresholds of their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from activity.detections import history
from activity.detections.base import (
    Context,
    EventRow,
    Finding,
    overrides,
    plural,
    settings_for,
    span_text,
    threshold,
)
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
    per_group: dict = field(
        default_factory=dict,
        metadata=overrides(
            'A peer group\'s own thresholds, e.g. {"finance": {"floor": 50}} '
            "(a person's peer group is set on the person)."
        ),
    )
    per_person: dict = field(
        default_factory=dict,
        metadata=overrides(
            "A person's own thresholds, by email or person id, over their group's, e.g. "
            '{"ada@example.com": {"baseline_multiple": 10}}.'
        ),
    )


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    hours: dict[tuple[int, datetime], None] = {}
    kinds: dict[int, str] = {}
    for event in events:
        if event.category == Category.EXPORT and event.person_id is not None:
            hours[event.person_id, history.hour_start(event.occurred_at)] = None
            kinds[event.person_id] = event.person_kind
    if settings.per_group or settings.per_person:
        people = context.people(kinds)
        own = {
            person_id: settings_for(settings, person_id=person_id, email=who.email, group=who.group)
            for person_id, who in people.items()
        }
    else:
        own = dict.fromkeys(kinds, settings)
    watched = [
        (person_id, start)
        for person_id, start in hours
        if person_id in own
        and (kinds[person_id] != Person.Kind.SERVICE or own[person_id].include_service_accounts)
    ]
    # The rollup counts every export of the hour: under the floor, nothing to look at.
    counts = history.hourly_counts(
        watched, Category.EXPORT, at_least=min((own[p].floor for p, _ in watched), default=1)
    )
    candidates = [key for key in watched if counts.get(key, 0) >= own[key[0]].floor]
    if not candidates:
        return []
    longest = max(own[person_id].baseline_days for person_id, _ in candidates)
    series = history.hourly_series(
        {person_id for person_id, _ in candidates},
        min(start for _, start in candidates) - timedelta(days=longest),
        max(start for _, start in candidates),
        Category.EXPORT,
    )
    findings = []
    for person_id, start in candidates:
        rule = own[person_id]
        since = start - timedelta(days=rule.baseline_days)
        usual = max(
            (n for hour, n in series.get(person_id, ()) if since <= hour < start), default=0
        )
        if counts[person_id, start] <= rule.baseline_multiple * usual:
            continue  # even with every export of the hour counted
        rows = history.person_events(person_id, start, start + HOUR, categories=[Category.EXPORT])
        if not rule.include_scheduled_deliveries:
            scheduled = history.scheduled_deliveries(row.id for row in rows)
            rows = [row for row in rows if row.id not in scheduled]
        if len(rows) < rule.floor or len(rows) <= rule.baseline_multiple * usual:
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
                    f"over the previous {rule.baseline_days} days."
                ),
            )
        )
    return findings
