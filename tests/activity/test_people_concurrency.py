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


def test_merges_while_syncs_run_fail_nothing_and_leave_no_event_with_a_merged_person(
    simulator, source_for
):
    """Two syncs whose identities join persons that staff merge meanwhile: the locks they take
    cannot always agree in order, so the database may break a deadlock by failing one of them;
    that one is done again, and nothing fails, nothing is lost or left on a merged person."""
    for vendor in ("velt", "datafold"):
        assert sync_source(source_for(simulator, vendor)).status == SyncRun.Status.SUCCEEDED
    humans = list(
        Person.objects.filter(kind=Person.Kind.HUMAN, merged_into__isnull=True)
        .exclude(primary_email="")
        .order_by("id")
        .values_list("id", flat=True)
    )
    pairs = list(zip(humans[0::2], humans[1::2], strict=False))[:12]
    later = [source_for(simulator, vendor) for vendor in ("domo", "lightdash")]
    start = threading.Barrier(3)
    runs: dict[str, str] = {}
    answers: list[str] = []

    def sync(source: Source) -> None:
        try:
            start.wait()
            run = sync_source(source)
            runs[source.vendor] = run.status if run.status != "failed" else run.error
        finally:
            connection.close()

    def merge_all() -> None:
        try:
            start.wait()
            for keep, gone in pairs:
                people_merge(keep_id=keep, merge_id=gone, reason="race", by="staff")
                answers.append("ok")
        finally:
            connection.close()

    threads = [threading.Thread(target=sync, args=(source,)) for source in later]
    threads.append(threading.Thread(target=merge_all))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert runs == {"domo": SyncRun.Status.SUCCEEDED, "lightdash": SyncRun.Status.SUCCEEDED}
    assert answers == ["ok"] * len(pairs)
    current = set(Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True))
    assert set(Identity.objects.values_list("person_id", flat=True)) <= current
    assert not ActivityEvent.objects.exclude(person_id__in=current).exists()
    # Pages done again counted their identities' seen-times once, from what was stored.
    assert all(seen_times_astray(source) == {} for source in later)
    kept = rollup_rows()
    rollups_rebuild()
    assert rollup_rows() == kept


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
    humans = list(
        Person.objects.filter(kind=Person.Kind.HUMAN, merged_into__isnull=True)
        .exclude(primary_email="")
        .order_by("id")
        .values_list("id", flat=True)
    )
    pairs = list(zip(humans[0::2], humans[1::2], strict=False))[:12]
    start = threading.Barrier(2)
    linked: list[int] = []
    answers: list[str] = []

    def backfill() -> None:
        try:
            start.wait()
            linked.append(events_link(batch_size=40))
        finally:
            connection.close()

    def merge_all() -> None:
        try:
            start.wait()
            for keep, gone in pairs:
                people_merge(keep_id=keep, merge_id=gone, reason="race", by="staff")
                answers.append("ok")
        finally:
            connection.close()

    threads = [threading.Thread(target=backfill), threading.Thread(target=merge_all)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert linked == [ActivityEvent.objects.count()] and answers == ["ok"] * len(pairs)
    current = set(Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True))
    assert set(Identity.objects.values_list("person_id", flat=True)) <= current
    assert not ActivityEvent.objects.filter(person__isnull=True).exists()
    assert not ActivityEvent.objects.exclude(person_id__in=current).exists()
    kept = rollup_rows()
    rollups_rebuild()
    assert rollup_rows() == kept
