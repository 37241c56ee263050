from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity.exports import FIELDS
from activity.models import ActivityEvent

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def events(make_source):
    source = make_source("acme-bi")
    other = make_source("other", vendor="datafold", params={}, secrets={"api_key": "k"})
    rows = [
        ActivityEvent(
            source=source if i % 2 == 0 else other,
            external_id=f"e{i}",
            occurred_at=START + timedelta(hours=10 - i),
            actor_email="ada@example.com" if i < 3 else "bob@example.com",
            action="download" if i % 3 else "login",
            object_name=['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "plain"][i % 5],
            raw=json.dumps({"id": f"e{i}", "note": "<script>alert(1)</script>", "n": None}),
        )
        for i in range(10)
    ]
    ActivityEvent.objects.bulk_create(rows)
    return rows


def test_the_fields_keep_their_order_and_new_ones_are_appended():
    # Scripts read the fields by position: this list only ever grows at its end.
    assert FIELDS == (
        "source",
        "vendor",
        "external_id",
        "occurred_at",
        "actor_id",
        "actor_name",
        "actor_email",
        "action",
        "object_type",
        "object_id",
        "object_name",
        "ip_address",
        "user_agent",
        "raw",
        "category",
        "outcome",
        "person_id",
        "person_email",
    )


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_activity", *args, stdout=out)
    return out.getvalue()


def test_jsonl_export_is_oldest_first_with_fields_in_order_and_the_raw_record(events):
    lines = [json.loads(line) for line in export("--format", "jsonl").splitlines()]
    assert [line["external_id"] for line in lines] == [f"e{i}" for i in range(9, -1, -1)]
    assert list(lines[0]) == list(FIELDS)
    assert lines[-1]["raw"] == {"id": "e0", "note": "<script>alert(1)</script>", "n": None}
    assert lines[-1]["occurred_at"] == "2026-11-01T10:00:00Z"
    assert lines[-1]["vendor"] == "lightdash"


def test_export_filters_by_source_time_action_and_actor(events):
    lines = export(
        "--format",
        "jsonl",
        "--source",
        "acme-bi",
        "--since",
        "2026-11-01T05:00:00",
        "--action",
        "download",
        "--actor",
        "ADA@example.com",
    ).splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["e2"]


def test_csv_export_neutralizes_spreadsheet_formulas(events):
    rows = list(csv.reader(io.StringIO(export("--format", "csv"))))
    assert rows[0] == list(FIELDS)
    names = {row[FIELDS.index("object_name")] for row in rows[1:]}
    assert names == {'\'=HYPERLINK("http://evil")', "'+1", "'-2", "'@SUM(A1)", "plain"}
    raw = json.loads(rows[-1][FIELDS.index("raw")])
    assert raw["note"] == "<script>alert(1)</script>"


def test_export_of_an_unknown_source_or_a_bad_date_exits_2(events):
    for args in (
        ["--source", "nope"],
        ["--since", "yesterday"],
        ["--since", "2026-02-01", "--until", "2026-01-01"],
    ):
        with pytest.raises(CommandError) as error:
            export("--format", "csv", *args)
        assert error.value.returncode == 2
