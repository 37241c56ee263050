"""Vendor support access: any event by a vendor's support staff (a ``vendor_support`` person,
such as Datafold's ``is_support_user``), one alert per session: the person's events chained
by gaps shorter than ``session_gap_minutes``."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from activity.detections import history
from activity.detections.base import (
    Context,
    EventRow,
    Finding,
    chains,
    plural,
    span_text,
    threshold,
)
from activity.models import Person

NAME = "vendor_support_access"
SEVERITY = "medium"


@dataclass(frozen=True)
class Settings:
    session_gap_minutes: int = threshold(
        30, maximum=24 * 60, help="A quieter gap than this ends a support session."
    )


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    gap = timedelta(minutes=settings.session_gap_minutes)
    by_person: dict[int, list[EventRow]] = defaultdict(list)
    for event in events:
        if event.person_kind == Person.Kind.VENDOR_SUPPORT:
            by_person[event.person_id].append(event)
    findings = []
    for person_id, batch in by_person.items():
        batch.sort(key=lambda row: (row.occurred_at, row.id))
        ids = {event.id for event in batch}
        for part in chains(batch, gap):
            rows = history.grown(
                lambda start, stop, p=person_id: history.person_events(p, start, stop), part, gap
            )
            for session in chains(rows, gap):
                if not ids.intersection(event.id for event in session):
                    continue
                actions = Counter(event.action for event in session).most_common(3)
                findings.append(
                    Finding(
                        rule=NAME,
                        severity=SEVERITY,
                        group_key=f"person:{person_id}:{session[0].id}",
                        person_id=person_id,
                        events=tuple(session),
                        join_within=gap,
                        explanation=(
                            f"Vendor support staff {context.label(person_id)} acted "
                            f"{plural(len(session), 'time')} "
                            f"{span_text(session[0].occurred_at, session[-1].occurred_at)} "
                            f"(mostly {', '.join(action for action, _ in actions)})."
                        ),
                    )
                )
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    """Two parts of a batch can grow into the same session: keep it once."""
    return list({finding.group_key: finding for finding in findings}.values())
