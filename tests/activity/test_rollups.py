from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from activity.models import (
    ActiveHours,
    ActorTotal,
    DailyActivity,
    DailyActor,
    HourlyActor,
    Person,
    WeeklyActor,
    WeeklyPeople,
)
from activity.rollups import rollups_rebuild
from activity.services.retention import events_purge
from activity.sync.records import NormalizedEvent
from activity.sync.store import events_upsert

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)


def events(n: int, start: datetime = DAY) -> list[NormalizedEvent]:
    return [
        NormalizedEvent(
            external_id=f"e{i}",
            occurred_at=start + timedelta(minutes=20 * i),
            action="view" if i % 2 else "edit",
            object_type="chart" if i % 4 else "dashboard",
            actor_email="Ada@Example.com" if i % 3 else "",
            actor_id="" if i % 3 else f"u{i}",
            raw={"i": i},
        )
        for i in range(n)
    ]


def snapshot():
    activity = sorted(DailyActivity.objects.values_list("day", "action", "object_type", "events"))
    actors = sorted(DailyActor.objects.values_list("day", "person_id", "events"))
    weeks = sorted(WeeklyActor.objects.values_list("week", "person_id", "events"))
    people = sorted(WeeklyPeople.objects.values_list("week", "people"))
    totals = sorted(ActorTotal.objects.values_list("person_id", "events"))
    hours = sorted(HourlyActor.objects.values_list("person_id", "hour", "category", "events"))
    active = sorted(ActiveHours.objects.values_list("person_id", "day", "hours"))
    return activity, actors, weeks, people, totals, hours, active


def test_rollups_count_only_new_events_and_match_a_full_recount(make_source):
    source = make_source()
    assert events_upsert(source=source, events=events(6)) == 6
    assert events_upsert(source=source, events=events(9)) == 3  # 6 already known
    incremental = snapshot()
    assert DailyActivity.objects.aggregate(total=Sum("events"))["total"] == 9
    ada = Person.objects.get(primary_email="ada@example.com")
    assert ada.pk in {person_id for _, person_id, _ in incremental[1]}
    rollups_rebuild()
    assert snapshot() == incremental


def test_a_purge_takes_its_events_out_of_the_rollups(make_source):
    source = make_source()
    events_upsert(source=source, events=events(9))
    events_purge(before=DAY + timedelta(hours=1))
    after_purge = snapshot()
    rollups_rebuild()
    assert snapshot() == after_purge
    assert DailyActivity.objects.aggregate(total=Sum("events"))["total"] == 6


def test_the_weekly_rollup_starts_weeks_on_monday(make_source):
    source = make_source()
    # 2026-11-01 is a Sunday: its events belong to the week of Monday 2026-10-26.
    events_upsert(source=source, events=events(9))
    weeks = dict(
        ((week, key), n)
        for week, key, n in WeeklyActor.objects.values_list("week", "person_id", "events")
    )
    assert set(week.isoformat() for week, _ in weeks) == {"2026-10-26", "2026-11-02"}
    assert sum(weeks.values()) == 9
    rollups_rebuild()
    assert sorted(WeeklyActor.objects.values_list("week", "person_id", "events")) == sorted(
        (week, key, n) for (week, key), n in weeks.items()
    )
