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
    if not failures:
        return []
    # Every stored failure chained to the batch's, read once for all people and addresses.
    stored = history.grown(
        lambda start, stop: history.failed_signins(start, stop, Q()), failures, window
    )
    ids = {event.id for event in failures}
    findings = {}
    for person_id in {event.person_id for event in failures if event.person_id is not None}:
        rows = [event for event in stored if event.person_id == person_id]
        for burst in _bursts(rows, ids, settings, window):
            finding = _finding(burst, person_id, "", window, context)
            findings[finding.group_key] = finding
    for address in {event.ip_address for event in failures if event.ip_address}:
        rows = [event for event in stored if event.ip_address == address]
        for burst in _bursts(rows, ids, settings, window):
            owners = {event.person_id for event in burst}
            if len(owners) == 1 and None not in owners:
                continue  # one person's burst: raised for the person already
            finding = _finding(burst, None, address, window, context)
            findings[finding.group_key] = finding
    return list(findings.values())


def _bursts(
    rows: list[EventRow], ids: set[int], settings: Settings, window: timedelta
) -> list[list[EventRow]]:
    """The chains of ``rows`` that hold a batch failure and are dense enough."""
    return [
        chain
        for chain in chains(rows, window)
        if ids.intersection(event.id for event in chain) and _dense(chain, settings, window)
    ]


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
