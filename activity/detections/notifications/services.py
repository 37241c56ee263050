"""Alerts to deliveries, and deliveries to their destinations.

An evaluation gathers the alerts each of its batches raises into one open delivery per
destination, in the batch's own transaction (a killed evaluation loses none); when it ends it
releases them, so a burst is one message. Sending claims a due delivery, sends outside any
transaction (a slow server holds no lock), then records the outcome: sent, or tried again
later with exponential backoff until the last attempt marks it failed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activity.detections.models import Alert, Delivery, Destination
from activity.detections.notifications.message import notification_message
from activity.detections.notifications.transports import DeliveryFailed, message_send

logger = logging.getLogger(__name__)

# While one worker sends, the others leave the delivery alone; a worker killed mid-send
# leaves it to be tried again after this.
CLAIM = timedelta(minutes=5)
# Open deliveries an evaluation killed before releasing them are released after this.
GATHER_LIMIT = timedelta(minutes=10)


def notifications_collect(*, alerts: Iterable[Alert]) -> None:
    """Add newly raised alerts (their id, rule and severity are enough) to the open delivery
    of every destination that covers them.

    Call in the transaction that raised them, after every other write of it: the destination
    rows are the last locks it takes, so evaluations sharing them cannot deadlock."""
    alerts = list(alerts)
    if not alerts:
        return
    destinations = Destination.objects.select_for_update().filter(enabled=True).order_by("pk")
    for destination in destinations:
        covered = [alert for alert in alerts if destination.covers(alert)]
        if not covered:
            continue
        # Locked, so a release running now waits for these alerts to be on it.
        delivery = destination.deliveries.select_for_update().filter(
            state=Delivery.State.PENDING, next_attempt_at__isnull=True
        ).first() or Delivery.objects.create(destination=destination)
        delivery.alerts.add(*(alert.pk for alert in covered))


def notifications_release(*, now: datetime | None = None) -> list[int]:
    """Make the open deliveries due and queue their sending once this transaction commits;
    return their ids. Never raises: notifications must not fail an evaluation."""
    from activity.detections.notifications.tasks import delivery_enqueue

    try:
        with transaction.atomic():
            open_ = Delivery.objects.select_for_update().filter(
                state=Delivery.State.PENDING, next_attempt_at__isnull=True
            )
            ids = list(open_.values_list("pk", flat=True))
            Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now or timezone.now())
    except Exception:
        logger.exception("could not release the notifications")
        return []
    for delivery_id in ids:
        delivery_enqueue(delivery_id=delivery_id)
    return ids


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Send the delivery if it is due and no one else is sending it; record what happened.

    Returns the delivery as recorded, or None when there was nothing to do. Never raises for
    a destination that fails: that is the delivery's error."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("destination")
            .filter(pk=delivery_id, state=Delivery.State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + CLAIM
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    destination = delivery.destination
    if not destination.enabled:
        return _record(delivery, "the destination is switched off", timezone.now(), last=True)
    alerts = list(delivery.alerts.select_related("person"))
    error = ""
    try:
        message_send(destination, notification_message(alerts))
    except DeliveryFailed as failure:
        error = str(failure)
    except Exception as unexpected:
        # Only the type: a library's message may hold the URL or a credential.
        error = f"unexpected error ({type(unexpected).__name__})"
    return _record(delivery, error, timezone.now())


def _record(delivery: Delivery, error: str, now: datetime, *, last: bool = False) -> Delivery:
    if not error:
        delivery.state, delivery.sent_at, delivery.next_attempt_at = Delivery.State.SENT, now, None
        delivery.last_error = ""
    elif last or delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
        delivery.last_error = error
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.last_error = error
    delivery.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error"])
    if error:
        logger.warning(
            "notification %s to %s, attempt %s: %s",
            delivery.pk,
            delivery.destination.name,
            delivery.attempts,
            error,
        )
    if delivery.state == Delivery.State.PENDING and delivery.next_attempt_at:
        from activity.detections.notifications.tasks import delivery_enqueue

        delivery_enqueue(delivery_id=delivery.pk, run_after=delivery.next_attempt_at)
    return delivery


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8... minutes after the first, second, third... failed attempt."""
    return settings.NOTIFICATION_RETRY_BASE * 2 ** (attempts - 1)


def deliveries_send_due(*, now: datetime | None = None) -> list[Delivery]:
    """Send every due delivery (and release those a killed evaluation left open); for task
    backends that cannot run a task later, and as a safety net behind those that can."""
    now = now or timezone.now()
    Delivery.objects.filter(
        state=Delivery.State.PENDING,
        next_attempt_at__isnull=True,
        created_at__lt=now - GATHER_LIMIT,
    ).update(next_attempt_at=now)
    due = Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "pk"
    )
    sent = []
    for delivery_id in due.values_list("pk", flat=True):
        delivery = delivery_send(delivery_id=delivery_id, now=now)
        if delivery is not None:
            sent.append(delivery)
    return sent
