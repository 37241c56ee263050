"""Reads for the alert pages: the list, its counts per rule, an alert's evidence, the person
page's alerts and the navigation's count of open alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Q, QuerySet

from activity.detections.models import Alert, AlertEvidence, RuleName
from activity.models import ActivityEvent, Person
from activity.people.selectors import persons_named
from activity.selectors import within_budget
from dashboard.selectors.common import CappedCount, capped_count
from dashboard.selectors.people import person_key

NAV_COUNT_LIMIT = 99  # the navigation says "99+" beyond


def alert_list() -> QuerySet[Alert]:
    return Alert.objects.select_related("person")


def alert_subject_match(value: str) -> Q:
    """Alerts about the persons an email, a name or a vendor id names (as the log's person
    filter finds them), or about that subject (an IP address) when no person answers to it."""
    if persons := persons_named(value):
        return Q(person_id__in=with_merged(persons))
    return Q(subject=value.strip())


def with_merged(person_ids: list[int]) -> list[int]:
    """The persons and everyone merged into them, however many merges ago: an alert keeps the
    person it was raised about, and a merge moves identities and events, not alerts."""
    found, added = set(person_ids), set(person_ids)
    while added:
        added = set(Person.objects.filter(merged_into__in=added).values_list("id", flat=True))
        added -= found
        found |= added
    return sorted(found)


RULE_COUNT_LIMIT = 1000


@dataclass(frozen=True)
class RuleCount:
    rule: str
    label: str
    alerts: CappedCount


def alert_rule_counts(alerts: QuerySet[Alert]) -> list[RuleCount] | None:
    """Each rule's alerts among ``alerts``, busiest first, counted up to a cap: one statement
    of a probe per rule (the ``(rule, state, last_event_at, id)`` index), however many alerts
    there are; None when it runs over the time budget."""
    probes = [
        alerts.filter(rule=rule).order_by().values("id")[: RULE_COUNT_LIMIT + 1].query
        for rule in RuleName.values
    ]
    compiled = [probe.get_compiler(connection=connection).as_sql() for probe in probes]
    sql = "SELECT " + ", ".join(
        f"(SELECT count(*) FROM ({probe}) AS probe{number})"
        for number, (probe, _) in enumerate(compiled)
    )
    params = [param for _, probe_params in compiled for param in probe_params]

    def count() -> tuple[int, ...]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    values = within_budget(count)
    if values is None:
        return None
    rows = [
        RuleCount(rule, label, CappedCount(min(n, RULE_COUNT_LIMIT), n > RULE_COUNT_LIMIT))
        for (rule, label), n in zip(RuleName.choices, values, strict=True)
        if n
    ]
    return sorted(rows, key=lambda row: (-row.alerts.value, row.label))


@dataclass(frozen=True)
class EvidenceRow:
    evidence: AlertEvidence
    event: ActivityEvent | None  # None once retention purged it


def alert_evidence(alert_id: int) -> QuerySet[AlertEvidence]:
    """The alert's evidence (the ``(alert, occurred_at, id)`` index), with each source."""
    return AlertEvidence.objects.filter(alert_id=alert_id).select_related("source")


EVIDENCE_EVENT_FIELDS = (
    "person_id",
    "actor_name",
    "actor_email",
    "actor_id",
    "action",
    "category",
    "outcome",
    "ip_address",
)


def evidence_rows(evidence: list[AlertEvidence]) -> list[EvidenceRow]:
    """Each evidence row with its event, when the event is still stored (one query)."""
    events = ActivityEvent.objects.only(*EVIDENCE_EVENT_FIELDS).in_bulk(
        [item.event_id for item in evidence]
    )
    return [EvidenceRow(item, events.get(item.event_id)) for item in evidence]


def alert_log_query(alert: Alert, *, zone: tzinfo) -> str:
    """The activity log's query for the alert's person (if any) over the days of its span,
    in the viewer's zone."""
    query = {
        "date_from": alert.first_event_at.astimezone(zone).date().isoformat(),
        "date_to": alert.last_event_at.astimezone(zone).date().isoformat(),
    }
    if alert.person_id and (key := person_key(alert.person)):
        query = {"person": key, **query}
    return "?" + urlencode(query)


def person_alerts(person_id: int) -> QuerySet[Alert]:
    return Alert.objects.filter(person_id__in=with_merged([person_id])).order_by(
        "-last_event_at", "-id"
    )


def open_alert_count() -> CappedCount:
    """Open alerts, counted up to the cap off the ``(state, last_event_at, id)`` index."""
    return capped_count(Alert.objects.filter(state=Alert.State.OPEN), NAV_COUNT_LIMIT)
