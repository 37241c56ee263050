"""Active after deactivation: events by a person one of whose accounts a vendor's directory
lists as deactivated, after that was first seen (the offboarding gap across tools).

"First seen" is what the data allows: a directory read stores only its latest listing
(``Identity.directory_seen_at``), so the first evaluation that finds an identity deactivated
keeps that moment (``DeactivationSighting``). Evaluations run after every sync, and a sync
reads the directory before its events, so this is within one sync of the first listing; for a
deactivation older than detections it is later than the truth, which can miss events but
never flags one from before the deactivation was seen."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from activity.detections import history
from activity.detections.base import Context, EventRow, Finding, plural, threshold
from activity.detections.models import DeactivationSighting
from activity.models import Identity, Person

NAME = "active_after_deactivation"
SEVERITY = "high"


@dataclass(frozen=True)
class Settings:
    grace_minutes: int = threshold(
        0, minimum=0, maximum=7 * 24 * 60, help="Events this soon after the sighting are let be."
    )


def sightings_record() -> None:
    """Keep the first sighting of every identity a directory now lists as deactivated."""
    seen = DeactivationSighting.objects.values_list("identity_id", flat=True)
    new = Identity.objects.filter(
        status=Person.Status.DEACTIVATED, directory_seen_at__isnull=False
    ).exclude(pk__in=seen)
    DeactivationSighting.objects.bulk_create(
        [
            DeactivationSighting(identity_id=pk, first_seen_at=at)
            for pk, at in new.values_list("pk", "directory_seen_at")
        ],
        ignore_conflicts=True,
    )


def deactivated_people() -> dict[int, tuple[datetime, str]]:
    """``person id -> (first sighting, which account)`` of the people with an identity
    deactivated now (few: read whole through a partial index); a dry run without a sighting
    kept yet takes the directory's latest listing."""
    found: dict[int, tuple[datetime, str]] = {}
    rows = Identity.objects.filter(
        status=Person.Status.DEACTIVATED,
        directory_seen_at__isnull=False,
        person__isnull=False,
    ).values_list(
        "person_id",
        "deactivation_sighting__first_seen_at",
        "directory_seen_at",
        "source__name",
        "email",
        "name",
    )
    for person_id, first, latest, source, email, name in rows:
        moment = first or latest
        if person_id not in found or moment < found[person_id][0]:
            found[person_id] = (moment, f"{source} account {email or name}".strip())
    return found


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    if not context.dry_run:
        sightings_record()
    deactivated = deactivated_people()
    grace = timedelta(minutes=settings.grace_minutes)
    days: dict[tuple[int, datetime], None] = defaultdict(lambda: None)
    for event in events:
        if event.person_id in deactivated:
            seen_at = deactivated[event.person_id][0]
            if event.occurred_at > seen_at + grace:
                days[event.person_id, history.day_start(event.occurred_at)]
    findings = []
    for person_id, day in days:
        seen_at, account = deactivated[person_id]
        start = max(day, seen_at + grace + timedelta(microseconds=1))
        rows = history.person_events(person_id, start, day + timedelta(days=1))
        if not rows:
            continue
        findings.append(
            Finding(
                rule=NAME,
                severity=SEVERITY,
                group_key=f"person:{person_id}:{day:%Y-%m-%d}",
                person_id=person_id,
                events=tuple(rows),
                explanation=(
                    f"{plural(len(rows), 'event')} by {context.label(person_id)} on "
                    f"{day:%Y-%m-%d} after their {account} was seen deactivated "
                    f"({seen_at:%Y-%m-%d %H:%M} UTC)."
                ),
            )
        )
    return findings
