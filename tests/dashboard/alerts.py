"""Alerts raised the way the engine raises them: events stored, then a finding made an alert
with those events as its evidence."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.db import transaction

from activity.detections.base import Finding, event_rows
from activity.detections.engine import alert_raise
from activity.models import ActivityEvent, Alert, Person, Source
from activity.rollups import rollups_add

_numbers = itertools.count()


def person_named(name: str, **fields) -> Person:
    email = name.lower().replace(" ", ".") + "@example.com"
    return Person.objects.create(display_name=name, primary_email=email, **fields)


def make_alert(
    source: Source,
    who: Person | None,
    *,
    at: datetime,
    rule: str = "bulk_export",
    severity: str = "high",
    events: int = 2,
    state: str = Alert.State.OPEN,
    subject: str = "",
    explanation: str = "",
) -> Alert:
    """An alert of ``rule`` about ``who`` (or ``subject``) whose last event is at ``at``."""
    number = next(_numbers)
    with transaction.atomic():
        alert_id = _raise(source, who, at, rule, severity, events, subject, explanation, number)
    Alert.objects.filter(pk=alert_id).update(state=state)
    return Alert.objects.get(pk=alert_id)


def _raise(source, who, at, rule, severity, events, subject, explanation, number) -> int:
    stored = ActivityEvent.objects.bulk_create(
        ActivityEvent(
            source=source,
            external_id=f"alert{number}-e{i}",
            occurred_at=at - timedelta(minutes=i),
            actor_email=who.primary_email if who else "",
            action="export_diff",
            category="export",
            outcome="success",
            ip_address=subject or "10.0.0.1",
            raw="{}",
            person=who,
        )
        for i in range(events)
    )
    rollups_add(
        (e.source_id, e.occurred_at, e.action, "", e.category, e.outcome, e.person_id)
        for e in stored
    )
    finding = Finding(
        rule=rule,
        severity=severity,
        group_key=f"test:{number}",
        person_id=who.pk if who else None,
        events=tuple(event_rows(ActivityEvent.objects.filter(pk__in=[e.pk for e in stored]))),
        explanation=explanation or f"{events} exports in one hour (alert {number})",
        subject=subject,
    )
    return alert_raise(finding=finding)[0]
