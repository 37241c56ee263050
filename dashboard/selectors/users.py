"""Reads for the user activity page: its charts, from the rollups, and the most active people."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.db.models import Sum

from activity.models import (
    ActorTotal,
    DailyActivity,
    DailyActor,
    Source,
    UserActivitySnapshot,
    WeeklyActor,
    WeeklyPeople,
)
from activity.vocabulary import Category, Outcome
from dashboard.selectors.common import first_monday
from dashboard.top import threshold_top


def daily_events_by_vendor(*, since: date) -> list[tuple[date, str, int]]:
    return _daily_events(DailyActivity.objects.filter(day__gte=since), by="vendor")


def daily_events_by_category(*, since: date) -> list[tuple[date, str, int]]:
    return _daily_events(DailyActivity.objects.filter(day__gte=since), by="category")


def daily_failed_signins(*, since: date) -> list[tuple[date, str, int]]:
    """Failed sign-ins per day and vendor: authentication events the vendor says failed."""
    rows = DailyActivity.objects.filter(
        day__gte=since, category=Category.AUTHENTICATION, outcome=Outcome.FAILURE
    )
    return _daily_events(rows, by="vendor")


def _daily_events(rows, *, by: str) -> list[tuple[date, str, int]]:
    """``(day, vendor or category, events)`` from daily rollup rows, in order."""
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    column = "source_id" if by == "vendor" else by
    totals: Counter[tuple[date, str]] = Counter()
    for day, value, events in (
        rows.values_list("day", column).annotate(events=Sum("events")).order_by()
    ):
        totals[day, vendor_of[value] if by == "vendor" else value] += events
    return [(day, value, events) for (day, value), events in sorted(totals.items())]


def weekly_active_people(*, since: date) -> list[tuple[date, int]]:
    """Distinct people per whole week (weeks start on Monday) from the first Monday on or
    after ``since``: a week cut by the period's start would be drawn as a dip."""
    return list(
        WeeklyPeople.objects.filter(week__gte=first_monday(since), people__gt=0)
        .order_by("week")
        .values_list("week", "people")
    )


def top_people(*, since: date, limit: int = 10) -> list[tuple[str, int]]:
    """The most active people since ``since``, without summing everyone's period: whole
    weeks from the weekly rollup, the days before the first Monday from the daily one."""
    totals = ActorTotal.objects.order_by("-events", "actor_key").values_list("actor_key", "events")
    return threshold_top(totals, lambda keys: _period_events(since=since, keys=keys), limit=limit)


def _period_events(*, since: date, keys: list[str] | None) -> Counter[str]:
    first_full = first_monday(since)
    counted: Counter[str] = Counter()
    weekly = WeeklyActor.objects.filter(week__gte=first_full)
    daily = DailyActor.objects.filter(day__gte=since, day__lt=first_full)
    if keys is not None:
        weekly, daily = weekly.filter(actor_key__in=keys), daily.filter(actor_key__in=keys)
    for rows in (weekly, daily):
        for key, events in rows.values_list("actor_key").annotate(n=Sum("events")).order_by():
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
