from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from activity.models import Source
from activity.sync.records import DownloadFacts, NormalizedEvent
from activity.sync.store import events_upsert, snapshot_save
from activity.vocabulary import category_by_verb
from tests.activity.conftest import simulator, source_for  # noqa: F401  (fixtures, for sync tests here)

HOSTILE = "<script>alert('x')</script> \"quotes\" \u202eRTL\u200b zero-width 🎉"
NOW = datetime.now(UTC).replace(microsecond=0)


def make_events(source: Source, count: int, *, start: datetime, step: timedelta, download=False):
    events = []
    for i in range(count):
        email = f"person{i % 7}@example.com" if source.vendor != "lightdash" else ""
        action = ["view", "edit", "download", "login"][i % 4] if not download else "download"
        events.append(
            NormalizedEvent(
                external_id=f"{source.name}-{i}",
                occurred_at=start - i * step,
                action=action,
                category=category_by_verb(action),
                # Every other sign-in fails; the rest say nothing of their outcome.
                outcome="failure" if action == "login" and i % 8 == 3 else "unknown",
                actor_id=f"user-{i % 7}",
                actor_name=HOSTILE if i == 3 else f"Person {i % 7}",
                actor_email=email,
                object_type="chart",
                object_id=f"obj-{i}",
                object_name=HOSTILE if i == 5 else f"Chart {i}",
                raw={"id": i, "note": HOSTILE, "nested": {"a": [1, None]}},
                download=DownloadFacts(
                    file_type=["csv", "xlsx"][i % 2],
                    query_uuid=f"q-{i}",
                    query_context="dashboardView",
                    user_uuid=f"user-{i % 7}",
                    user_name=f"Person {i % 7}",
                )
                if download
                else None,
            )
        )
    events_upsert(source=source, events=events)


@pytest.fixture
def data(db):
    return make_data()


def make_data() -> dict[str, Source]:
    """Four sources of 130 events each (hostile strings included) and a Lightdash snapshot."""
    sources = {}
    for vendor in ("lightdash", "datafold", "domo", "velt"):
        source = Source.objects.create(
            vendor=vendor, name=f"{vendor}-one", base_url="https://x.test"
        )
        sources[vendor] = source
        make_events(
            source,
            130,
            start=NOW - timedelta(minutes=1),
            step=timedelta(hours=5),
            download=vendor == "lightdash",
        )
    snapshot_save(
        source=sources["lightdash"],
        document={
            "numberUsers": 10,
            "numberViewers": 5,
            "numberInteractiveViewers": 2,
            "numberEditors": 2,
            "numberAdmins": 1,
            "numberWeeklyQueryingUsers": 40,
            "chartWeeklyAverageQueries": [
                {"date": "2026-11-01T00:00:00Z", "average_number_of_weekly_queries_per_user": "2.5"}
            ],
            "chartViews": [{"uuid": "c1", "name": HOSTILE, "count": 5}],
            "dashboardViews": [{"uuid": "d1", "name": "Dash", "count": "3"}],
            "tableNoQueries": [
                {"userUuid": "u9", "firstName": HOSTILE, "lastName": "Idle", "count": 120}
            ],
        },
    )
    return sources


@pytest.fixture
def viewer(db, client):
    user = User.objects.create_user("viewer", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_activityevent"))
    client.force_login(user)
    return client


@pytest.fixture
def staff(db):
    client = Client()
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    return client
