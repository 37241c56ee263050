"""Each rule on the pattern it must catch, and on the normal traffic it must stay quiet on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activity.detections.engine import detections_evaluate
from activity.models import Alert, Person, Rule
from activity.vocabulary import Category, Outcome
from tests.activity.detections.conftest import NOW, deactivated_identity, every, office_hours

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


def evaluate(source) -> list[Alert]:
    detections_evaluate(source_id=source.pk)
    return list(Alert.objects.order_by("rule", "first_event_at"))


def rules_of(alerts) -> list[str]:
    return [alert.rule for alert in alerts]


def test_bulk_export_over_the_floor_and_her_own_baseline_raises_one_alert(source, person, events):
    ada = person()
    usual = [NOW - timedelta(days=d, hours=3) for d in range(1, 20)]
    events(ada, usual + every(NOW - timedelta(days=2), 3, MINUTE), category=Category.EXPORT)
    burst = events(ada, every(NOW.replace(minute=5), 42, MINUTE), category=Category.EXPORT)
    [alert] = evaluate(source)
    assert alert.rule == "bulk_export" and alert.severity == "high"
    assert alert.person == ada and alert.events == 42
    assert set(alert.evidence.values_list("event_id", flat=True)) == {e.pk for e in burst}
    assert alert.explanation.startswith("42 exports in one hour by Ada Lovelace")
    assert "their usual is at most 3 an hour over the previous 30 days" in alert.explanation


def test_bulk_export_stays_quiet_under_a_multiple_of_a_heavy_exporters_baseline(
    source, person, events
):
    bob = person("Bob Busy")
    for day in range(1, 4):  # 15 an hour, under the floor
        events(bob, every(NOW - timedelta(days=day), 15, MINUTE), category=Category.EXPORT)
    events(bob, every(NOW.replace(minute=5), 40, MINUTE), category=Category.EXPORT)
    assert evaluate(source) == []


def test_bulk_export_holds_a_peer_group_and_a_person_to_their_own_thresholds(
    source, person, events
):
    analysts = [person(f"Analyst {n}") for n in range(3)]
    for analyst in analysts:
        events(analyst, every(NOW.replace(minute=5), 30, MINUTE), category=Category.EXPORT)
    Person.objects.filter(pk__in=[a.pk for a in analysts[:2]]).update(peer_group="Finance")
    Rule.objects.filter(name="bulk_export").update(
        thresholds={
            "per_group": {"finance": {"floor": 50}},
            "per_person": {"analyst.1@example.com": {"floor": 25}},
        }
    )
    alerts = evaluate(source)
    # Analyst 0's group exports in bulk as a matter of course; Analyst 1 is held closer than
    # the group; Analyst 2 has no group and the rule's floor of 20.
    assert sorted(alert.person.display_name for alert in alerts) == ["Analyst 1", "Analyst 2"]


def test_bulk_export_leaves_service_accounts_out_unless_included(source, person, events):
    robot = person("CI Pipeline", kind=Person.Kind.SERVICE)
    events(robot, every(NOW.replace(minute=5), 50, MINUTE), category=Category.EXPORT)
    assert evaluate(source) == []
    Rule.objects.filter(name="bulk_export").update(thresholds={"include_service_accounts": True})
    Alert.objects.all().delete()
    from activity.detections.engine import detections_backtest

    assert len(detections_backtest(dry_run=False).raised) == 1


def test_vendor_support_raises_one_alert_per_session(source, person, events):
    support = person("Datafold Support", kind=Person.Kind.VENDOR_SUPPORT)
    first = events(support, every(NOW - timedelta(hours=5), 6, 10 * MINUTE))
    second = events(support, every(NOW, 3, 20 * MINUTE))
    alerts = evaluate(source)
    assert rules_of(alerts) == ["vendor_support_access"] * 2
    assert [a.events for a in alerts] == [len(first), len(second)]
    assert "Vendor support staff Datafold Support acted 6 times" in alerts[0].explanation


def test_a_session_synced_in_two_batches_stays_one_alert(source, person, events):
    support = person("Datafold Support", kind=Person.Kind.VENDOR_SUPPORT)
    events(support, every(NOW, 4, 10 * MINUTE))
    evaluate(source)
    events(support, every(NOW + 40 * MINUTE, 4, 10 * MINUTE))
    # A late event before the session's start, but close enough to it, joins it too.
    events(support, [NOW - 15 * MINUTE])
    [alert] = evaluate(source)
    assert alert.events == 9 and alert.first_event_at == NOW - 15 * MINUTE


def test_failed_signins_by_one_person_make_a_burst(source, person, events):
    ken = person("Ken Hopper")
    events(
        ken,
        every(NOW, 12, 30 * timedelta(seconds=1)),
        category="authentication",
        outcome=Outcome.FAILURE,
        action="login",
        ip="203.0.113.9",
    )
    [alert] = evaluate(source)
    assert alert.rule == "failed_signin_burst" and alert.person == ken and alert.events == 12
    assert alert.explanation.startswith("12 failed sign-ins for Ken Hopper in about 6 minutes")


def test_password_spraying_from_one_address_is_one_alert_about_the_address(source, person, events):
    for number in range(15):
        events(
            person(f"Person {number}"),
            [NOW + number * 20 * timedelta(seconds=1)],
            category="authentication",
            outcome=Outcome.FAILURE,
            ip="203.0.113.66",
        )
    [alert] = evaluate(source)
    assert alert.person is None and alert.subject == "IP 203.0.113.66" and alert.events == 15
    assert "from IP address 203.0.113.66, against 15 accounts" in alert.explanation


def test_failed_signins_spread_out_are_no_burst(source, person, events):
    ken = person("Ken Hopper")
    events(
        ken,
        every(NOW, 30, 15 * MINUTE),
        category="authentication",
        outcome=Outcome.FAILURE,
        ip="203.0.113.9",
    )
    assert evaluate(source) == []


def test_activity_after_deactivation_was_first_seen(source, person, events):
    ken = person("Ken Hopper")
    deactivated_identity(source, ken, NOW)
    events(ken, every(NOW - timedelta(hours=2), 3, MINUTE))  # before: nothing
    evaluate(source)
    # A later directory read moves directory_seen_at; the first sighting stays.
    ken.identities.update(directory_seen_at=NOW + timedelta(days=1))
    after = events(ken, every(NOW + timedelta(hours=2), 4, MINUTE))
    [alert] = evaluate(source)
    assert alert.rule == "active_after_deactivation" and alert.events == 4
    assert set(alert.evidence.values_list("event_id", flat=True)) == {e.pk for e in after}
    assert "after their acme-df account ken.hopper@example.com was seen deactivated" in (
        alert.explanation
    )


def test_unusual_hours_flags_a_3am_session_of_an_office_hours_person(source, person, events):
    grace = person("Grace Hopper")
    events(grace, office_hours(30))
    night = events(grace, every(NOW.replace(hour=3), 5, 5 * MINUTE))
    events(grace, every(NOW.replace(hour=10), 5, 5 * MINUTE))  # her usual day
    [alert] = evaluate(source)
    assert alert.rule == "unusual_hours" and alert.severity == "medium"
    assert set(alert.evidence.values_list("event_id", flat=True)) == {e.pk for e in night}
    assert "their usual hours are 09:00 to 15:00 UTC" in alert.explanation


def test_unusual_hours_needs_a_baseline_and_counts_weekends(source, person, events):
    newcomer = person("New Comer")
    events(newcomer, office_hours(30, per_day=1))  # 21 events: too few to judge
    events(newcomer, [NOW.replace(hour=3)])
    grace = person("Grace Hopper")
    events(grace, office_hours(30))
    saturday = NOW + timedelta(days=3)
    events(grace, every(saturday.replace(hour=11), 3, MINUTE))  # her usual hour, a Saturday
    [alert] = evaluate(source)
    assert alert.person == grace and "on a weekend, when they rarely work" in alert.explanation


def test_unusual_hours_lets_one_stray_event_be(source, person, events):
    grace = person("Grace Hopper")
    events(grace, office_hours(30))
    events(grace, [NOW.replace(hour=3), NOW.replace(hour=4)])  # two, not a session
    assert evaluate(source) == []
    events(grace, [NOW.replace(hour=3, minute=30)])
    [alert] = evaluate(source)
    assert alert.events == 3 and alert.explanation.startswith("3 events by Grace Hopper")


def test_sensitive_changes_are_a_low_daily_digest(source, person, events):
    ada = person()
    events(ada, every(NOW, 2, MINUTE), category=Category.PERMISSION, action="invite_user")
    events(ada, [NOW + MINUTE * 5], category=Category.CONFIGURATION, action="update_settings")
    events(ada, [NOW + timedelta(days=1)], category=Category.PERMISSION, action="invite_user")
    alerts = evaluate(source)
    assert rules_of(alerts) == ["sensitive_change"] * 2
    assert [a.severity for a in alerts] == ["low", "low"] and alerts[0].events == 3
    assert alerts[0].explanation.endswith("invite_user (2 times), update_settings.")


def test_a_disabled_rule_raises_nothing(source, person, events):
    Rule.objects.update_or_create(name="sensitive_change", defaults={"enabled": False})
    events(person(), [NOW], category=Category.PERMISSION)
    assert evaluate(source) == []


def test_bulk_export_leaves_scheduled_deliveries_out_unless_included(source, person, events):
    from activity.models import Download

    ada = person()
    burst = events(ada, every(NOW.replace(minute=5), 30, MINUTE), category=Category.EXPORT)
    Download.objects.bulk_create(
        Download(
            event=event,
            source=source,
            downloaded_at=event.occurred_at,
            file_type="csv",
            query_uuid="q",
            query_context="scheduledDelivery" if number % 2 else "dashboardView",
        )
        for number, event in enumerate(burst)
    )
    assert evaluate(source) == []  # 15 by hand: under the floor
    Rule.objects.filter(name="bulk_export").update(
        thresholds={"include_scheduled_deliveries": True}
    )
    from activity.detections.engine import detections_backtest

    assert len(detections_backtest(dry_run=False).raised) == 1
