"""Every page with the Django client: filters, pagination, fragments, errors, permissions."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activity.models import ActivityEvent, Identity, Source, UserActivitySnapshot
from activity.rollups import rollups_rebuild
from dashboard.cursors import Cursor
from tests.dashboard.conftest import HOSTILE, NOW, make_events

pytestmark = pytest.mark.django_db
PAGES = ["activity", "downloads", "users", "sources"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_a_user_without_the_view_permission_is_refused(client, name):
    client.force_login(User.objects.create_user("nobody"))
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_for_a_viewer(viewer, data, name):
    response = viewer.get(reverse(name))
    assert response.status_code == 200
    assert HOSTILE.encode() not in response.content  # escaped, never raw


def test_the_log_is_newest_first_and_pages_older_and_newer(viewer, data):
    first = viewer.get(reverse("activity"))
    rows = first.context["page"].rows
    assert [r.occurred_at for r in rows] == sorted((r.occurred_at for r in rows), reverse=True)
    older = viewer.get(reverse("activity"), {"cursor": first.context["page"].older})
    older_rows = older.context["page"].rows
    assert older_rows[0].occurred_at <= rows[-1].occurred_at
    assert not {r.pk for r in rows} & {r.pk for r in older_rows}
    newer = viewer.get(reverse("activity"), {"cursor": older.context["page"].newer})
    assert [r.pk for r in newer.context["page"].rows] == [r.pk for r in rows]


def test_the_pager_links_keep_the_filters(viewer, data):
    first = viewer.get(reverse("activity"), {"vendor": "velt"})
    link = re.search(r'rel="next" href="([^"]+)"', first.content.decode()).group(1)
    older = viewer.get(reverse("activity") + html.unescape(link))
    assert older.context["page"].rows
    assert {row.source.vendor for row in older.context["page"].rows} == {"velt"}
    assert older.context["page"].rows[0].pk not in {row.pk for row in first.context["page"].rows}


def test_an_older_page_is_stable_when_new_events_arrive(viewer, data):
    first = viewer.get(reverse("activity"))
    cursor = first.context["page"].older
    before = [
        r.pk for r in viewer.get(reverse("activity"), {"cursor": cursor}).context["page"].rows
    ]
    make_events(data["velt"], 5, start=NOW, step=timedelta(seconds=1))
    after = [r.pk for r in viewer.get(reverse("activity"), {"cursor": cursor}).context["page"].rows]
    assert before == after


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ({"vendor": "domo"}, lambda e: e.source.vendor == "domo"),
        ({"source": "velt-one"}, lambda e: e.source.name == "velt-one"),
        ({"person": "PERSON3@example.com"}, lambda e: e.actor_email == "person3@example.com"),
        ({"person": "user-2"}, lambda e: e.actor_id == "user-2"),
        ({"action": "edit"}, lambda e: e.action == "edit"),
        ({"object_type": "chart"}, lambda e: e.object_type == "chart"),
        ({"range": "24h"}, lambda e: e.occurred_at >= NOW - timedelta(hours=25)),
        ({"q": "Chart 1"}, lambda e: "Chart 1" in e.object_name),
    ],
)
def test_each_filter_keeps_only_matching_events(viewer, data, query, check):
    response = viewer.get(reverse("activity"), query)
    rows = response.context["page"].rows
    assert rows and all(check(row) for row in rows)


def test_a_custom_range_is_read_in_the_viewers_time_zone(viewer, data):
    day = (NOW - timedelta(days=3)).date().isoformat()
    response = viewer.get(
        reverse("activity"), {"date_from": day, "date_to": day, "tz": "Pacific/Auckland"}
    )
    rows = response.context["page"].rows
    assert rows
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Pacific/Auckland")
    assert all(row.occurred_at.astimezone(zone).date().isoformat() == day for row in rows)


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "not-a-date"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        {"range": "3y"},
        {"vendor": "salesforce"},
        {"cursor": "forged"},
        {"cursor": Cursor(NOW, 1, "older").encode()[:-3] + "abc"},
    ],
)
def test_bad_input_is_a_clear_400_never_a_500(viewer, data, query):
    response = viewer.get(reverse("activity"), query)
    assert response.status_code == 400
    assert b'role="alert"' in response.content


def test_htmx_requests_get_only_the_results_fragment(viewer, data):
    response = viewer.get(reverse("activity"), {"vendor": "velt"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b'id="results"' in response.content and b"<html" not in response.content
    full = viewer.get(reverse("activity"), {"vendor": "velt"})
    assert b"<html" in full.content


def test_counts_and_facets_never_count_the_whole_event_table(viewer, data):
    with CaptureQueriesContext(connection) as queries:
        response = viewer.get(reverse("activity"), {"person": "person1@example.com"})
    assert response.status_code == 200
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "activity_activityevent" in q["sql"]
    ]
    plain_counts = [
        sql for sql in counts if "LIMIT" not in sql.upper() and "GROUP BY" not in sql.upper()
    ]
    assert not plain_counts
    facets = response.context["facets"]
    assert dict(facets["vendor"]).keys() <= {"datafold", "domo", "velt"}


def test_facets_without_raw_filters_come_from_the_rollups(viewer, data):
    response = viewer.get(reverse("activity"), {"range": "7d"})
    vendors = dict(response.context["facets"]["vendor"])
    assert set(vendors) == {"lightdash", "datafold", "domo", "velt"}


def test_the_detail_shows_every_field_and_the_raw_record_escaped(viewer, data):
    event = ActivityEvent.objects.get(external_id="velt-one-5")
    response = viewer.get(reverse("activity_detail", args=[event.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert event.external_id in body and "&lt;script&gt;" in body and "<script>alert" not in body
    assert '"nested"' in body or "&quot;nested&quot;" in body


def test_the_export_streams_the_filtered_events_oldest_first(viewer, data):
    response = viewer.get(reverse("activity_export", args=["csv"]), {"vendor": "domo"})
    assert response.status_code == 200 and response.streaming
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 130 and {row["vendor"] for row in rows} == {"domo"}
    assert rows[0]["occurred_at"] < rows[-1]["occurred_at"]
    lines = b"".join(
        viewer.get(reverse("activity_export", args=["jsonl"])).streaming_content
    ).splitlines()
    assert json.loads(lines[0])["raw"]["note"] == HOSTILE


def test_download_audit_has_numbered_pages_and_totals(viewer, data):
    response = viewer.get(reverse("downloads"), {"file_type": "csv"})
    assert response.status_code == 200
    page = response.context["numbered"]
    assert page.paginator.count == 65 and all(d.file_type == "csv" for d in page.object_list)
    assert dict(response.context["totals"]["file_type"]) == {"csv": 65}
    html = response.content.decode()
    assert html.count('<span class="tag">csv</span>') == 50
    assert "Page 1 of 2" in html and 'href="?file_type=csv&amp;page=2"' in html
    assert viewer.get(reverse("downloads"), {"page": "99"}).status_code == 400


def test_user_activity_builds_every_chart(viewer, data):
    response = viewer.get(reverse("users"), {"period": "90"})
    figures = response.context["figures"]
    assert {"per_day", "weekly", "lightdash", "roles", "charts_viewed"} <= set(figures)
    assert "top" not in figures  # the most active people are a list, once
    per_day = json.loads(figures["per_day"])
    assert {trace["name"] for trace in per_day["data"]} == {"Lightdash", "Datafold", "Domo", "Velt"}
    assert per_day["data"][0]["meta"].startswith("/activity/?vendor=")
    assert per_day["data"][0]["meta"].endswith("date_from={x}&date_to={end}")
    assert per_day["data"][0]["customdata"] == per_day["data"][0]["x"]  # a day ends on itself
    # A year is charted by whole weeks: each bar's link ends on its Sunday.
    year = json.loads(viewer.get(reverse("users"), {"period": "365"}).context["figures"]["per_day"])
    assert "per week" in year["layout"]["title"]["text"]
    monday, sunday = year["data"][0]["x"][0], year["data"][0]["customdata"][0]
    assert (date.fromisoformat(sunday) - date.fromisoformat(monday)).days == 6
    assert date.fromisoformat(monday).weekday() == 0
    assert viewer.get(reverse("users"), {"period": "13"}).status_code == 400


def test_charts_tell_the_truth_about_partial_and_empty_periods(viewer, data):
    figures = viewer.get(reverse("users"), {"period": "90"}).context["figures"]
    per_day = json.loads(figures["per_day"])
    today = timezone.now().date()
    assert per_day["layout"]["shapes"][0]["x1"] == f"{today}T12:00:00"  # today veiled: not over
    weekly = json.loads(figures["weekly"])
    assert weekly["data"][-1]["name"] == "this week so far" and len(weekly["data"][-1]["x"]) == 1
    # The one Lightdash snapshot is a number, not a one-point line.
    assert UserActivitySnapshot.objects.count() == 1
    assert [trace["type"] for trace in json.loads(figures["lightdash"])["data"]] == ["indicator"]
    ActivityEvent.objects.all().delete()
    rollups_rebuild()
    empty = json.loads(viewer.get(reverse("users")).context["figures"]["per_day"])
    assert empty["data"] == []
    assert empty["layout"]["annotations"][0]["text"] == "No activity in this period"


def test_a_person_page_joins_their_events_across_vendors(viewer, data):
    response = viewer.get(reverse("person_by_key", args=["person2@example.com"]), follow=True)
    assert response.status_code == 200
    vendors = {row.source.vendor for row in response.context["page"].rows}
    assert vendors == {"datafold", "domo", "velt"}
    lightdash = Identity.objects.get(source=data["lightdash"], vendor_user_id="user-2")
    lightdash_user = viewer.get(reverse("person", args=[lightdash.person_id]))
    assert lightdash_user.context["downloads"]


def test_only_staff_can_start_a_sync_and_it_is_queued_once(
    viewer, staff, data, client, django_capture_on_commit_callbacks
):
    source = Source.objects.get(name="velt-one")
    url = reverse("source_sync", args=[source.pk])
    assert viewer.post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        staff_response = staff.post(url)
    assert staff_response.status_code == 302
    source.refresh_from_db()
    assert source.sync_task_id
    first_task = source.sync_task_id
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url)
    source.refresh_from_db()
    assert source.sync_task_id == first_task  # already queued: not queued twice
