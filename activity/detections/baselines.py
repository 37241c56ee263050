"""People's baselines of active hours, prepared once a day ahead of the day's evaluations.

The unusual-hours rule judges a day's events by each person's active hours over the days
before it. Summed from the rollups, that is a month of rows per person; the scheduler
(``manage.py schedule_syncs``) prepares them once when the day begins, one row per person
active in the window, so the day's first evaluation in every worker (and after every
restart) reads those instead. A day not prepared (the scheduler not running, or a window the
rule's thresholds changed to) is summed from the rollups as before.

Like the baselines a worker keeps for the day, a prepared day does not see history stored
after it was prepared (a backfill of older events, events of the day before that a sync
brings late, a merge) until the next day."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from itertools import batched

from django.db import IntegrityError, transaction
from django.utils import timezone

from activity.detections import history, unusual_hours
from activity.detections.models import Baseline, BaselineDay
from activity.detections.registry import rules_enabled
from activity.models import ActiveHours

logger = logging.getLogger(__name__)
# Days of prepared baselines kept: a late page of the day before, or of the one before that,
# still finds them.
KEPT_DAYS = 3
PEOPLE_AT_ONCE = 2000


def baselines_prepare(*, day: date | None = None) -> int | None:
    """Prepare the baselines of ``day`` (today, UTC) for the unusual-hours rule's window;
    return for how many people, 0 if the day was prepared already, None if the rule is off.
    Once per day and window (a second or concurrent run does nothing); older days are let go."""
    settings = next(
        (settings for module, settings in rules_enabled() if module.NAME == unusual_hours.NAME),
        None,
    )
    if settings is None:
        return None
    day = day or timezone.now().astimezone(UTC).date()
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    span = settings.baseline_days
    if BaselineDay.objects.filter(day=day, days=span).exists():
        return 0
    try:
        with transaction.atomic():
            BaselineDay.objects.create(day=day, days=span)  # a concurrent run waits here
            people = (
                ActiveHours.objects.filter(day__gte=day - timedelta(days=span), day__lt=day)
                .order_by("person_id")
                .values_list("person_id", flat=True)
                .distinct()
            )
            prepared = 0
            for some in batched(list(people), PEOPLE_AT_ONCE):
                found = history.active_hours_summed({midnight: some}, span)[midnight]
                Baseline.objects.bulk_create(
                    Baseline(
                        day=day,
                        days=span,
                        person_id=person_id,
                        by_hour=Baseline.hours_text(by_hour),
                        weekend=weekend,
                    )
                    for person_id, (by_hour, weekend) in found.items()
                )
                prepared += len(found)
            let_go = day - timedelta(days=KEPT_DAYS)
            Baseline.objects.filter(day__lt=let_go).delete()
            BaselineDay.objects.filter(day__lt=let_go).delete()
    except IntegrityError:
        return 0
    return prepared


def baselines_prepare_if_due() -> int | None:
    """``baselines_prepare`` for today unless done: for the scheduler's every tick. Never
    raises: a failure is logged, the day's evaluations sum the baselines themselves."""
    try:
        return baselines_prepare()
    except Exception:
        logger.exception("could not prepare today's baselines")
        return None
