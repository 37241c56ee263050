"""People's baselines read from the rollups: several days at once, and kept by the worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from activity.detections import history
from activity.detections.base import PROCESS_MEMO_SCOPES, Context
from activity.models import ActiveHours, Person

pytestmark = pytest.mark.django_db


def test_active_hours_of_several_days_are_each_days_own_window():
    ada, bob = (Person.objects.create(display_name=name) for name in ("Ada", "Bob"))
    rows = {
        # Ada: 09:00 and 10:00 on a Friday, 09:00 on the Saturday, 03:00 on the Monday.
        (ada, date(2026, 11, 27)): 1 << 9 | 1 << 10,
        (ada, date(2026, 11, 28)): 1 << 9,
        (ada, date(2026, 11, 30)): 1 << 3,
        (bob, date(2026, 11, 29)): 1 << 23,  # a Sunday
        (bob, date(2026, 11, 20)): 1 << 9,  # outside every window below
    }
    ActiveHours.objects.bulk_create(
        ActiveHours(person=person, day=day, hours=hours) for (person, day), hours in rows.items()
    )
    sunday, tuesday = datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    both = [ada.pk, bob.pk]
    found = history.active_hours({tuesday: both, sunday: both}, 3)

    def hours(*counts: tuple[int, int]) -> tuple[int, ...]:
        by_hour = [0] * 24
        for hour, n in counts:
            by_hour[hour] = n
        return tuple(by_hour)

    # Sunday's window: Thursday to Saturday. Tuesday's: Saturday to Monday.
    assert found[sunday] == {ada.pk: (hours((9, 2), (10, 1)), 1)}
    assert found[tuesday] == {
        ada.pk: (hours((3, 1), (9, 1)), 1),
        bob.pk: (hours((23, 1)), 1),
    }
    # Too few active hours to judge: left out.
    assert history.active_hours({tuesday: both}, 3, at_least=2)[tuesday] == {
        ada.pk: (hours((3, 1), (9, 1)), 1)
    }


def test_a_year_long_baseline_for_more_days_than_one_question_asks_counts_every_day():
    ada = Person.objects.create(display_name="Ada")
    year = [date(2025, 1, 1) + timedelta(days=n) for n in range(365)]
    # 05:00 every day of 2025; 23:00 too on the first of each month.
    hours = {day: 1 << 5 | (1 << 23 if day.day == 1 else 0) for day in year}
    ActiveHours.objects.bulk_create(
        ActiveHours(person=ada, day=day, hours=bits) for day, bits in hours.items()
    )
    days = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n) for n in range(10)]
    assert len(days) > history.WINDOWS_AT_ONCE
    found = history.active_hours({day: [ada.pk] for day in days}, 365)
    for n, day in enumerate(days):
        window = year[n:]  # the 365 days before it: 2025, less the days it has moved on
        by_hour, weekend = found[day][ada.pk]
        assert by_hour[5] == len(window) and by_hour[23] == 12 - (n > 0)
        assert sum(by_hour) == by_hour[5] + by_hour[23]
        assert weekend == sum(hours[d].bit_count() for d in window if d.isoweekday() >= 6)


def test_a_worker_keeps_the_latest_days_and_a_backtest_its_own():
    worker = Context()
    days = [f"scope {n}" for n in range(PROCESS_MEMO_SCOPES + 1)]
    for n, day in enumerate(days):
        worker.memo_for(day)[1] = n
    assert Context().memo_for(days[-1]) == {1: PROCESS_MEMO_SCOPES}  # another page, same worker
    assert Context().memo_for(days[0]) == {}  # the oldest day was let go
    backtest = Context(process_cache=False)
    assert backtest.memo_for(days[-1]) == {}
