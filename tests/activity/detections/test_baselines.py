"""Baselines prepared once a day: the same counts as summing the month, one row a person."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.detections import history
from activity.detections.baselines import baselines_prepare
from activity.detections.models import Baseline, BaselineDay, Rule
from activity.models import ActiveHours, Person

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 1)
MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)


def people_with_hours() -> tuple[int, int, int]:
    """Ada works 08:00-17:00 every day of November, Saturdays too; Bob was active twice; Cai
    only in September, outside any 30-day window of December 1st."""
    ada, bob, cai = (Person.objects.create(display_name=name).pk for name in ("Ada", "Bob", "Cai"))
    rows = [
        ActiveHours(person_id=ada, day=date(2026, 11, 1) + timedelta(days=n), hours=0x1FF << 8)
        for n in range(30)
    ]
    rows += [
        ActiveHours(person_id=bob, day=date(2026, 11, 7), hours=1 << 3),  # a Saturday
        ActiveHours(person_id=bob, day=date(2026, 11, 30), hours=1 << 3 | 1 << 22),
        ActiveHours(person_id=cai, day=date(2026, 9, 15), hours=1 << 12),
    ]
    ActiveHours.objects.bulk_create(rows)
    return ada, bob, cai


def test_a_prepared_day_is_read_one_row_a_person_with_the_counts_summing_gives():
    ada, bob, cai = people_with_hours()
    everyone = {MIDNIGHT: [ada, bob, cai]}
    summed = history.active_hours(everyone, 30)
    assert summed[MIDNIGHT][bob] == (tuple(2 if h == 3 else int(h == 22) for h in range(24)), 1)

    assert baselines_prepare(day=DAY) == 2  # Ada and Bob: Cai has no hour in the window
    assert baselines_prepare(day=DAY) == 0  # once a day
    with CaptureQueriesContext(connection) as queries:
        prepared = history.active_hours(everyone, 30)
    assert prepared == summed
    assert not any(ActiveHours._meta.db_table in query["sql"] for query in queries)
    # The rule's floor applies as it does to summed baselines; another window is summed.
    assert history.active_hours(everyone, 30, at_least=4)[MIDNIGHT].keys() == {ada}  # Bob: 3
    assert history.active_hours(everyone, 7) == history.active_hours_summed(everyone, 7)


def test_preparing_a_day_lets_older_days_go_and_follows_the_rules_thresholds():
    ada, bob, _ = people_with_hours()
    assert baselines_prepare(day=DAY - timedelta(days=5)) == 2
    Rule.objects.update_or_create(
        name="unusual_hours", defaults={"thresholds": {"baseline_days": 7}}
    )
    assert baselines_prepare(day=DAY) == 2
    assert set(Baseline.objects.values_list("day", "days", "person_id")) == {
        (DAY, 7, ada),
        (DAY, 7, bob),
    }
    assert set(BaselineDay.objects.values_list("day", "days")) == {(DAY, 7)}
    Rule.objects.filter(name="unusual_hours").update(enabled=False)
    assert baselines_prepare(day=DAY + timedelta(days=1)) is None  # the rule is off


def test_the_scheduler_prepares_the_day_once(capsys):
    people_with_hours()
    call_command("schedule_syncs")
    call_command("schedule_syncs")
    out = capsys.readouterr().out
    assert out.count("prepared today's baselines") == 1
