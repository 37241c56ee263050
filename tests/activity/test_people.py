"""One person across every vendor: identities linked at ingest, backfilled, moved by staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max

from activity.models import (
    ActiveHours,
    ActivityEvent,
    ActorCategory,
    ActorTotal,
    DailyActor,
    HourlyActor,
    Identity,
    Person,
    WeeklyActor,
    WeeklyPeople,
)
from activity.people.backfill import events_link
from activity.people.decisions import DecisionError, decision_undo, identity_split, people_merge
from activity.people.selectors import merge_suggestions, persons_named
from activity.rollups import rollups_rebuild
from activity.sync.records import NormalizedEvent
from activity.sync.store import events_upsert

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def event(n: int, **actor) -> NormalizedEvent:
    return NormalizedEvent(
        external_id=f"e{n}",
        occurred_at=START + timedelta(hours=7 * n),
        action="view",
        raw={"n": n},
        **actor,
    )


def people_rollups():
    return (
        sorted(DailyActor.objects.values_list("day", "source_id", "person_id", "events")),
        sorted(WeeklyActor.objects.values_list("week", "person_id", "events")),
        sorted(WeeklyPeople.objects.values_list("week", "people")),
        sorted(ActorTotal.objects.values_list("person_id", "events")),
        sorted(ActorCategory.objects.values_list("person_id", "category", "events")),
        sorted(HourlyActor.objects.values_list("person_id", "hour", "category", "events")),
        sorted(ActiveHours.objects.values_list("person_id", "day", "hours")),
    )


def assert_rollups_match_a_recount():
    incremental = people_rollups()
    rollups_rebuild()
    assert people_rollups() == incremental


@pytest.fixture
def four_sources(make_source):
    return {
        vendor: make_source(name=f"{vendor}-one", vendor=vendor)
        for vendor in ("lightdash", "datafold", "domo", "velt")
    }


def test_the_same_email_in_any_two_sources_is_one_person(four_sources):
    events_upsert(
        source=four_sources["datafold"],
        events=[event(1, actor_id="17", actor_email="Radia.Thompson@Example.com ")],
    )
    events_upsert(
        source=four_sources["velt"],
        events=[event(2, actor_id="u-radia", actor_email="radia.thompson@example.com")],
    )
    radia = Person.objects.get()
    assert radia.primary_email == "radia.thompson@example.com"
    assert set(ActivityEvent.objects.values_list("person_id", flat=True)) == {radia.pk}
    rules = dict(Identity.objects.values_list("source__vendor", "rule"))
    assert rules == {"datafold": Identity.Rule.OWN, "velt": Identity.Rule.EMAIL}
    assert_rollups_match_a_recount()


def test_an_id_without_an_email_is_a_person_of_its_own_until_something_links_it(four_sources):
    events_upsert(
        source=four_sources["lightdash"],
        events=[event(1, actor_id="uuid-1", actor_name="Radia Thompson")],
    )
    events_upsert(
        source=four_sources["velt"],
        events=[event(2, actor_id="u1", actor_name="Radia Thompson", actor_email="r@example.com")],
    )
    assert Person.objects.count() == 2  # a name alone never links
    assert [sorted(group) for group in merge_suggestions()] == [
        sorted(Person.objects.values_list("pk", flat=True))
    ]


def test_vendor_support_and_embedded_viewers_are_never_linked_to_customers(four_sources):
    customer = {"actor_id": "5", "actor_email": "help@example.com"}
    events_upsert(source=four_sources["velt"], events=[event(1, **customer)])
    events_upsert(
        source=four_sources["datafold"],
        events=[
            event(2, actor_id="900", actor_email="help@example.com", actor_kind="vendor_support")
        ],
    )
    events_upsert(source=four_sources["lightdash"], events=[event(3, actor_name="Embed")])
    kinds = sorted(Person.objects.values_list("kind", flat=True))
    assert kinds == [Person.Kind.ANONYMOUS, Person.Kind.HUMAN, Person.Kind.VENDOR_SUPPORT]


def test_a_person_filter_value_names_persons_by_email_vendor_id_or_name(four_sources):
    events_upsert(
        source=four_sources["velt"],
        events=[event(1, actor_id="u-9", actor_name="Ada Lovelace", actor_email="ada@example.com")],
    )
    ada = Person.objects.get()
    for value in ("ADA@example.com", "u-9", "Ada Lovelace", " ada@example.com "):
        assert persons_named(value) == [ada.pk], value
    assert persons_named("nobody") == []


def test_link_people_backfills_stored_events_in_resumable_batches(four_sources, capsys):
    for vendor, source in four_sources.items():
        events_upsert(
            source=source,
            events=[
                event(n, actor_id=f"{vendor}-{n % 3}", actor_email=f"p{n % 4}@example.com")
                for n in range(20)
            ],
        )
    linked = dict(ActivityEvent.objects.values_list("id", "person_id"))
    before = people_rollups()
    # As after the migration: no event has a person, the people rollups are empty.
    ActivityEvent.objects.update(person=None)
    for model in (DailyActor, WeeklyActor, WeeklyPeople, ActorTotal, ActorCategory):
        model.objects.all().delete()
    Identity.objects.all().delete()
    Person.objects.all().delete()

    class Killed(Exception):
        pass

    def kill_after_first_batch(last_id, total):
        raise Killed

    with pytest.raises(Killed):
        events_link(batch_size=7, on_batch=kill_after_first_batch)
    assert ActivityEvent.objects.filter(person__isnull=False).count() == 7
    call_command("link_people", "--batch-size", "7")
    assert "Linked 73 events" in capsys.readouterr().out
    assert not ActivityEvent.objects.filter(person__isnull=True).exists()
    call_command("link_people")
    assert "Linked 0 events" in capsys.readouterr().out
    # The same grouping of events into persons as linking at ingest gave, and its rollups.
    regrouped = dict(ActivityEvent.objects.values_list("id", "person_id"))
    assert _partition(regrouped) == _partition(linked)
    assert len(people_rollups()[0]) == len(before[0])
    assert_rollups_match_a_recount()
    # Each person's last seen is their latest event.
    latest = ActivityEvent.objects.values("person_id").annotate(last=Max("occurred_at"))
    assert {row["person_id"]: row["last"] for row in latest} == dict(
        Person.objects.values_list("id", "last_seen_at")
    )


def _partition(assignment: dict[int, int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for event_id, person_id in assignment.items():
        groups.setdefault(person_id, set()).add(event_id)
    return {frozenset(group) for group in groups.values()}


def test_a_merge_moves_identities_events_and_rollups_and_undo_puts_them_back(four_sources):
    events_upsert(
        source=four_sources["lightdash"],
        events=[event(n, actor_id="uuid-1", actor_name="Radia") for n in range(5)],
    )
    events_upsert(
        source=four_sources["velt"],
        events=[event(n, actor_id="u1", actor_email="r@example.com") for n in range(5, 9)],
    )
    lightdash = Identity.objects.get(source=four_sources["lightdash"]).person
    velt = Identity.objects.get(source=four_sources["velt"]).person
    decision = people_merge(keep_id=velt.pk, merge_id=lightdash.pk, reason="same", by="staff")
    assert decision.events_moved == 5
    assert set(ActivityEvent.objects.values_list("person_id", flat=True)) == {velt.pk}
    assert_rollups_match_a_recount()
    # Re-syncing the same records leaves them where staff put them.
    events_upsert(
        source=four_sources["lightdash"],
        events=[event(n, actor_id="uuid-1", actor_name="Radia") for n in range(5, 7)],
    )
    assert set(ActivityEvent.objects.values_list("person_id", flat=True)) == {velt.pk}
    decision_undo(decision_id=decision.pk, reason="not the same", by="staff")
    lightdash.refresh_from_db()
    assert lightdash.merged_into is None
    assert ActivityEvent.objects.filter(person=lightdash).count() == 7
    assert_rollups_match_a_recount()
    with pytest.raises(DecisionError, match="undone already"):
        decision_undo(decision_id=decision.pk, reason="again", by="staff")


def test_refused_decisions_change_nothing(four_sources):
    events_upsert(source=four_sources["velt"], events=[event(1, actor_id="u1")])
    person = Person.objects.get()
    identity = Identity.objects.get()
    with pytest.raises(DecisionError, match="into itself"):
        people_merge(keep_id=person.pk, merge_id=person.pk, reason="x", by="staff")
    with pytest.raises(DecisionError, match="No person with id 999999"):
        people_merge(keep_id=person.pk, merge_id=999999, reason="x", by="staff")
    with pytest.raises(DecisionError, match="last identity"):
        identity_split(identity_id=identity.pk, reason="x", by="staff")
    with pytest.raises(DecisionError, match="reason"):
        identity_split(identity_id=identity.pk, reason=" ", by="staff")
    assert Person.objects.count() == 1 and not person.decisions.exists()


def test_a_split_identity_takes_its_events_to_a_new_person(four_sources):
    events_upsert(
        source=four_sources["velt"],
        events=[event(n, actor_id="u1", actor_email="a@example.com") for n in range(3)],
    )
    events_upsert(
        source=four_sources["datafold"],
        events=[event(n, actor_id="7", actor_email="a@example.com") for n in range(3, 5)],
    )
    datafold = Identity.objects.get(source=four_sources["datafold"])
    decision = identity_split(identity_id=datafold.pk, reason="shared inbox", by="staff")
    datafold.refresh_from_db()
    assert datafold.person == decision.person and datafold.pinned
    assert ActivityEvent.objects.filter(person=decision.person).count() == 2
    assert_rollups_match_a_recount()
