"""detect and export_alerts: backtests, switches, the export's fields, and bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity.models import Alert, Rule
from activity.vocabulary import Category
from tests.activity.detections.conftest import NOW, every

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def digests(person, events):
    ada = person()
    events(ada, every(NOW, 2, timedelta(minutes=1)), category=Category.PERMISSION, action="grant")
    events(ada, [NOW + timedelta(days=2)], category=Category.CONFIGURATION, action="new_key")
    return ada


def test_a_dry_run_prints_what_it_would_raise_and_raises_nothing(digests):
    out = run("detect", "--dry-run")
    assert "sensitive_change low ada.lovelace@example.com (2 events)" in out
    assert out.splitlines()[-1] == "2 alerts would be raised from 3 events: sensitive_change 2"
    assert not Alert.objects.exists()


def test_detect_raises_once_and_again_raises_nothing(digests):
    assert run("detect").strip() == "2 alerts raised, 0 gained events, from 3 events"
    assert run("detect", "--since", "2026-11-26").startswith("0 alerts raised")
    assert Alert.objects.count() == 2


def test_detect_tries_thresholds_on_a_dry_run_and_saves_them_otherwise(digests):
    out = run("detect", "--rule", "sensitive_change", "--set", "min_changes=2", "--dry-run")
    assert out.splitlines()[-1].startswith("1 alerts would be raised")
    assert not Rule.objects.get(name="sensitive_change").thresholds
    run("detect", "--rule", "sensitive_change", "--set", "min_changes=2")
    assert Rule.objects.get(name="sensitive_change").thresholds == {"min_changes": 2}
    assert Alert.objects.count() == 1


def test_enable_and_disable_switch_a_rule():
    assert run("detect", "--disable", "unusual_hours").strip() == "unusual_hours: disabled"
    assert not Rule.objects.get(name="unusual_hours").enabled
    run("detect", "--enable", "unusual_hours")
    assert Rule.objects.get(name="unusual_hours").enabled


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "bulk_exports"], "unknown rule 'bulk_exports': one of bulk_export"),
        (["--enable", "nope"], "unknown rule 'nope'"),
        (
            ["--rule", "bulk_export", "--set", "floor=-3"],
            "bulk_export: floor must be at least 1 (got -3)",
        ),
        (
            ["--rule", "failed_signin_burst", "--set", "window_minutes=0"],
            "window_minutes must be at least 1 (got 0)",
        ),
        (["--rule", "unusual_hours", "--set", "coverage=abc"], "is not a number"),
        (["--rule", "unusual_hours", "--set", "shift=2"], "unknown threshold 'shift'"),
        (
            ["--rule", "bulk_export", "--set", 'per_group={"finance": {"floor": 0}}'],
            "per_group 'finance': floor must be at least 1 (got 0)",
        ),
        (
            ["--rule", "bulk_export", "--set", 'per_person={"ada@example.com": {"per_group": {}}}'],
            "per_person 'ada@example.com': unknown threshold 'per_group'",
        ),
        (
            ["--rule", "bulk_export", "--set", "per_group=3"],
            "per_group must be an object of who: {threshold: value}",
        ),
        (["--set", "floor=3"], "--set needs --rule"),
        (["--since", "yesterday"], "is not an ISO date"),
    ],
)
def test_bad_input_is_a_clear_usage_error(args, message):
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("detect", *args)
    assert error.value.returncode == 2
    assert not Rule.objects.exclude(thresholds={}).exists()


def test_export_alerts_has_the_fields_in_order_with_evidence(digests, source):
    run("detect")
    lines = run("export_alerts", "--format", "jsonl").splitlines()
    first = json.loads(lines[0])
    assert list(first) == [
        "alert_id",
        "rule",
        "severity",
        "state",
        "person_id",
        "person_email",
        "first_event_at",
        "last_event_at",
        "events",
        "evidence",
        "explanation",
    ]
    assert first["rule"] == "sensitive_change" and first["events"] == 2
    assert first["person_email"] == "ada.lovelace@example.com"
    assert first["first_event_at"] == "2026-11-25T12:00:00Z"
    assert [item["source"] for item in first["evidence"]] == ["acme-df", "acme-df"]
    assert len(run("export_alerts", "--format", "jsonl", "--since", "2026-11-26").splitlines()) == 1
    rows = list(csv.reader(io.StringIO(run("export_alerts", "--format", "csv"))))
    assert rows[0][0] == "alert_id" and len(rows) == 3
    assert json.loads(rows[1][9])[0]["source"] == "acme-df"


def test_export_alerts_refuses_an_unknown_rule():
    with pytest.raises(CommandError, match="unknown rule 'x'") as error:
        call_command("export_alerts", "--format", "csv", "--rule", "x")
    assert error.value.returncode == 2


def test_a_dry_run_keeps_no_deactivation_sighting(source, person, events):
    from activity.models import DeactivationSighting
    from tests.activity.detections.conftest import deactivated_identity

    ken = person("Ken Hopper")
    deactivated_identity(source, ken, NOW)
    events(ken, [NOW + timedelta(hours=1)])
    out = run("detect", "--rule", "active_after_deactivation", "--dry-run")
    assert "1 alerts would be raised from 1 events" in out
    assert not DeactivationSighting.objects.exists() and not Alert.objects.exists()
    run("detect", "--rule", "active_after_deactivation")
    assert DeactivationSighting.objects.get().first_seen_at == NOW
    assert Alert.objects.get().rule == "active_after_deactivation"
