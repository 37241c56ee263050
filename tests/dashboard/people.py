"""People built the way production builds them: events through the store, persons from linking.

Ada Lovelace acts in all four vendors under one email (so linking makes one person of her); two
Grace Hoppers with different emails stay two persons, suggested to staff as a merge; a CI bot is
a service account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from activity.models import (
    ActiveHours,
    ActorCategory,
    ActorTotal,
    DailyActor,
    HourlyActor,
    Person,
    Source,
    WeeklyActor,
    WeeklyPeople,
)
from activity.sync.records import NormalizedEvent
from activity.sync.store import events_upsert

NOW = datetime.now(UTC).replace(microsecond=0)
VENDORS = ("lightdash", "datafold", "domo", "velt")
ADA = "ada@example.com"


@dataclass
class People:
    sources: dict[str, Source]
    ada: Person
    grace: Person  # the older of the two
    grace_twin: Person
    bot: Person


def actor_events(prefix: str, actor: dict, days: int, *, actor_kind: str = "") -> list:
    return [
        NormalizedEvent(
            external_id=f"{prefix}-{day}",
            occurred_at=NOW - timedelta(days=day, minutes=5),
            action="view",
            category="read",
            raw={"id": f"{prefix}-{day}"},
            object_type="dashboard",
            object_id=f"obj-{day}",
            actor_kind=actor_kind,
            **actor,
        )
        for day in range(days)
    ]


def make_people() -> People:
    sources = {
        vendor: Source.objects.create(
            vendor=vendor, name=f"{vendor}-one", base_url="https://x.test"
        )
        for vendor in VENDORS
    }
    ada_ids = {"lightdash": "ld-ada", "datafold": "17", "domo": "52001", "velt": "velt-ada"}
    for vendor, source in sources.items():
        actor = {"actor_id": ada_ids[vendor], "actor_email": ADA, "actor_name": "Ada Lovelace"}
        events_upsert(source=source, events=actor_events(f"ada-{vendor}", actor, 3))
    grace = {"actor_id": "21", "actor_email": "grace@navy.example", "actor_name": "Grace Hopper"}
    events_upsert(source=sources["datafold"], events=actor_events("grace", grace, 2))
    twin = {
        "actor_id": "52002",
        "actor_email": "ghopper@other.example",
        "actor_name": "Grace Hopper",
    }
    events_upsert(source=sources["domo"], events=actor_events("twin", twin, 4))
    bot = {"actor_id": "ci-bot", "actor_email": "", "actor_name": "CI bot"}
    events_upsert(source=sources["velt"], events=actor_events("bot", bot, 1, actor_kind="service"))

    def person(email: str = "", name: str = "") -> Person:
        found = Person.objects.filter(merged_into__isnull=True)
        return found.get(primary_email=email) if email else found.get(display_name=name)

    return People(
        sources,
        ada=person(ADA),
        grace=person("grace@navy.example"),
        grace_twin=person("ghopper@other.example"),
        bot=person(name="CI bot"),
    )


def rollup_rows() -> dict[str, list[tuple]]:
    """Every people rollup's rows, without their ids: what the pages read."""
    return {
        "daily": sorted(DailyActor.objects.values_list("day", "source_id", "person_id", "events")),
        "weekly": sorted(WeeklyActor.objects.values_list("week", "person_id", "events")),
        "people": sorted(WeeklyPeople.objects.values_list("week", "people")),
        "total": sorted(ActorTotal.objects.values_list("person_id", "events")),
        "category": sorted(ActorCategory.objects.values_list("person_id", "category", "events")),
        "hourly": sorted(
            HourlyActor.objects.values_list("person_id", "hour", "category", "events")
        ),
        "active": sorted(ActiveHours.objects.values_list("person_id", "day", "hours")),
    }
