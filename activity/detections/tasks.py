"""The evaluation queued after each sync: a thin task around the engine."""

from __future__ import annotations

import logging

from django.db import transaction
from django.tasks import task

from activity.detections.engine import detections_evaluate

logger = logging.getLogger(__name__)


@task
def detections_evaluate_task(source_id: int) -> dict:
    outcome = detections_evaluate(source_id=source_id)
    return {"events": outcome.events, "raised": len(outcome.raised), "grown": len(outcome.grown)}


def detections_enqueue(*, source_id: int) -> None:
    """Queue an evaluation of the source's new events once the current transaction commits.

    Never raises: detections must not fail a sync. A queue that refuses is logged, and the
    next sync's evaluation covers these events too (the cursor is per source)."""
    try:
        transaction.on_commit(lambda: _enqueue(source_id), robust=True)
    except Exception:
        logger.exception("could not queue detections for source %s", source_id)


def _enqueue(source_id: int) -> None:
    try:
        detections_evaluate_task.enqueue(source_id=source_id)
    except Exception:
        logger.exception("could not queue detections for source %s", source_id)
