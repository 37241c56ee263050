"""Concurrent staff decisions over the same persons, on PostgreSQL (row locks): each waits for
the other, and no identity or event is ever lost or left with a person merged away."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from activity.models import (
    ActiveHours,
    ActivityEvent,
    ActorCategory,
    ActorTotal,
    DailyActor,
    HourlyActor,
    Identity,
    Person,
    Source,
    SyncRun,
    WeeklyActor,
    WeeklyPeople,
)
from activity.people.backfill import events_link
from activity.people.decisions import DecisionError, people_merge
from activity.rollups import rollups_rebuild
from activity.sync.engine import sync_source
from tests.activity.conftest import seen_times_astray
from tests.dashboard.people import make_people, rollup_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*merges: tuple[int, int]) -> list[str]:
    """Run the merges ``(keep, gone)`` at once, one thread and connection each; what each
    answered ("ok" or the refusal)."""
    start = threading.Barrier(len(merges))
    answers = [""] * len(merges)

    def merge(n: int, keep: int, gone: int) -> None:
        try:
            start.wait()
            people_merge(keep_id=keep, merge_id=gone, reason="race", by=f"thread {n}")
            answers[n] = "ok"
        except DecisionError as error:
            answers[n] = str(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=merge, args=(n, keep, gone))
        for n, (keep, gone) in enumerate(merges)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.parametrize(
    "pairs",
    [
        [("grace", "grace_twin"), ("bot", "grace_twin")],  # the same person merged twice
        [("grace", "grace_twin"), ("grace_twin", "grace")],  # crosswise
        [("grace", "grace_twin"), ("grace_twin", "bot")],  # a chain
        [("ada", "grace"), ("ada", "bot"), ("ada", "grace_twin")],  # all into one
    ],
)
def test_concurrent_merges_never_lose_an_identity(pairs):
    people = make_people()
    identities = set(Identity.objects.values_list("id", flat=True))
    events = ActivityEvent.objects.count()
    answers = race(*((getattr(people, a).pk, getattr(people, b).pk) for a, b in pairs))
    assert "ok" in answers
    assert all(answer == "ok" or "merged into person" in answer for answer in answers), answers
    # Every identity still there, each with a current person, and every event with its
    # identity's person.
    current = set(Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True))
    linked = dict(Identity.objects.values_list("id", "person_id"))
    assert set(linked) == identities and set(linked.values()) <= current
    assert ActivityEvent.objects.count() == events
    assert not ActivityEvent.objects.exclude(person_id__in=current).exists()
    kept = rollup_rows()
    rollups_rebuild()
    assert rollup_rows() == kept


def human_pairs(count: int = 12) -> list[tuple[int, int]]:
    """``(keep, gone)`` pairs of current human persons with an email, for staff to merge."""
    humans = list(
        Person.objects.filter(kind=Person.Kind.HUMAN, merged_into__isnull=True)
        .exclude(primary_email="")
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(zip(humans[0::2], humans[1::2], strict=False))[:count]


def together(*works) -> None:
    """Run the callables at once, one thread and database connection each."""
    start = threading.Barrier(len(works))

    def run(work) -> None:
        try:
            start.wait()
            work()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def merges(pairs: list[tuple[int, int]], answers: list[str]):
    """Staff merging the pairs one after another, each answer added to ``answers``."""

    def merge_all() -> None:
        for keep, gone in pairs:
            people_merge(keep_id=keep, merge_id=gone, reason="race", by="staff")
            answers.append("ok")

    return merge_all


def assert_no_identity_event_or_rollup_on_a_merged_person() -> None:
    current = set(Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True))
    assert set(Identity.objects.values_list("person_id", flat=True)) <= current
    assert not ActivityEvent.objects.exclude(person_id__in=current).exists()
    kept = rollup_rows()
    rollups_rebuild()
    assert rollup_rows() == kept


def test_merges_while_syncs_run_fail_nothing_and_leave_no_event_with_a_merged_person(
    simulator, source_for
):
    """Two syncs whose identities join persons that staff merge meanwhile: the locks they take
    cannot always agree in order, so the database may break a deadlock by failing one of them;
    that one is done again, and nothing fails, nothing is lost or left on a merged person."""
    for vendor in ("velt", "datafold"):
        assert sync_source(source_for(simulator, vendor)).status == SyncRun.Status.SUCCEEDED
    pairs = human_pairs()
    later = [source_for(simulator, vendor) for vendor in ("domo", "lightdash")]
    runs: dict[str, str] = {}
    answers: list[str] = []

    def sync(source: Source):
        def run() -> None:
            done = sync_source(source)
            runs[source.vendor] = done.status if done.status != "failed" else done.error

        return run

    together(*(sync(source) for source in later), merges(pairs, answers))
    assert runs == {"domo": SyncRun.Status.SUCCEEDED, "lightdash": SyncRun.Status.SUCCEEDED}
    assert answers == ["ok"] * len(pairs)
    # Pages done again counted their identities' seen-times once, from what was stored.
    assert all(seen_times_astray(source) == {} for source in later)
    assert_no_identity_event_or_rollup_on_a_merged_person()


def test_merges_while_the_backfill_links_events_leave_no_event_with_a_merged_person(
    simulator, source_for
):
    """``link_people`` over events stored before persons existed, while staff merge the
    persons their identities already have: a batch that linked to a person merged meanwhile
    is linked again from the database."""
    for vendor in ("velt", "datafold", "domo"):
        assert sync_source(source_for(simulator, vendor)).status == SyncRun.Status.SUCCEEDED
    # As after the upgrade that brought persons: no event has one, the people rollups are
    # empty; the identities and their persons are there.
    ActivityEvent.objects.update(person=None)
    for model in (DailyActor, WeeklyActor, WeeklyPeople, ActorTotal, ActorCategory, HourlyActor):
        model.objects.all().delete()
    ActiveHours.objects.all().delete()
    pairs = human_pairs()
    linked: list[int] = []
    answers: list[str] = []
    together(lambda: linked.append(events_link(batch_size=40)), merges(pairs, answers))
    assert linked == [ActivityEvent.objects.count()] and answers == ["ok"] * len(pairs)
    assert not ActivityEvent.objects.filter(person__isnull=True).exists()
    assert_no_identity_event_or_rollup_on_a_merged_person()
