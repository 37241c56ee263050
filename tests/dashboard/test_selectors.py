from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Sum

from activity.models import ActivityEvent, DailyActor, Download, UserActivitySnapshot
from activity.rollups import week_of
from activity.selectors import person_match, within_budget
from dashboard import selectors
from dashboard.cursors import Cursor

from .conftest import NOW


@pytest.mark.parametrize("first_batch", [50, 1])
@pytest.mark.parametrize("days_back", [6, 13, 20, 27])
def test_chart_rollups_give_what_a_daily_recount_gives(data, days_back, first_batch, monkeypatch):
    # Starting on every weekday: the days before the first Monday come from the daily rollup;
    # a first batch of one candidate makes the top people take several rounds of candidates.
    monkeypatch.setattr("dashboard.top.FIRST_BATCH", first_batch)
    since = NOW.date() - timedelta(days=days_back)
    daily = DailyActor.objects.filter(day__gte=since)
    expected_top = sorted(
        daily.values_list("person_id").annotate(n=Sum("events")), key=lambda r: (-r[1], r[0])
    )[:10]
    top = selectors.top_people(since=since)
    assert [(person.pk, events) for person, events in top] == expected_top
    weeks: dict = {}
    for day, key in daily.values_list("day", "person_id"):
        weeks.setdefault(week_of(day), set()).add(key)
    # Whole weeks only: the week that the period's start cuts is left out, not drawn as a dip.
    expected_weeks = sorted((week, len(keys)) for week, keys in weeks.items() if week >= since)
    assert selectors.weekly_active_people(since=since) == expected_weeks


def test_person_filter_uses_only_the_columns_that_hold_the_value(data):
    by_email = ActivityEvent.objects.filter(person_match("PERSON1@example.com"))
    by_id = ActivityEvent.objects.filter(person_match("user-1"))
    by_name = ActivityEvent.objects.filter(person_match(" Person 1 "))
    assert (
        by_email.count() == ActivityEvent.objects.filter(actor_email="person1@example.com").count()
    )
    assert by_id.count() == ActivityEvent.objects.filter(actor_id="user-1").count() > 0
    assert by_name.count() == ActivityEvent.objects.filter(actor_name="Person 1").count() > 0
    assert not ActivityEvent.objects.filter(person_match("nobody")).exists()


def test_free_text_matches_any_field_in_any_case_and_treats_wildcards_literally(data):
    def found(text):
        return set(
            ActivityEvent.objects.filter(selectors.text_match(text)).values_list("pk", flat=True)
        )

    assert found("CHART 12") == set(
        ActivityEvent.objects.filter(object_name__icontains="chart 12").values_list("pk", flat=True)
    )
    assert found("person3@EXAMPLE") and found("%") == set() and found("_") == set()
    assert len(found("edit")) == ActivityEvent.objects.filter(action="edit").count()
    assert ActivityEvent.objects.aggregate(n=Count("id"))["n"] > len(found("edit"))


@pytest.mark.parametrize(
    "since_days, until_days", [(None, None), (3, None), (None, 9), (20, 2), (12, 11), (5, 5)]
)
def test_download_totals_from_rollups_match_a_count(data, since_days, until_days, monkeypatch):
    monkeypatch.setattr("dashboard.top.FIRST_BATCH", 1)  # top downloaders in several rounds
    today = NOW.date()
    since = today - timedelta(days=since_days) if since_days is not None else None
    until = today - timedelta(days=until_days) if until_days is not None else None
    rows = Download.objects.all()
    if since:
        rows = rows.filter(downloaded_at__date__gte=since)
    if until:
        rows = rows.filter(downloaded_at__date__lte=until)
    counted = selectors.download_totals(rows, days=None)
    from_rollups = selectors.download_totals_from_rollups(since=since, until=until)
    assert dict(from_rollups["file_type"]) == dict(counted["file_type"])
    assert dict(from_rollups["person"]) == dict(counted["person"])


def _search(text, cursor=None):
    events = selectors.event_list().filter(selectors.text_match(text))
    return selectors.event_page(events, cursor=cursor, filtered=True)


def _all_pages(text):
    seen, cursor = [], None
    while True:
        page = _search(text, cursor)
        seen += [event.pk for event in page.rows]
        if not page.older:
            return seen, page
        cursor = Cursor.decode(page.older)


def test_a_text_search_pages_through_every_match_newest_first(data):
    expected = list(
        ActivityEvent.objects.filter(selectors.text_match("chart"))
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    seen, last = _all_pages("chart")
    assert seen == expected and len(expected) > 50
    assert last.searched_to is None


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the time bound is PostgreSQL's")
def test_a_search_out_of_time_says_how_far_it_got_and_carries_on_from_there(data, monkeypatch):
    expected = list(
        ActivityEvent.objects.filter(selectors.text_match("person 3"))
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    monkeypatch.setattr(selectors.activity, "SEARCH_BUDGET_MS", 0)
    stopped = _search("person 3")
    assert stopped.rows == [] and stopped.searched_to is not None and stopped.older
    monkeypatch.setattr(selectors.activity, "SEARCH_BUDGET_MS", 5000)
    monkeypatch.setattr(selectors.activity, "SEARCH_FIRST_WINDOW", timedelta(hours=1))
    seen, cursor = [], Cursor.decode(stopped.older)
    while cursor:
        page = _search("person 3", cursor)
        seen += [event.pk for event in page.rows]
        cursor = Cursor.decode(page.older) if page.older else None
    assert seen == expected and expected


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="statement timeouts are PostgreSQL's"
)
def test_a_time_budget_ends_with_its_query(db):
    def run(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    before = run("SHOW statement_timeout")
    assert within_budget(lambda: run("SHOW statement_timeout"), ms=40) == "40ms"
    assert within_budget(lambda: run("SELECT pg_sleep(0.3)"), ms=40) is None
    assert run("SHOW statement_timeout") == before


def test_the_lightdash_history_keeps_the_last_snapshot_of_each_source_and_day(make_source):
    source = make_source(name="ld-history")
    day = NOW.replace(hour=1, minute=0, second=0, microsecond=0)
    for hours, percent in [(0, 10.0), (5, 20.0), (22, 30.0), (25, 40.0)]:
        UserActivitySnapshot.objects.create(
            source=source,
            taken_at=day + timedelta(hours=hours),
            weekly_querying_users_percent=percent,
            raw="{}",
        )
    points = selectors.lightdash_snapshots(since=day.date())
    assert [(name, percent) for name, _, percent in points] == [
        ("ld-history", 30.0),
        ("ld-history", 40.0),
    ]
