"""Writing a page of events: exactly once, whichever way the rows reach the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activity.models import ActivityEvent, Download
from activity.sync.records import DownloadFacts, NormalizedEvent
from activity.sync.store import events_upsert

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 1, tzinfo=UTC)


def downloads(keys: range) -> list[NormalizedEvent]:
    return [
        NormalizedEvent(
            external_id=f"d{key}",
            occurred_at=START + timedelta(minutes=key),
            action="download",
            actor_name="Ada Lovelace",
            raw={"downloadUuid": f"d{key}"},
            download=DownloadFacts(
                file_type="csv",
                query_uuid=f"q{key}",
                query_context="sqlRunner",
                user_uuid="u1",
                user_name="Ada Lovelace",
            ),
        )
        for key in keys
    ]


def stored(source) -> list[tuple[str, str]]:
    return sorted(
        Download.objects.filter(source=source).values_list("event__external_id", "query_uuid")
    )


def test_a_page_overlapping_stored_events_adds_only_the_new_ones_with_their_downloads(
    make_source,
):
    source = make_source()
    assert events_upsert(source=source, events=downloads(range(0, 6))) == 6
    assert events_upsert(source=source, events=downloads(range(3, 10)) * 2) == 4
    assert ActivityEvent.objects.filter(source=source).count() == 10
    assert stored(source) == sorted((f"d{key}", f"q{key}") for key in range(10))


def test_a_page_of_only_known_events_adds_nothing(make_source):
    source = make_source()
    events_upsert(source=source, events=downloads(range(0, 5)))
    assert events_upsert(source=source, events=downloads(range(0, 5))) == 0
    assert events_upsert(source=source, events=downloads(range(4, 5))) == 0
    assert ActivityEvent.objects.filter(source=source).count() == 5
    assert Download.objects.filter(source=source).count() == 5
