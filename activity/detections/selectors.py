"""Reads of alerts, for the export and the admin."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from activity.detections.models import Alert, AlertEvidence


def alert_list(*, since: datetime | None = None, rule: str | None = None) -> QuerySet[Alert]:
    """Alerts whose events reach ``since`` or later, oldest first, with their evidence."""
    alerts = Alert.objects.select_related("person")
    if since is not None:
        alerts = alerts.filter(last_event_at__gte=since)
    if rule:
        alerts = alerts.filter(rule=rule)
    evidence = AlertEvidence.objects.select_related("source").order_by("occurred_at", "id")
    return alerts.prefetch_related(Prefetch("evidence", queryset=evidence)).order_by(
        "first_event_at", "id"
    )
