"""recent_matches_start: how far back a search no index serves may read, within its budget."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from activity.models import ActivityEvent
from activity.selectors import recent_matches_start
from tests.activity.test_admin import add_events

pytestmark = pytest.mark.django_db
NEWEST = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def hourly(make_source):
    """Ten days of hourly events."""
    add_events(make_source(), 240, newest=NEWEST, step=timedelta(hours=1))
    return ActivityEvent.objects.all()


def test_when_the_whole_table_fits_nothing_bounds_the_search(hourly):
    assert recent_matches_start(hourly, time_field="occurred_at", want=1000) is None


def test_the_search_stops_at_the_window_that_holds_enough_matches(hourly):
    # 6 hours hold 7 events, 6 + 24 hours hold 31.
    assert recent_matches_start(hourly, time_field="occurred_at", want=20) == NEWEST - timedelta(
        hours=30
    )


def test_an_empty_table_bounds_nothing(db):
    events = ActivityEvent.objects.all()
    assert recent_matches_start(events, time_field="occurred_at", want=10) is None


@pytest.mark.postgres
def test_a_window_past_the_budget_ends_the_search_where_it_got_to(hourly):
    slow = hourly.filter(RawSQL("pg_sleep(0.02) IS NOT NULL", [], output_field=BooleanField()))
    started = time.monotonic()
    since = recent_matches_start(slow, time_field="occurred_at", want=20, ms=50)
    assert since == NEWEST  # not even the first six hours (7 events, 20 ms each) could be read
    assert time.monotonic() - started < 0.5
