"""The people commands: what scripts rely on (fields, order, exit statuses)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity.exports import FIELDS
from activity.models import ActivityEvent, Identity, Person, PersonDecision
from activity.people.exports import FIELDS as PEOPLE_FIELDS
from tests.dashboard.people import ADA, make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    assert error.value.returncode == 2
    return str(error.value)


def test_export_people_jsonl_has_one_row_per_person_with_fields_in_order(people):
    rows = [json.loads(line) for line in run("export_people", "--format", "jsonl").splitlines()]
    assert PEOPLE_FIELDS == (
        "person_id",
        "display_name",
        "primary_email",
        "status",
        "kind",
        "identities",
    )
    assert all(list(row) == list(PEOPLE_FIELDS) for row in rows)
    assert [row["person_id"] for row in rows] == sorted(
        Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True)
    )
    ada = next(row for row in rows if row["person_id"] == people.ada.pk)
    assert ada["primary_email"] == ADA and ada["kind"] == "human"
    assert {identity["vendor"] for identity in ada["identities"]} == {
        "lightdash",
        "datafold",
        "domo",
        "velt",
    }
    assert list(ada["identities"][0]) == [
        "source",
        "vendor",
        "vendor_user_id",
        "email",
        "name",
        "status",
    ]
    bot = next(row for row in rows if row["person_id"] == people.bot.pk)
    assert bot["kind"] == "service"


def test_export_people_csv_puts_the_identities_in_one_json_cell(people):
    rows = list(csv.reader(io.StringIO(run("export_people", "--format", "csv"))))
    assert rows[0] == list(PEOPLE_FIELDS)
    ada = next(row for row in rows[1:] if row[0] == str(people.ada.pk))
    identities = json.loads(ada[PEOPLE_FIELDS.index("identities")])
    assert {identity["vendor_user_id"] for identity in identities} == {
        "ld-ada",
        "17",
        "52001",
        "velt-ada",
    }


def test_export_people_leaves_out_persons_merged_away(people):
    run("merge_people", str(people.grace.pk), str(people.grace_twin.pk), "--reason", "same")
    rows = [json.loads(line) for line in run("export_people", "--format", "jsonl").splitlines()]
    ids = {row["person_id"] for row in rows}
    assert people.grace_twin.pk not in ids
    grace = next(row for row in rows if row["person_id"] == people.grace.pk)
    assert len(grace["identities"]) == 2


def test_export_activity_rows_end_with_the_person(people):
    lines = [
        json.loads(line)
        for line in run("export_activity", "--format", "jsonl", "--actor", ADA).splitlines()
    ]
    assert len(lines) == 12
    assert list(lines[0]) == list(FIELDS) and list(FIELDS)[-2:] == ["person_id", "person_email"]
    assert {(line["person_id"], line["person_email"]) for line in lines} == {(people.ada.pk, ADA)}
    rows = list(csv.reader(io.StringIO(run("export_activity", "--format", "csv"))))
    assert rows[0] == list(FIELDS)
    assert {row[-1] for row in rows[1:]} >= {ADA, "grace@navy.example", ""}


def test_merge_people_merges_the_second_into_the_first_and_says_so(people):
    out = run(
        "merge_people", str(people.grace.pk), str(people.grace_twin.pk), "--reason", "same badge"
    )
    assert f"Merged person {people.grace_twin.pk} into person {people.grace.pk}" in out
    assert "4 events moved" in out
    decision = PersonDecision.objects.get()
    assert (decision.action, decision.reason, decision.person_id) == (
        "merge",
        "same badge",
        people.grace.pk,
    )
    assert decision.decided_by  # who ran it
    assert ActivityEvent.objects.filter(person=people.grace).count() == 6
    people.grace_twin.refresh_from_db()
    assert people.grace_twin.merged_into_id == people.grace.pk


def test_split_identity_and_undo_decision_put_things_back(people):
    identity = Identity.objects.get(person=people.ada, source=people.sources["velt"])
    out = run("split_identity", str(identity.pk), "--reason", "shared mailbox", "--by", "ops")
    assert "3 events moved" in out
    split = PersonDecision.objects.get()
    assert split.decided_by == "ops"
    identity.refresh_from_db()
    assert identity.person_id == split.person_id != people.ada.pk
    run("undo_decision", str(split.pk), "--reason", "it was her after all")
    identity.refresh_from_db()
    assert identity.person_id == people.ada.pk
    assert ActivityEvent.objects.filter(person=people.ada).count() == 12
    split.refresh_from_db()
    assert split.undone_at and split.undo_reason == "it was her after all"


def test_bad_input_exits_2_with_the_message_and_changes_nothing(people):
    before = sorted(Identity.objects.values_list("id", "person_id"))
    pk = str(people.ada.pk)
    assert "into itself" in refused("merge_people", pk, pk, "--reason", "x")
    assert "No person with id 999999" in refused("merge_people", pk, "999999", "--reason", "x")
    assert "reason" in refused("merge_people", pk, str(people.bot.pk), "--reason", " ")
    twin = Identity.objects.get(person=people.grace_twin)
    assert "last identity" in refused("split_identity", str(twin.pk), "--reason", "x")
    assert "No linked identity" in refused("split_identity", "999999", "--reason", "x")
    assert "No decision with id" in refused("undo_decision", "999999", "--reason", "x")
    assert sorted(Identity.objects.values_list("id", "person_id")) == before
    assert not PersonDecision.objects.exists()


def test_undoing_twice_is_refused(people):
    run("merge_people", str(people.grace.pk), str(people.grace_twin.pk), "--reason", "same")
    decision = PersonDecision.objects.get()
    run("undo_decision", str(decision.pk), "--reason", "no")
    assert "undone already" in refused("undo_decision", str(decision.pk), "--reason", "no")
