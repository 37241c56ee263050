from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from activity.models import ActivityEvent, Identity, Person
from activity.rollups import rollups_add
from activity.vocabulary import Category, Outcome

# A Wednesday, so that the baselines before it hold whole weeks.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_numbers = itertools.count()


@pytest.fixture
def source(make_source):
    return make_source("acme-df", vendor="datafold", params={}, secrets={"api_key": "k" * 8})


@pytest.fixture
def person(db):
    def make(name: str = "Ada Lovelace", kind: str = Person.Kind.HUMAN) -> Person:
        email = name.lower().replace(" ", ".") + "@example.com"
        return Person.objects.create(display_name=name, primary_email=email, kind=kind)

    return make


@pytest.fixture
def events(source):
    """Store events of ``who`` at the given times (oldest first), with their rollups, as a
    sync would."""

    def add(
        who: Person | None,
        times: list[datetime],
        *,
        category: str = Category.READ,
        outcome: str = Outcome.SUCCESS,
        action: str = "view",
        ip: str = "",
        into=None,
    ) -> list[ActivityEvent]:
        rows = [
            ActivityEvent(
                source=into or source,
                external_id=f"e{next(_numbers)}",
                occurred_at=moment,
                actor_email=who.primary_email if who else "",
                action=action,
                category=category,
                outcome=outcome,
                ip_address=ip,
                raw="{}",
                person=who,
            )
            for moment in times
        ]
        stored = ActivityEvent.objects.bulk_create(rows)
        rollups_add(
            (e.source_id, e.occurred_at, e.action, "", e.category, e.outcome, e.person_id)
            for e in stored
        )
        return stored

    return add


def every(start: datetime, count: int, step: timedelta) -> list[datetime]:
    return [start + i * step for i in range(count)]


def office_hours(days: int, *, before: datetime = NOW, per_day: int = 4) -> list[datetime]:
    """``per_day`` events between 09:00 and 16:00 UTC on each weekday of the ``days`` before."""
    start = (before - timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    times = []
    for day in range(days):
        moment = start + timedelta(days=day)
        if moment.isoweekday() < 6 and moment < before:
            times += every(moment, per_day, timedelta(hours=7) / per_day)
    return [t for t in times if t < before]


def deactivated_identity(source, who: Person, seen_at: datetime) -> Identity:
    return Identity.objects.create(
        source=source,
        key="ken-uuid",
        email=who.primary_email,
        status=Person.Status.DEACTIVATED,
        directory_seen_at=seen_at,
        person=who,
    )


@pytest.fixture
def simulator():
    """Two months of normal traffic, 300 events per vendor: enough to hide patterns in."""
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=300, seed=7) as sim:
        yield sim
