"""Concurrent staff decisions over the same persons, on PostgreSQL (row locks): each waits for
the other, and no identity or event is ever lost or left with a person merged away."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from activity.models import ActivityEvent, Identity, Person
from activity.people.decisions import DecisionError, people_merge
from activity.rollups import rollups_rebuild
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
