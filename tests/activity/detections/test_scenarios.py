"""The simulator's planted patterns, synced over real HTTP and evaluated by the task queued
after each sync: each raises exactly its alert, and normal traffic raises nothing above low
severity but the vendor support sessions the organisation really has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activity.detections.base import chains
from activity.detections.engine import detections_backtest, detections_evaluate
from activity.models import Alert, Source, SyncRun
from activity.simulator.scenarios import plant_after_deactivation, plant_history
from activity.sync.engine import sync_source
from tests.activity.conftest import VENDORS

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
PAGES = {"lightdash": {"page_size": "1000"}, "velt": {"page_size": "1000"}}
RECORD_ID = {"lightdash": "downloadUuid", "datafold": "event_uuid", "velt": "id"}


@pytest.fixture
def synced(simulator, source_for, settings, django_capture_on_commit_callbacks):
    """The planted history and the four sources synced, then Ken Hopper's later comments."""
    settings.TASKS = IMMEDIATE  # the task queued on commit runs at once
    planted = plant_history(simulator)
    sources = {vendor: source_for(simulator, vendor, **PAGES.get(vendor, {})) for vendor in VENDORS}
    with django_capture_on_commit_callbacks(execute=True):
        for source in sources.values():
            assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    sources["lightdash"].refresh_from_db()
    later = sources["lightdash"].directory_read_at + timedelta(minutes=2)
    planted.append(plant_after_deactivation(simulator, at=later))
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_source(sources["velt"], now=later + timedelta(minutes=10)).status == "succeeded"
    return planted


def evidence(alert: Alert) -> set[tuple[str, str]]:
    return set(alert.evidence.values_list("source__vendor", "external_id"))


def planted_ids(simulator, planted) -> set[tuple[str, str]]:
    return {
        (planted.vendor, str(simulator.record(planted.vendor, key)[RECORD_ID[planted.vendor]]))
        for key in planted.keys
    }


def support_sessions(simulator) -> int:
    """Datafold's support staff sessions in the ground truth: records 30 minutes apart."""
    times = sorted(
        datetime.fromisoformat(record["timestamp"].replace(" ", "T")).replace(tzinfo=UTC)
        if "+" not in record["timestamp"] and not record["timestamp"].endswith("Z")
        else datetime.fromisoformat(record["timestamp"])
        for record in simulator.truth("datafold")
        if record.get("is_support_user") is True
    )

    class Row:
        def __init__(self, moment):
            self.occurred_at = moment

    return len(chains([Row(moment) for moment in times], timedelta(minutes=30)))


def test_every_planted_pattern_raises_exactly_its_alert(simulator, synced):
    raised = {alert.pk: alert for alert in Alert.objects.exclude(severity="low")}
    for planted in synced:
        wanted = planted_ids(simulator, planted)
        matches = [
            alert
            for alert in raised.values()
            if alert.rule == planted.rule and wanted <= evidence(alert)
        ]
        assert len(matches) == 1, f"{planted.rule}: {planted.what}"
        [alert] = matches
        if planted.rule != "vendor_support_access":  # a session may take in normal events
            assert evidence(alert) == wanted, f"{planted.rule}: {alert.explanation}"
        raised.pop(alert.pk)
    # Above low severity, all that is left are the support sessions normal traffic has.
    assert {alert.rule for alert in raised.values()} <= {"vendor_support_access"}
    support = Alert.objects.filter(rule="vendor_support_access").count()
    assert support == support_sessions(simulator)
    # What deviated from what, in words.
    explanations = {alert.rule: alert.explanation for alert in Alert.objects.all()}
    assert "40 exports in one hour by Edsger Knuth" in explanations["bulk_export"]
    assert (
        "20 failed sign-ins from IP address 203.0.113.66, against 20 accounts"
        in (explanations["failed_signin_burst"])
    )
    assert "their usual hours are 09:00 to 17:00 UTC" in explanations["unusual_hours"]
    assert "after their velt-sim account" not in explanations["active_after_deactivation"]
    assert (
        "after their lightdash-sim account ken.hopper@example.com was seen deactivated"
        in (explanations["active_after_deactivation"])
    )


def test_evaluating_again_or_backtesting_raises_nothing_new(synced):
    alerts = Alert.objects.count()
    for source in Source.objects.all():
        outcome = detections_evaluate(source_id=source.pk)
        assert (outcome.events, outcome.raised, outcome.grown) == (0, [], [])
    outcome = detections_backtest(dry_run=False)
    assert outcome.raised == [] and outcome.grown == []
    assert Alert.objects.count() == alerts
