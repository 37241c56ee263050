"""Failed sign-in burst: ``authentication`` events that failed, by one person or from one IP
address, at least ``min_failures`` of them within ``window_minutes`` (password guessing, or a
password-spraying run over many accounts from one address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q

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
from activity.vocabulary import Category, Outcome

NAME = "failed_signin_burst"
SEVERITY = "high"


@dataclass(frozen=True)
class Settings:
    min_failures: int = threshold(10, minimum=2, help="Failed sign-ins that make a burst...")
    window_minutes: int = threshold(10, maximum=24 * 60, help="...within this many minutes.")


def find(events: list[EventRow], settings: Settings, context: Context) -> list[Finding]:
    window = timedelta(minutes=settings.window_minutes)
    failures = [
        event
        for event in sorted(events, key=lambda row: (row.occurred_at, row.id))
        if event.category == Category.AUTHENTICATION and event.outcome == Outcome.FAILURE
    ]
    people = {event.person_id for event in failures if event.person_id is not None}
    addresses = {event.ip_address for event in failures if event.ip_address}
    findings = {}
    for person_id in people:
        rows = [event for event in failures if event.person_id == person_id]
        for burst in _bursts(rows, Q(person_id=person_id), settings, window):
            finding = _finding(burst, person_id, "", window, context)
            findings[finding.group_key] = finding
    for address in addresses:
        rows = [event for event in failures if event.ip_address == address]
        for burst in _bursts(rows, Q(ip_address=address), settings, window):
            owners = {event.person_id for event in burst}
            if len(owners) == 1 and None not in owners:
                continue  # one person's burst: raised for the person already
            finding = _finding(burst, None, address, window, context)
            findings[finding.group_key] = finding
    return list(findings.values())


def _bursts(
    rows: list[EventRow], condition: Q, settings: Settings, window: timedelta
) -> list[list[EventRow]]:
    ids = {event.id for event in rows}
    found = []
    for part in chains(rows, window):
        grown = history.grown(
            lambda start, stop: history.failed_signins(start, stop, condition), part, window
        )
        for chain in chains(grown, window):
            if ids.intersection(event.id for event in chain) and _dense(chain, settings, window):
                found.append(chain)
    return found


def _dense(chain: list[EventRow], settings: Settings, window: timedelta) -> bool:
    """Whether some ``window`` of the chain holds ``min_failures`` failures."""
    low = 0
    for high, event in enumerate(chain):
        while event.occurred_at - chain[low].occurred_at > window:
            low += 1
        if high - low + 1 >= settings.min_failures:
            return True
    return False


def _finding(
    burst: list[EventRow], person_id: int | None, address: str, window: timedelta, context
) -> Finding:
    people = {event.person_id for event in burst}
    minutes = max(1, round((burst[-1].occurred_at - burst[0].occurred_at).total_seconds() / 60))
    if person_id is not None:
        who = f"for {context.label(person_id)}"
        key = f"person:{person_id}:{burst[0].id}"
    else:
        who = f"from IP address {address}, against {plural(len(people), 'account')}"
        key = f"ip:{address}:{burst[0].id}"
    return Finding(
        rule=NAME,
        severity=SEVERITY,
        group_key=key,
        person_id=person_id,
        subject=f"IP {address}" if address else "",
        events=tuple(burst),
        join_within=window,
        explanation=(
            f"{plural(len(burst), 'failed sign-in')} {who} in about "
            f"{plural(minutes, 'minute')} "
            f"({span_text(burst[0].occurred_at, burst[-1].occurred_at)})."
        ),
    )
