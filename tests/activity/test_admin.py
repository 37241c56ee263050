from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.admin import ActivityEventAdmin
from activity.models import ActivityEvent, Download, Source, SyncRun, UserActivitySnapshot
from activity.paginators import CappedCountPaginator
from activity.selectors import recent_matches_start

pytestmark = pytest.mark.django_db

SECRET = "do-not-leak-this-token-42"


@pytest.fixture
def source(make_source):
    return make_source(secrets={"token": SECRET})


def test_the_source_change_page_never_shows_a_stored_secret(admin_client, source):
    response = admin_client.get(reverse("admin:activity_source_change", args=[source.pk]))
    assert response.status_code == 200
    assert SECRET.encode() not in response.content
    assert b"token (set)" in response.content


def test_a_source_is_created_in_the_admin_with_encrypted_secrets(admin_client):
    response = admin_client.post(
        reverse("admin:activity_source_add"),
        {
            "vendor": "datafold",
            "name": "datafold-prod",
            "base_url": "https://app.datafold.com/",
            "params": "{}",
            "new_secrets": f"api_key={SECRET}",
            "enabled": "on",
            "sync_interval": "00:15:00",
            "initial_lookback": "90 00:00:00",
            "overlap": "01:00:00",
            "sync_state": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(name="datafold-prod")
    assert source.base_url == "https://app.datafold.com"
    assert source.secrets == {"api_key": SECRET}
    assert SECRET not in source.secrets_encrypted


def test_the_admin_refuses_a_source_with_a_missing_secret(admin_client):
    response = admin_client.post(
        reverse("admin:activity_source_add"),
        {
            "vendor": "domo",
            "name": "domo-prod",
            "base_url": "https://api.domo.com",
            "params": "{}",
            "new_secrets": "client_id=abc",
            "sync_interval": "00:15:00",
            "initial_lookback": "90 00:00:00",
            "overlap": "01:00:00",
            "sync_state": "{}",
        },
    )
    assert response.status_code == 200
    assert b"missing secret client_secret for domo" in response.content
    assert not Source.objects.exists()


def test_editing_a_source_without_secrets_keeps_the_stored_ones(admin_client, source):
    response = admin_client.post(
        reverse("admin:activity_source_change", args=[source.pk]),
        {
            "vendor": "lightdash",
            "name": source.name,
            "base_url": source.base_url,
            "params": '{"project_uuid": "p-2"}',
            "new_secrets": "",
            "sync_interval": "00:30:00",
            "initial_lookback": "90 00:00:00",
            "overlap": "01:00:00",
            "sync_state": "{}",
        },
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.secrets == {"token": SECRET}
    assert source.params == {"project_uuid": "p-2"}
    assert not source.enabled


def test_the_event_changelist_never_counts_the_whole_table(admin_client, source):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            source=source,
            external_id=f"e{i}",
            occurred_at=start + timedelta(minutes=i),
            action="download",
            actor_email="ada@example.com",
            raw="{}",
        )
        for i in range(120)
    )
    url = reverse("admin:activity_activityevent_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
        filtered = admin_client.get(url, {"q": "ada@example.com"})
    assert response.status_code == 200 and filtered.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    event_counts = [sql for sql in counts if "activity_activityevent" in sql]
    assert event_counts, "the changelist should count (a capped subquery)"
    assert all("LIMIT" in sql.upper() for sql in event_counts), event_counts


def test_events_are_read_only_in_the_admin(admin_client, source):
    assert admin_client.get(reverse("admin:activity_activityevent_add")).status_code == 403


def test_pages_require_login(client):
    response = client.get(reverse("activity"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def add_events(source, count: int, *, newest: datetime, step: timedelta, **fields):
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            source=source,
            external_id=f"{fields.get('action', 'view')}-{newest:%s}-{i}",
            occurred_at=newest - i * step,
            action=fields.get("action", "view"),
            actor_email=fields.get("actor_email", "grace@example.com"),
            actor_name=fields.get("actor_name", "Grace Hopper"),
            object_name=fields.get("object_name", f"Chart {i}"),
            raw="{}",
        )
        for i in range(count)
    )


@pytest.fixture
def records(source):
    """One of each read-only record: an event with its download, a snapshot, a sync run."""
    event = ActivityEvent.objects.create(
        source=source,
        external_id="d1",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        action="download",
        raw="{}",
    )
    return {
        "activityevent": event,
        "download": Download.objects.create(
            event=event,
            source=source,
            downloaded_at=event.occurred_at,
            file_type="csv",
            query_uuid="q-1",
        ),
        "useractivitysnapshot": UserActivitySnapshot.objects.create(source=source, raw="{}"),
        "syncrun": SyncRun.objects.create(source=source, status=SyncRun.Status.SUCCEEDED),
    }


@pytest.mark.parametrize("model", ["activityevent", "download", "useractivitysnapshot", "syncrun"])
def test_read_only_records_cannot_be_added_changed_or_deleted(admin_client, records, model):
    record = records[model]
    changelist = admin_client.get(reverse(f"admin:activity_{model}_changelist"))
    assert changelist.status_code == 200
    assert b"delete_selected" not in changelist.content
    view = admin_client.get(reverse(f"admin:activity_{model}_change", args=[record.pk]))
    assert view.status_code == 200
    assert b"deletelink" not in view.content
    assert view.context["has_delete_permission"] is False
    delete_url = reverse(f"admin:activity_{model}_delete", args=[record.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse(f"admin:activity_{model}_add")).status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()


def test_a_source_with_sync_runs_and_no_events_can_still_be_deleted(admin_client, source):
    SyncRun.objects.create(source=source, status=SyncRun.Status.FAILED, error="bad token")
    url = reverse("admin:activity_source_delete", args=[source.pk])
    assert b"permission to delete" not in admin_client.get(url).content
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Source.objects.exists() and not SyncRun.objects.exists()


def test_a_capped_count_says_more_than_the_cap_not_a_wrong_number(
    admin_client, source, monkeypatch
):
    monkeypatch.setattr(CappedCountPaginator, "cap", 100)
    add_events(source, 120, newest=datetime(2026, 11, 1, tzinfo=UTC), step=timedelta(minutes=1))
    response = admin_client.get(reverse("admin:activity_activityevent_changelist"))
    text = response.content.decode()
    assert "more than 100 activity events" in text
    assert "101 activity events" not in text
    searched = admin_client.get(
        reverse("admin:activity_activityevent_changelist"), {"q": "grace@example.com"}
    ).content.decode()
    assert "more than 100 results" in searched and "101 results" not in searched


def test_a_capped_count_offers_no_link_to_the_caps_last_page(admin_client, source, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 100)
    monkeypatch.setattr(ActivityEventAdmin, "list_per_page", 5)
    add_events(source, 120, newest=datetime(2026, 11, 1, tzinfo=UTC), step=timedelta(minutes=1))
    url = reverse("admin:activity_activityevent_changelist")
    text = admin_client.get(url).content.decode()
    assert 'href="?p=4"' in text and "…" in text
    assert 'href="?p=21"' not in text and 'href="?p=20"' not in text
    assert 'href="?p=12"' in admin_client.get(url, {"p": 9}).content.decode()


def test_an_exact_count_stays_exact(admin_client, source):
    add_events(source, 7, newest=datetime(2026, 11, 1, tzinfo=UTC), step=timedelta(minutes=1))
    text = admin_client.get(reverse("admin:activity_activityevent_changelist")).content.decode()
    assert "7 activity events" in text and "more than" not in text


def test_a_count_past_the_time_budget_says_it_was_not_counted(admin_client, source, monkeypatch):
    monkeypatch.setattr("activity.paginators.within_budget", lambda query: None)
    add_events(source, 3, newest=datetime(2026, 11, 1, tzinfo=UTC), step=timedelta(minutes=1))
    text = admin_client.get(reverse("admin:activity_activityevent_changelist")).content.decode()
    assert "not counted" in text
    assert "more than" not in text and "10001" not in text


def listed(response) -> list[ActivityEvent]:
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("term", ["lovelace", "LOVELACE", "Ada Love", "revenue", "quarterly rev"])
def test_admin_search_matches_part_of_an_email_name_or_object(admin_client, source, term):
    newest = datetime(2026, 11, 1, tzinfo=UTC)
    add_events(source, 5, newest=newest, step=timedelta(hours=1))  # Grace's
    add_events(
        source,
        2,
        newest=newest - timedelta(minutes=30),
        step=timedelta(hours=1),
        actor_email="ada.lovelace@example.com",
        actor_name="Ada Lovelace",
        object_name="Quarterly revenue",
        action="export",
    )
    response = admin_client.get(reverse("admin:activity_activityevent_changelist"), {"q": term})
    rows = listed(response)
    assert len(rows) == 2 and {row.actor_name for row in rows} == {"Ada Lovelace"}


def test_a_whole_value_finds_every_match_however_old(admin_client, source):
    newest = datetime(2026, 11, 1, tzinfo=UTC)
    add_events(source, 100, newest=newest, step=timedelta(minutes=10))
    add_events(source, 1, newest=newest - timedelta(days=300), step=timedelta(0), action="login")
    response = admin_client.get(reverse("admin:activity_activityevent_changelist"), {"q": "login"})
    assert [row.action for row in listed(response)] == ["login"]


def test_a_partial_search_reads_only_recent_events_and_says_from_when(
    admin_client, source, monkeypatch
):
    monkeypatch.setattr(ActivityEventAdmin, "search_pages", 1)  # aim for 50 matches
    newest = datetime(2026, 11, 1, 12, tzinfo=UTC)
    add_events(source, 100, newest=newest, step=timedelta(minutes=10))  # 16.5 hours of them
    add_events(source, 1, newest=newest - timedelta(days=60), step=timedelta(0), action="old")
    url = reverse("admin:activity_activityevent_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"q": "hopper"})
    rows = listed(response)
    # The 6-hour window held 37, the next one (24 hours more) the rest: not the old one.
    assert len(rows) == 50
    assert response.context["cl"].result_count == 100
    assert "Partial matches since 2026-10-31 06:00 UTC" in response.content.decode()
    page_queries = [
        q["sql"]
        for q in queries.captured_queries
        if "activity_activityevent" in q["sql"] and "LIKE" in q["sql"].upper()
    ]
    assert page_queries and all('"occurred_at" >=' in sql for sql in page_queries), page_queries


def test_a_partial_search_with_no_time_left_searches_nothing_older(
    admin_client, source, monkeypatch
):
    monkeypatch.setattr("activity.admin.recent_matches_start", _no_time_left)
    newest = datetime(2026, 11, 1, 12, tzinfo=UTC)
    add_events(source, 10, newest=newest, step=timedelta(minutes=10))
    response = admin_client.get(reverse("admin:activity_activityevent_changelist"), {"q": "hopp"})
    assert [row.occurred_at for row in listed(response)] == [newest]


def _no_time_left(matches, *, time_field, want, ms):
    return recent_matches_start(matches, time_field=time_field, want=want, ms=0)
