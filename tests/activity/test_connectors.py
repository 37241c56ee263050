"""Each connector turns its vendor's documented payload into the normalized event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from activity.connectors.datafold import DatafoldConnector
from activity.connectors.domo import DomoConnector, ranked
from activity.connectors.lightdash import LightdashConnector
from activity.connectors.velt import VeltConnector, render_message
from activity.models import Source
from activity.sync.http import error_message, error_name

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def connector(cls, vendor: str):
    return cls(Source(vendor=vendor, name=f"{vendor}-test", base_url="https://example.test"))


def test_lightdash_download_becomes_a_download_event_with_its_audit_facts():
    rows = fixture("lightdash/download_activity_page.json")["results"]["data"]
    event = connector(LightdashConnector, "lightdash").parse(rows[0])
    assert event.external_id == "0b7f6a52-3d7e-4c36-9d0f-7e1d2b9c4a11"
    assert event.occurred_at == datetime(2026, 11, 20, 10, 15, 30, 123456, tzinfo=UTC)
    assert (event.action, event.actor_name, event.object_type) == (
        "download",
        "Ada Lovelace",
        "query",
    )
    assert event.download.file_type == "csv"
    assert event.download.query_context == "dashboardView"
    assert event.raw == rows[0]


def test_lightdash_embed_download_without_a_user_keeps_nulls_as_blanks():
    rows = fixture("lightdash/download_activity_page.json")["results"]["data"]
    event = connector(LightdashConnector, "lightdash").parse(rows[1])
    assert event.actor_name == "" and event.actor_id is None
    assert event.download.query_context == ""
    assert event.occurred_at == datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)


def test_datafold_log_keeps_every_field_and_parses_any_timestamp_format():
    logs = fixture("datafold/audit_logs.json")["logs"]
    parser = connector(DatafoldConnector, "datafold")
    first, second = parser.parse(logs[0]), parser.parse(logs[1])
    assert first.external_id == "5c1d0e0a-9b7a-4d7e-8e0c-1f2a3b4c5d6e"
    assert first.occurred_at == datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert (first.action, first.actor_email, first.ip_address) == (
        "login",
        "Grace.Hopper@Example.com",
        "203.0.113.7",
    )
    assert second.occurred_at == datetime(2023, 11, 7, 5, 31, 56, 250000, tzinfo=UTC)
    assert second.action == "GET"  # no action: the request type stands in


def test_a_zone_less_domo_time_keeps_its_key_when_the_source_time_zone_is_set():
    rows = fixture("domo/audit.json")
    parser = connector(DomoConnector, "domo")
    denver = DomoConnector(
        Source(
            vendor="domo",
            name="d",
            base_url="https://e.test",
            params={"time_zone": "America/Denver"},
        )
    )
    in_utc, in_denver = parser.parse(rows[0]), denver.parse(rows[0])
    assert in_utc.occurred_at == datetime(2017, 12, 13, 22, 57, 35, tzinfo=UTC)
    assert in_denver.occurred_at == datetime(2017, 12, 14, 5, 57, 35, tzinfo=UTC)
    assert in_utc.external_id == in_denver.external_id
    assert denver.parse(rows[1]).occurred_at == in_utc.occurred_at  # epoch ms: no zone to apply


def test_two_identical_domo_records_stay_two_events():
    row = fixture("domo/audit.json")[1]
    parser = connector(DomoConnector, "domo")
    keys = [event.external_id for event in ranked([parser.parse(row) for _ in range(2)])]
    assert keys[0] != keys[1]
    assert keys[0].endswith("#0") and keys[1].endswith("#1")
    assert [event.external_id for event in ranked([parser.parse(row)] * 2)] == keys


def test_a_renamed_domo_object_keeps_its_key():
    row = fixture("domo/audit.json")[1]
    parser = connector(DomoConnector, "domo")
    renamed = {**row, "objectName": "Intro to Domo (v2)", "additionalComment": "renamed"}
    assert parser.parse(renamed).external_id == parser.parse(row).external_id


def test_velt_activity_renders_its_message_and_never_keeps_the_api_key():
    record = fixture("velt/activities.json")["result"]["data"][0]
    event = connector(VeltConnector, "velt").parse(record)
    assert event.external_id == "activity-001"
    assert event.occurred_at == datetime.fromtimestamp(1722409519.944, tz=UTC)
    assert event.summary == "User Name added a comment"
    assert event.actor_email == "user@example.com"
    assert event.raw["metadata"]["apiKey"] == "[redacted]"
    assert "yourApiKey" not in json.dumps(event.raw)


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("{{user}} reacted", {"user": {"email": "a@b.c"}}, "a@b.c reacted"),
        ("{{ user.name }} did {{thing}}", {"user": {"name": "Ann"}}, "Ann did thing"),
        (None, None, ""),
    ],
)
def test_velt_templates_with_missing_variables_read_as_words(template, data, expected):
    assert render_message(template, data) == expected


def test_lightdash_unknown_file_type_and_half_named_user_are_kept_as_sent():
    rows = fixture("lightdash/download_activity_page.json")["results"]["data"]
    event = connector(LightdashConnector, "lightdash").parse(rows[2])
    assert event.download.file_type == "parquet"
    assert event.download.query_context == "mcp.run_sql"
    assert event.actor_name == "Ada"
    assert event.occurred_at == datetime(2026, 11, 20, 10, 15, 29, 999000, tzinfo=UTC)


@pytest.mark.django_db
def test_lightdash_user_activity_counts_as_strings_and_a_null_percentage_are_stored():
    from activity.sync.store import snapshot_save

    document = fixture("lightdash/user_activity.json")["results"]
    source = Source(vendor="lightdash", name="ld", base_url="https://example.test")
    source.secrets = {"token": "ldpat_x"}
    source.save()
    snapshot = snapshot_save(source=source, document=document)
    assert (snapshot.number_users, snapshot.number_viewers) == (12, 5)
    assert snapshot.number_interactive_viewers == 3
    assert snapshot.weekly_querying_users_percent is None
    assert json.loads(snapshot.raw)["chartViews"][0]["slug"] == "revenue"


def test_datafold_nulls_ints_nested_payloads_and_every_timestamp_form():
    logs = fixture("datafold/audit_logs.json")["logs"]
    parser = connector(DatafoldConnector, "datafold")
    events = [parser.parse(log) for log in logs[2:]]
    moment = datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert [event.occurred_at for event in events] == [
        moment,
        moment,
        moment.replace(microsecond=500000),
        moment.replace(microsecond=500000),
    ]
    assert (events[0].actor_id, events[0].object_id) == (9, 7)
    assert events[0].raw["payload"]["diff"]["options"] == {"sample": True}
    assert events[1].actor_email is None and events[1].summary == "GET /api/v1/audit_logs"


def test_domo_time_as_epoch_ms_numeric_string_iso_or_am_pm_gives_one_time():
    rows = fixture("domo/audit.json")
    parser = connector(DomoConnector, "domo")
    events = [parser.parse(row) for row in rows]
    assert {event.occurred_at for event in events} == {
        datetime(2017, 12, 13, 22, 57, 35, tzinfo=UTC)
    }
    # Times that carry their zone share a key; a zone-less one keys on its wall clock, so
    # that setting the source's time_zone later does not change it.
    zoned = [
        event for row, event in zip(rows, events, strict=True) if row["time"] != rows[0]["time"]
    ]
    assert len({event.external_id for event in zoned}) == 1


def test_velt_custom_action_and_a_user_without_email_or_name():
    record = fixture("velt/activities.json")["result"]["data"][1]
    event = connector(VeltConnector, "velt").parse(record)
    assert (event.action, event.object_type) == ("invoice.approved", "custom")
    assert (event.actor_id, event.actor_name, event.actor_email) == ("user-2", None, None)
    assert event.summary == "user-2 approved invoice number"
    assert event.raw["metadata"]["apiKey"] == "[redacted]"


@pytest.mark.parametrize(
    ("name", "message", "code"),
    [
        ("lightdash/error_not_exists.json", "NotExistsError: Project not found", "NotExistsError"),
        (
            "domo/gateway_error.json",
            "Unauthorized: Full authentication is required to access this resource",
            "",
        ),
        ("domo/oauth_error.json", "invalid_token: Invalid access token: 3f1c", "invalid_token"),
        (
            "datafold/validation_error.json",
            "body.start_date: Input should be a valid datetime",
            "",
        ),
        ("velt/error.json", "PERMISSION_DENIED: Invalid API key.", "PERMISSION_DENIED"),
    ],
)
def test_every_vendor_error_body_gives_a_readable_message(name, message, code):
    body = fixture(name)
    assert error_message(body) == message
    assert error_name(body) == code
