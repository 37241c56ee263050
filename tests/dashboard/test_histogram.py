"""The log's events per day: from the daily rollups only, each day a link to itself."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.models import Person
from dashboard import selectors
from dashboard.rollup_scope import RollupScope
from tests.dashboard.conftest import NOW

pytestmark = pytest.mark.django_db
TODAY = NOW.date()


def test_the_days_come_from_the_rollups_alone_with_empty_days_filled(data):
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.event_days(RollupScope(vendor="velt"), today=TODAY)
    assert not any("activity_activityevent" in q["sql"] for q in queries.captured_queries)
    assert len(counts.days) == selectors.activity.HISTOGRAM_DAYS
    assert [day for day, _ in counts.days] == sorted(day for day, _ in counts.days)
    assert counts.days[-1][0] == TODAY
    # 130 events, one every 5 hours: 27 days of them, the older days empty.
    assert sum(n for _, n in counts.days) == 130
    assert counts.days[0][1] == 0 and not counts.upper_bound and not counts.cut


def test_a_long_range_shows_its_last_year_and_says_so(data):
    scope = RollupScope(since=date(2020, 1, 1), until=TODAY)
    counts = selectors.event_days(scope, today=TODAY)
    assert counts.cut and len(counts.days) == selectors.activity.HISTOGRAM_MAX_DAYS
    future = RollupScope(since=TODAY + timedelta(days=3))
    assert selectors.event_days(future, today=TODAY).days == []


def test_a_person_with_an_action_is_counted_as_at_most(data):
    person = Person.objects.get(primary_email="person1@example.com")
    scope = RollupScope(persons=(person.pk,), actions=("view",))
    assert selectors.event_days(scope, today=TODAY).upper_bound


def test_the_log_shows_the_histogram_and_a_day_narrows_the_filter(viewer, data):
    response = viewer.get(reverse("activity"), {"vendor": "domo", "range": "30d", "cursor": ""})
    body = response.content.decode()
    assert '<figure class="histogram">' in body
    bars = re.findall(r'<a href="\?([^"]+)" tabindex="-1"><rect class="hit"', body)
    assert len(bars) == 31  # the last 30 days, from the start of the first UTC day
    last = html.unescape(bars[-1])
    assert last == f"vendor=domo&date_from={TODAY}&date_to={TODAY}"
    titles = re.findall(r"<title>\w{3} ([\d-]+): (\d+) events?</title>", body)
    assert sum(int(n) for _, n in titles) == 130


def test_a_text_search_says_why_it_has_no_histogram(viewer, data):
    body = viewer.get(reverse("activity"), {"q": "Chart 1"}).content.decode()
    assert "histogram-note" in body and '<figure class="histogram">' not in body


def test_no_histogram_when_no_day_holds_an_event(viewer, data):
    body = viewer.get(reverse("activity"), {"vendor": "domo", "action": "nothing-like-it"})
    assert '<figure class="histogram">' not in body.content.decode()


def test_a_long_range_has_a_bar_per_week_ending_on_its_last_day(viewer, data):
    start = TODAY - timedelta(days=199)
    body = viewer.get(reverse("activity"), {"date_from": start}).content.decode()
    assert "<strong>Events per week</strong>" in body
    bars = [html.unescape(b) for b in re.findall(r'<a href="\?([^"]+)" tabindex="-1">', body)]
    assert len(bars) == 29  # 200 days: 4 days, then 28 whole weeks
    assert bars[0] == f"date_from={start}&date_to={start + timedelta(days=3)}"
    assert bars[-1] == f"date_from={TODAY - timedelta(days=6)}&date_to={TODAY}"


def test_the_filters_text_is_escaped_in_the_bars_links(viewer, data):
    query = {"vendor": "velt", "note": '"><script>x</script>'}
    body = viewer.get(reverse("activity"), query).content.decode()
    assert '<figure class="histogram">' in body and "<script>x" not in body
    assert "note=%22%3E%3Cscript%3Ex%3C%2Fscript%3E&amp;date_from=" in body
