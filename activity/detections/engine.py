"""Run the enabled rules over new events and group what they find into alerts.

Evaluation walks a source's events by id after its cursor, in batches; each batch's alerts,
evidence and the cursor's move commit together, so a killed evaluation loses nothing and a
second one finds nothing left to do. A finding joins the alert of its group (same rule and
group key, or for sessions and bursts the same person or subject close enough in time):
evidence is only ever added, and the rules never touch triage or delete anything. New alerts
are gathered for notification in their batch's transaction and sent when the evaluation ends,
one message per destination."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Min
from django.utils import timezone

from activity.detections.base import Context, EventRow, Finding, event_rows
from activity.detections.models import (
    SEVERITY_RANK,
    Alert,
    AlertEvidence,
    DetectionCursor,
)
from activity.detections.notifications.services import (
    notifications_collect,
    notifications_release,
)
from activity.detections.registry import rules_enabled
from activity.models import ActivityEvent
from activity.sql import array_literal

BATCH_SIZE = 2000
# A backtest reads history in larger batches: the rules ask once per batch, so fewer of them.
BACKTEST_BATCH_SIZE = 10_000


@dataclass
class Evaluation:
    """What an evaluation did: events read, alerts raised and alerts that gained events."""

    events: int = 0
    raised: list[int] = field(default_factory=list)
    grown: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # a dry run's


def detections_evaluate(*, source_id: int, batch_size: int = BATCH_SIZE) -> Evaluation:
    """Evaluate the enabled rules over the source's events not evaluated yet."""
    outcome = Evaluation()
    rules = rules_enabled()
    while True:
        with transaction.atomic():
            cursor = _cursor_locked(source_id)
            context = Context()
            events = event_rows(
                ActivityEvent.objects.filter(
                    source_id=source_id, id__gt=cursor.evaluated_to
                ).order_by("id")[:batch_size],
                context,
            )
            if events:
                _evaluate(events, rules, outcome, context)
                cursor.evaluated_to = events[-1].id
            cursor.evaluated_at = timezone.now()
            cursor.save(update_fields=["evaluated_to", "evaluated_at"])
        if len(events) < batch_size:
            notifications_release()
            return outcome


def _cursor_locked(source_id: int) -> DetectionCursor:
    """The source's cursor, made on its first evaluation, locked: the row lock makes two
    evaluations of one source take turns."""
    locked = DetectionCursor.objects.select_for_update()
    cursor = locked.filter(source_id=source_id).first()
    if cursor is None:
        DetectionCursor.objects.get_or_create(source_id=source_id)
        cursor = locked.get(source_id=source_id)
    return cursor


def detections_backtest(
    *,
    since: datetime | None = None,
    rule: str | None = None,
    overrides: dict | None = None,
    dry_run: bool = True,
    batch_size: int = BACKTEST_BATCH_SIZE,
) -> Evaluation:
    """Evaluate rules (one, whether enabled or not, or every enabled one) over stored events
    from ``since``: a dry run only collects the findings; otherwise they become alerts, as
    the same events would have raised (re-running raises nothing new)."""
    outcome = Evaluation()
    rules = rules_enabled(only=rule, overrides=overrides)
    # One context for the whole history: who people are and their baselines of a day are
    # read once, not again for every batch of that day.
    context = Context(dry_run=dry_run, process_cache=False)
    for events in _history(since, batch_size, context):
        if dry_run:
            for module, settings in rules:
                outcome.findings.extend(module.find(events, settings, context))
            outcome.events += len(events)
        else:
            with transaction.atomic():
                _evaluate(events, rules, outcome, context)
    if not dry_run:
        notifications_release()
    if dry_run:
        # A group found again in a later batch was found whole each time: keep the last.
        latest = {(f.rule, f.group_key): f for f in outcome.findings}
        outcome.findings = sorted(latest.values(), key=lambda f: (f.first_event_at, f.rule))
    return outcome


def _history(since: datetime | None, batch_size: int, context: Context) -> Iterator[list[EventRow]]:
    """The stored events from ``since`` in batches by id: from the first id in the span (found
    through the time index), walking the primary key; the few older events stored later (a
    backfill) are left out here, not by the database, which would sort the span each batch."""
    events = ActivityEvent.objects.order_by("id")
    last = 0
    if since is not None:
        first = events.filter(occurred_at__gte=since).aggregate(first=Min("id"))["first"]
        if first is None:
            return
        last = first - 1
    while True:
        rows = event_rows(events.filter(id__gt=last)[:batch_size], context)
        if not rows:
            return
        last = rows[-1].id
        batch = [row for row in rows if since is None or row.occurred_at >= since]
        if batch:
            yield batch


def _evaluate(events: list[EventRow], rules, outcome: Evaluation, context: Context) -> None:
    outcome.events += len(events)
    findings = [
        finding for module, settings in rules for finding in module.find(events, settings, context)
    ]
    raised = []
    for finding, (alert_id, created, added) in zip(findings, alerts_raise(findings), strict=True):
        if created:
            outcome.raised.append(alert_id)
            raised.append(Alert(pk=alert_id, rule=finding.rule, severity=finding.severity))
        elif added:
            outcome.grown.append(alert_id)
    if raised:
        notifications_collect(alerts=raised)


def alerts_raise(findings: list[Finding]) -> list[tuple[int, bool, int]]:
    """``alert_raise`` for a batch's findings, each answer in their order: the alerts of their
    groups read (and locked) at once, the new ones created at once, and all their evidence
    written in one statement. A finding that can only join an alert by time (a session, a
    burst), or whose group another finding of the batch holds, is raised alone after."""
    if not findings:
        return []
    keys = {(finding.rule, finding.group_key) for finding in findings}
    existing = {
        (alert.rule, alert.group_key): alert
        for alert in Alert.objects.select_for_update()
        .filter(rule__in={rule for rule, _ in keys}, group_key__in={key for _, key in keys})
        .order_by("id")
        if (alert.rule, alert.group_key) in keys
    }
    batch: dict[tuple[str, str], int] = {}  # group -> the finding's place in the batch
    alone = []
    for n, finding in enumerate(findings):
        key = (finding.rule, finding.group_key)
        if key in batch or (key not in existing and finding.join_within is not None):
            alone.append(n)
        else:
            batch[key] = n
    answers: list[tuple[int, bool, int] | None] = [None] * len(findings)
    evidence: list[tuple[int, list[EventRow]]] = []
    new = [findings[n] for key, n in batch.items() if key not in existing]
    created: list[Alert] = []
    if new:
        try:
            with transaction.atomic():
                created = Alert.objects.bulk_create([_new_alert(finding) for finding in new])
        except IntegrityError:  # another evaluation raised one of them meanwhile: one at a time
            alone += [n for key, n in batch.items() if key not in existing]
    for alert in created:
        evidence.append((alert.pk, _distinct_events(findings[batch[alert.rule, alert.group_key]])))
        answers[batch[alert.rule, alert.group_key]] = (alert.pk, True, 0)
    grown = [(n, findings[n], existing[key]) for key, n in batch.items() if key in existing]
    held = _evidence_held(
        [alert.pk for _, _, alert in grown],
        [event.id for _, finding, _ in grown for event in finding.events],
    )
    for n, finding, alert in grown:
        added = [e for e in _distinct_events(finding) if (alert.pk, e.id) not in held]
        if added:
            evidence.append((alert.pk, added))
            _alert_grow(alert, finding, added)
        answers[n] = (alert.pk, False, len(added))
    _evidence_add(evidence)
    for n in sorted(alone):
        answers[n] = alert_raise(finding=findings[n])
    return answers


def alert_raise(*, finding: Finding) -> tuple[int, bool, int]:
    """Make the finding an alert, or add its new events to its group's alert; return the
    alert's id, whether it is new, and how many events it gained."""
    events = _distinct_events(finding)
    alert = _group_alert(finding)
    created = alert is None
    if created:
        try:
            with transaction.atomic():
                alert = _new_alert(finding)
                alert.save(force_insert=True)
        except IntegrityError:  # another evaluation raised it meanwhile
            created = False
            alert = Alert.objects.select_for_update().get(
                rule=finding.rule, group_key=finding.group_key
            )
    new = events
    if not created:  # which of the finding's events the alert holds already (it is locked)
        held = _evidence_held([alert.pk], [event.id for event in events])
        new = [event for event in events if (alert.pk, event.id) not in held]
        if not new:
            return alert.pk, False, 0
        _alert_grow(alert, finding, new)
    _evidence_add([(alert.pk, new)])
    return alert.pk, created, 0 if created else len(new)


def _distinct_events(finding: Finding) -> list[EventRow]:
    return list({event.id: event for event in finding.events}.values())


def _new_alert(finding: Finding) -> Alert:
    return Alert(
        rule=finding.rule,
        severity=finding.severity,
        person_id=finding.person_id,
        subject=finding.subject,
        group_key=finding.group_key,
        first_event_at=finding.first_event_at,
        last_event_at=finding.last_event_at,
        explanation=finding.explanation,
        events=len(_distinct_events(finding)),
    )


def _alert_grow(alert: Alert, finding: Finding, new: list[EventRow]) -> None:
    """The locked ``alert`` gains the finding's ``new`` events: its count, span, severity."""
    times = [event.occurred_at for event in new] + [alert.first_event_at, alert.last_event_at]
    severity = max(alert.severity, finding.severity, key=lambda s: SEVERITY_RANK.get(s, 0))
    Alert.objects.filter(pk=alert.pk).update(
        events=alert.events + len(new),
        first_event_at=min(times),
        last_event_at=max(times),
        severity=severity,
        explanation=finding.explanation,
        updated_at=timezone.now(),
    )


def _evidence_held(alert_ids: list[int], event_ids: list[int]) -> set[tuple[int, int]]:
    """Which of the events the alerts hold already: ``(alert id, event id)``."""
    if not alert_ids:
        return set()
    return set(
        AlertEvidence.objects.filter(
            alert_id__among=alert_ids, event_id__among=event_ids
        ).values_list("alert_id", "event_id")
    )


def _evidence_add(evidence: list[tuple[int, list[EventRow]]]) -> None:
    """Write ``(alert id, its new events)``: one statement of arrays on PostgreSQL."""
    rows = [(alert_id, event) for alert_id, events in evidence for event in events]
    if not rows:
        return
    if connection.vendor != "postgresql":
        AlertEvidence.objects.bulk_create(
            AlertEvidence(
                alert_id=alert_id,
                event_id=event.id,
                source_id=event.source_id,
                external_id=event.external_id,
                occurred_at=event.occurred_at,
            )
            for alert_id, event in rows
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AlertEvidence._meta.db_table} "
            "(alert_id, event_id, source_id, external_id, occurred_at) SELECT * FROM "
            "unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[])",
            [
                array_literal(alert_id for alert_id, _ in rows),
                *(array_literal(getattr(e, name) for _, e in rows) for name in _EVIDENCE_FIELDS),
            ],
        )


_EVIDENCE_FIELDS = ("id", "source_id", "external_id", "occurred_at")


def _group_alert(finding: Finding) -> Alert | None:
    alerts = Alert.objects.select_for_update()
    alert = alerts.filter(rule=finding.rule, group_key=finding.group_key).first()
    if alert is None and finding.join_within is not None:
        alert = (
            alerts.filter(
                rule=finding.rule,
                person_id=finding.person_id,
                subject=finding.subject,
                first_event_at__lte=finding.last_event_at + finding.join_within,
                last_event_at__gte=finding.first_event_at - finding.join_within,
            )
            .order_by("first_event_at", "id")
            .first()
        )
    return alert
