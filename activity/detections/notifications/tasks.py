"""Sending as a background task, one task per delivery, queued once the transaction commits."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.tasks import task

from activity.detections.notifications.services import delivery_send

logger = logging.getLogger(__name__)


@task
def delivery_send_task(delivery_id: int) -> dict:
    delivery = delivery_send(delivery_id=delivery_id)
    if delivery is None:
        return {"state": "not due"}
    return {"state": delivery.state, "attempts": delivery.attempts}


def delivery_enqueue(*, delivery_id: int, run_after: datetime | None = None) -> None:
    """Queue the delivery's sending (at ``run_after`` where the backend can wait). Never
    raises: ``send_notifications`` sends whatever is due that no task sent."""
    try:
        transaction.on_commit(lambda: _enqueue(delivery_id, run_after), robust=True)
    except Exception:
        logger.exception("could not queue notification %s", delivery_id)


def _enqueue(delivery_id: int, run_after: datetime | None) -> None:
    try:
        if run_after is None:
            delivery_send_task.enqueue(delivery_id=delivery_id)
        elif delivery_send_task.get_backend().supports_defer:
            delivery_send_task.using(run_after=run_after).enqueue(delivery_id=delivery_id)
    except Exception:
        logger.exception("could not queue notification %s", delivery_id)
