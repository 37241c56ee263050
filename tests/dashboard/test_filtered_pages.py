"""Filtered lists: read where the rollups say matches are, within a time budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.models import ActivityEvent, Download, Identity, Source
from activity.sync.records import NormalizedEvent
from activity.sync.store import events_upsert
from dashboard import selectors
from dashboard.cursors import Cursor

from .conftest import NOW


def _sparse(source: Source) -> list[int]:
    """A few ``share`` events 0, 1, 9, 10, 30 and 60 days back among daily ``view`` events."""
    rare_days = {0, 1, 9, 10, 30, 60}
    events = [
        NormalizedEvent(
            external_id=f"sparse-{day}-{n}",
            occurred_at=NOW - timedelta(days=day, minutes=10 + n),
            action="share" if day in rare_days and n == 0 else "view",
            actor_email=f"p{n}@example.com",
            object_type="dashboard",
            raw={},
        )
        for day in range(90)
        for n in range(3)
    ]
    events_upsert(source=source, events=events)
    return list(
        ActivityEvent.objects.filter(action="share")
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )


def _walk(viewer, query: str) -> list[int]:
    """Every event the list shows, clicking "Older" to the end."""
    seen, url = [], f"/activity/?{query}"
    while url:
        response = viewer.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [event.pk for event in page.rows]
        url = f"/activity/?{query}&cursor={page.older}" if page.older else None
    return seen


@pytest.mark.parametrize("size", [50, 2])
def test_a_rare_action_is_read_only_on_the_days_that_hold_it(db, viewer, monkeypatch, size):
    source = Source.objects.create(vendor="domo", name="domo-sparse", base_url="https://x.test")
    expected = _sparse(source)
    monkeypatch.setattr("dashboard.params.PAGE_SIZE", size)
    assert _walk(viewer, "action=share") == expected
    assert _walk(viewer, f"action=share&source={source.name}&object_type=dashboard") == expected


def test_filters_that_never_meet_are_answered_empty_without_reading_an_event(data, viewer):
    # Every event in the data is a chart; Datafold has logins, Domo has no dashboards.
    with CaptureQueriesContext(connection) as queries:
        response = viewer.get("/activity/?source=domo-one&object_type=dashboard")
    assert response.status_code == 200
    assert response.context["page"].rows == [] and response.context["page"].older is None
    assert response.context["count"].value == 0
    assert not [q for q in queries if "activity_activityevent" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        response = viewer.get("/activity/?person=person1@example.com&action=nothing-like-it")
    assert response.context["page"].rows == []
    # The person resolves to persons, whose rollups prove the pair never meets.
    assert not [q for q in queries if "activity_activityevent" in q["sql"]]


def test_a_person_and_an_action_list_every_match(data, viewer):
    expected = list(
        ActivityEvent.objects.filter(actor_email="person2@example.com", action="login")
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    assert expected
    assert _walk(viewer, "person=Person2%40example.com&action=login") == expected


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the time bound is PostgreSQL's")
def test_a_filtered_list_out_of_time_says_how_far_it_got_and_carries_on(db, monkeypatch):
    source = Source.objects.create(vendor="domo", name="domo-sparse", base_url="https://x.test")
    expected = _sparse(source)
    events = ActivityEvent.objects.filter(action="share")
    monkeypatch.setattr(selectors.activity, "SEARCH_BUDGET_MS", 0)
    stopped = selectors.event_page(events, cursor=None, filtered=True)
    assert stopped.rows == [] and stopped.searched_to is not None and stopped.older
    monkeypatch.setattr(selectors.activity, "SEARCH_BUDGET_MS", 5000)
    page = selectors.event_page(events, cursor=Cursor.decode(stopped.older), filtered=True)
    assert [event.pk for event in page.rows] == expected and page.older is None


def test_the_download_person_filter_reads_the_column_that_holds_the_value(data, viewer):
    by_name = viewer.get("/downloads/?person=Person+3").context["rows"]
    by_id = viewer.get("/downloads/?person=user-3").context["rows"]
    expected = set(Download.objects.filter(user_uuid="user-3").values_list("pk", flat=True))
    assert {row.pk for row in by_name} == {row.pk for row in by_id} == expected


def test_the_person_page_lists_downloads_by_the_lightdash_id(data, viewer):
    lightdash = Identity.objects.get(source=data["lightdash"], vendor_user_id="user-3")
    response = viewer.get(f"/people/{lightdash.person_id}/")
    assert {row.user_uuid for row in response.context["downloads"]} == {"user-3"}
    assert response.context["downloads"]
