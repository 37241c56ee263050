from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.models import ActivityEvent, Source

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
