from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from activity.models import ActivityEvent, DailyActivity, Download
from activity.rollups import rollups_rebuild

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def two_sources(make_source):
    sources = [make_source("a"), make_source("b")]
    for source in sources:
        events = ActivityEvent.objects.bulk_create(
            ActivityEvent(
                source=source,
                external_id=f"e{i}",
                occurred_at=START + timedelta(days=i),
                action="download",
                raw="{}",
            )
            for i in range(30)
        )
        Download.objects.bulk_create(
            Download(
                event=event,
                source=source,
                downloaded_at=event.occurred_at,
                file_type="csv",
                query_uuid="q",
            )
            for event in events
        )
    rollups_rebuild()
    return sources


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_activity", *args, stdout=out)
    return out.getvalue()


def test_purge_deletes_only_older_events_of_the_source_and_says_how_many(two_sources):
    output = purge("--before", "2026-01-11", "--source", "a")
    assert "Deleted 10 events of source a" in output
    assert ActivityEvent.objects.filter(source=two_sources[0]).count() == 20
    assert ActivityEvent.objects.filter(source=two_sources[1]).count() == 30
    assert Download.objects.count() == 50
    assert sum(DailyActivity.objects.values_list("events", flat=True)) == 50
    assert not ActivityEvent.objects.filter(
        source=two_sources[0], occurred_at__lt=START + timedelta(days=10)
    ).exists()


def test_purge_works_in_batches(two_sources):
    from activity.services.retention import events_purge

    batches = []
    deleted = events_purge(before=START + timedelta(days=5), batch_size=3, on_batch=batches.append)
    assert deleted == 10
    assert batches == [3, 6, 9, 10]


def test_purge_with_bad_input_exits_2_and_deletes_nothing(two_sources):
    for args in (["--before", "soon"], ["--before", "2026-02-01", "--source", "nope"]):
        with pytest.raises(CommandError) as error:
            purge(*args)
        assert error.value.returncode == 2
    assert ActivityEvent.objects.count() == 60


def test_without_before_the_retention_setting_decides(settings, two_sources):
    settings.RETENTION_DAYS = (timezone.now() - START).days - 9  # keeps the last ~20 days
    output = purge()
    cutoff = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    expected = sum(1 for i in range(30) if START + timedelta(days=i) < cutoff) * 2
    assert f"Deleted {expected} events" in output
    assert not ActivityEvent.objects.filter(occurred_at__lt=cutoff).exists()
    assert ActivityEvent.objects.count() == 60 - expected


def test_without_before_or_retention_setting_it_refuses(settings, two_sources):
    settings.RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="RETENTION_DAYS") as error:
        purge()
    assert error.value.returncode == 2
    assert ActivityEvent.objects.count() == 60


def test_the_batch_size_is_an_option(two_sources):
    assert "Deleted 20 events" in purge("--before", "2026-01-11", "--batch-size", "3")
    with pytest.raises(CommandError):
        purge("--before", "2026-01-11", "--batch-size", "0")


@pytest.mark.django_db(transaction=True)
def test_each_batch_is_committed_on_its_own(two_sources):
    """Short transactions: another session sees each batch gone before the purge ends."""
    from activity.services.retention import events_purge

    other = connections.create_connection("default")
    seen = []

    def look(total: int) -> None:
        with other.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM activity_activityevent")
            seen.append(cursor.fetchone()[0])

    try:
        events_purge(before=START + timedelta(days=5), batch_size=4, on_batch=look)
    finally:
        other.close()
    assert seen == [56, 52, 50]
