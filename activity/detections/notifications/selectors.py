"""Reads of deliveries, for the alert's page and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from activity.detections.models import Alert, Delivery


def alert_deliveries(alert: Alert) -> QuerySet[Delivery]:
    """The alert's notifications, oldest first, each with its destination (name, kind),
    state, attempts, next attempt, last error (never a secret) and when it was sent."""
    return (
        Delivery.objects.filter(alerts=alert)
        .select_related("destination")
        .only(
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
            "destination__name",
            "destination__kind",
        )
        .order_by("created_at", "pk")
    )
