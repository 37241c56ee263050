"""Reads for the user activity page: its charts, from the rollups, and the most active people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import Sum

from activity.models import (
    ActorTotal,
    DailyActivity,
    DailyActor,
    Person,
    Source,
    UserActivitySnapshot,
    WeeklyActor,
    WeeklyPeople,
)
from activity.rollups import week_sql
from activity.vocabulary import Category, Outcome
from dashboard.selectors.common import first_monday
from dashboard.top import threshold_top

# Longer periods are charted by week: a year is 52 bars a series instead of 365.
WEEKLY_CHARTS_AFTER_DAYS = 90


@dataclass(frozen=True)
class ActivityBuckets:
    """The daily rollup since a day, read once in days or whole weeks and summed for each
    chart: ``(first day, vendor, category, outcome, events)``."""

    rows: list[tuple[date, str, str, str, int]]
    weekly: bool

    def by_vendor(self) -> list[tuple[date, str, int]]:
        return _summed((day, vendor, n) for day, vendor, _, _, n in self.rows)

    def by_category(self) -> list[tuple[date, str, int]]:
        return _summed((day, category, n) for day, _, category, _, n in self.rows)

    def failed_signins(self) -> list[tuple[date, str, int]]:
        """Per vendor: authentication events the vendor says failed."""
        return _summed(
            (day, vendor, n)
            for day, vendor, category, outcome, n in self.rows
            if category == Category.AUTHENTICATION and outcome == Outcome.FAILURE
        )


def activity_buckets(*, since: date, days: int) -> ActivityBuckets:
    """Events per day (or per week, for periods over ``WEEKLY_CHARTS_AFTER_DAYS``) by vendor,
    category and outcome since ``since``."""
    weekly = days > WEEKLY_CHARTS_AFTER_DAYS
    bucket = week_sql() if weekly else "day"
    if weekly:  # whole weeks only: a week cut by the period's start would read as a dip
        since = first_monday(since)
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    with connection.cursor() as cursor:
        # Plain tuples: the ORM's per-row work was most of the page's time for a year of days.
        cursor.execute(
            f"SELECT {bucket}, source_id, category, outcome, sum(events) "
            f"FROM {DailyActivity._meta.db_table} WHERE day >= %s GROUP BY 1, 2, 3, 4",
            [since],
        )
        rows = cursor.fetchall()
    return ActivityBuckets(
        [
            (_as_date(day), vendor_of[source], category, outcome, int(n))
            for day, source, category, outcome, n in rows
        ],
        weekly=weekly,
    )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))  # SQLite: text


def _summed(rows) -> list[tuple[date, str, int]]:
    totals: Counter[tuple[date, str]] = Counter()
    for day, value, events in rows:
        totals[day, value] += events
    return [(day, value, events) for (day, value), events in sorted(totals.items())]


def weekly_active_people(*, since: date) -> list[tuple[date, int]]:
    """Distinct people per whole week (weeks start on Monday) from the first Monday on or
    after ``since``: a week cut by the period's start would be drawn as a dip."""
    return list(
        WeeklyPeople.objects.filter(week__gte=first_monday(since), people__gt=0)
        .order_by("week")
        .values_list("week", "people")
    )


def top_people(*, since: date, limit: int = 10) -> list[tuple[Person, int]]:
    """The most active persons since ``since``, without summing everyone's period: whole
    weeks from the weekly rollup, the days before the first Monday from the daily one.
    Anonymous users (embedded viewers, no id) are nobody in particular and not listed."""
    totals = (
        ActorTotal.objects.exclude(person__kind=Person.Kind.ANONYMOUS)
        .order_by("-events", "person_id")
        .values_list("person_id", "events")
    )
    top = threshold_top(totals, lambda keys: _period_events(since=since, keys=keys), limit=limit)
    persons = Person.objects.in_bulk([person_id for person_id, _ in top])
    return [(persons[person_id], events) for person_id, events in top]


def _period_events(*, since: date, keys: list[int] | None) -> Counter[int]:
    first_full = first_monday(since)
    counted: Counter[int] = Counter()
    weekly = WeeklyActor.objects.filter(week__gte=first_full)
    daily = DailyActor.objects.filter(day__gte=since, day__lt=first_full)
    if keys is not None:
        weekly, daily = weekly.filter(person_id__in=keys), daily.filter(person_id__in=keys)
    else:
        anonymous = Person.objects.filter(kind=Person.Kind.ANONYMOUS).values("id")
        weekly, daily = (
            weekly.exclude(person_id__in=anonymous),
            daily.exclude(person_id__in=anonymous),
        )
    for rows in (weekly, daily):
        for key, events in rows.values_list("person_id").annotate(n=Sum("events")).order_by():
            counted[key] += events
    return counted


def lightdash_snapshots(*, since: date) -> list[tuple[str, datetime, float | None]]:
    """``(source name, taken at, weekly querying users %)``, the last snapshot of each source
    and day: a year of hourly snapshots is one point a day."""
    rows = (
        UserActivitySnapshot.objects.filter(taken_at__date__gte=since)
        .order_by("taken_at")
        .values_list("source__name", "taken_at", "weekly_querying_users_percent")
    )
    last_of_day = {
        (name, taken_at.date()): (name, taken_at, value) for name, taken_at, value in rows
    }
    return list(last_of_day.values())


def latest_snapshot() -> UserActivitySnapshot | None:
    return UserActivitySnapshot.objects.select_related("source").order_by("-taken_at").first()
