"""Sensitive change: ``permission`` and ``configuration`` events (sharing, roles, invitations,
API keys, settings) by anyone, as a low-severity digest: one alert per person per UTC day."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from activity.detections import history
from activity.detections.base import Context, EventRow, Finding, plural, threshold
from activity.vocabulary import Category

NAME = "sensitive_change"
SEVERITY = "low"
CATEGORIES = (Category.PERMISSION, Category.CONFIGURATION)


@dataclass(frozen=True)
class Settings:
    min_changes: int = threshold(1, help="Changes by one person in a day before a digest.")


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    days: dict[datetime, set[int]] = defaultdict(set)
    for event in events:
        if event.category in CATEGORIES and event.person_id is not None:
            days[history.day_start(event.occurred_at)].add(event.person_id)
    findings = []
    for day, people in days.items():
        changes = history.people_events(people, day, day + timedelta(days=1), categories=CATEGORIES)
        for person_id, rows in changes.items():
            if len(rows) < settings.min_changes:
                continue
            actions = ", ".join(
                f"{action} ({count} times)" if count > 1 else action
                for action, count in Counter(row.action for row in rows).most_common(5)
            )
            findings.append(
                Finding(
                    rule=NAME,
                    severity=SEVERITY,
                    group_key=f"person:{person_id}:{day:%Y-%m-%d}",
                    person_id=person_id,
                    events=tuple(rows),
                    explanation=(
                        f"{plural(len(rows), 'permission or configuration change')} by "
                        f"{context.label(person_id)} on {day:%Y-%m-%d}: {actions}."
                    ),
                )
            )
    return findings
