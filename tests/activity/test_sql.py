"""Array parameters built as text, the ``among`` lookup, and work done again after a lost
race: on the database at hand (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from activity.models import Person
from activity.sql import array_literal
from activity.transactions import ATTEMPTS, Conflict, atomically

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_array_text_reads_back_as_the_values_it_was_made_of():
    texts = ["plain", 'with "quotes"', "back\\slash", "comma, brace } {", "", "NULL", None]
    moments = [datetime(2026, 12, 6, 3, 4, 5, 6, tzinfo=UTC), date(2026, 2, 28)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[], %s::boolean[], %s::timestamptz[], %s::date[]",
            [
                array_literal(texts),
                array_literal([1, -2, 3_000_000_000]),
                array_literal([True, False]),
                array_literal(moments[:1]),
                array_literal(moments[1:]),
            ],
        )
        row = cursor.fetchone()
    assert row == (texts, [1, -2, 3_000_000_000], [True, False], moments[:1], moments[1:])


def test_among_matches_the_ids_given_and_nothing_for_none():
    people = [Person.objects.create(display_name=f"p{n}") for n in range(3)]
    wanted = [people[0].pk, people[2].pk]
    assert set(Person.objects.filter(pk__among=wanted).values_list("pk", flat=True)) == set(wanted)
    assert list(Person.objects.filter(pk__among=[])) == []


def test_work_that_lost_a_race_is_done_again_and_told_so():
    tries, undone = [], []

    def work():
        tries.append(Person.objects.create(display_name=f"try {len(tries)}").pk)
        if len(tries) < ATTEMPTS:
            raise Conflict
        return "done"

    assert atomically(work, undone=lambda: undone.append(True)) == "done"
    assert len(undone) == ATTEMPTS - 1
    # Each lost try was rolled back whole: only the last one's row is left.
    assert list(Person.objects.values_list("pk", flat=True)) == tries[-1:]


def test_work_that_keeps_losing_fails_and_leaves_nothing():
    def work():
        Person.objects.create(display_name="never kept")
        raise Conflict

    with pytest.raises(Conflict):
        atomically(work)
    assert not Person.objects.exists()


def test_other_failures_are_not_done_again():
    tries = []

    def work():
        tries.append(1)
        raise ValueError("not a race")

    with pytest.raises(ValueError):
        atomically(work)
    assert tries == [1]
