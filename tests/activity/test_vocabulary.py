"""One vocabulary: each vendor's actions and records map to a category and an outcome."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from activity.connectors.datafold import DatafoldConnector
from activity.connectors.domo import DomoConnector
from activity.connectors.lightdash import LightdashConnector
from activity.connectors.velt import VeltConnector
from activity.models import ActivityEvent, ActorCategory, DailyActivity, HourlyActor
from activity.rollups import rollups_rebuild
from activity.services.vocabulary import events_reclassify
from activity.sync.records import NormalizedEvent
from activity.sync.store import events_upsert
from activity.vocabulary import Category, Outcome, category_by_verb, outcome_from_status

from .test_connectors import connector, fixture

C, O = Category, Outcome  # noqa: E741  (short, so the tables read like the mappings)


def classified(cls, vendor: str, record: dict) -> tuple[str, str]:
    events, skipped = connector(cls, vendor).parse_all([record])
    assert not skipped, skipped
    return events[0].category, events[0].outcome


def test_lightdash_downloads_are_exports_whose_outcome_it_does_not_say():
    record = fixture("lightdash/download_activity_page.json")["results"]["data"][0]
    assert classified(LightdashConnector, "lightdash", record) == (C.EXPORT, O.UNKNOWN)


@pytest.mark.parametrize(
    "action, status, category, outcome",
    [
        ("login", "success", C.AUTHENTICATION, O.SUCCESS),
        ("login", "failure", C.AUTHENTICATION, O.FAILURE),
        ("logout", None, C.AUTHENTICATION, O.UNKNOWN),
        ("view_diff", "success", C.READ, O.SUCCESS),
        ("run_diff", "error", C.READ, O.FAILURE),
        ("export_diff", "success", C.EXPORT, O.SUCCESS),
        ("create_monitor", "success", C.CREATE, O.SUCCESS),
        ("update_monitor", "success", C.UPDATE, O.SUCCESS),
        ("delete_monitor", "success", C.DELETE, O.SUCCESS),
        ("invite_user", "success", C.PERMISSION, O.SUCCESS),
        ("update_settings", "success", C.CONFIGURATION, O.SUCCESS),
        ("create_api_key", "success", C.CONFIGURATION, O.SUCCESS),
        ("api_call", "403", C.OTHER, O.FAILURE),
        ("something_odd", "pending", C.OTHER, O.UNKNOWN),
    ],
)
def test_datafold_actions_and_its_status(action, status, category, outcome):
    record = {**fixture("datafold/audit_logs.json")["logs"][0], "action": action, "status": status}
    assert classified(DatafoldConnector, "datafold", record) == (category, outcome)


@pytest.mark.parametrize(
    "action, text, category, outcome",
    [
        ("VIEWED", "Viewed page", C.READ, O.UNKNOWN),
        ("LOGGED_IN", "Logged in", C.AUTHENTICATION, O.SUCCESS),
        ("LOGGED_OUT", "Logged out", C.AUTHENTICATION, O.UNKNOWN),
        ("FAILED_LOGIN", "Failed login", C.AUTHENTICATION, O.FAILURE),
        ("LOCKED_OUT", "User locked out", C.AUTHENTICATION, O.FAILURE),
        ("EXPORTED", "Exported card", C.EXPORT, O.UNKNOWN),
        ("CREATED", "Created card", C.CREATE, O.UNKNOWN),
        ("UPDATED", "Updated dataset", C.UPDATE, O.UNKNOWN),
        ("DELETED", "Deleted card", C.DELETE, O.UNKNOWN),
        ("SHARED", "Shared page", C.PERMISSION, O.UNKNOWN),
        ("EXECUTED", "Ran DataFlow", C.UPDATE, O.UNKNOWN),
    ],
)
def test_domo_action_types_and_failed_sign_in_texts(action, text, category, outcome):
    record = {**fixture("domo/audit.json")[0], "actionType": action, "eventText": text}
    assert classified(DomoConnector, "domo", record) == (category, outcome)


@pytest.mark.parametrize(
    "action, category",
    [
        ("comment.add", C.COLLABORATION),
        ("comment.reaction_add", C.COLLABORATION),
        ("comment_annotation.status_change", C.COLLABORATION),
        ("comment_annotation.access_mode_change", C.PERMISSION),
        ("reaction.add", C.COLLABORATION),
        ("recording.add", C.COLLABORATION),
        ("crdt.editor_edit", C.UPDATE),
        ("invoice.approved", C.UPDATE),  # a customer's own action, read by its verb
        ("custom.ping", C.OTHER),
    ],
)
def test_velt_action_types_say_nothing_of_outcome(action, category):
    record = {**fixture("velt/activities.json")["result"]["data"][0], "actionType": action}
    assert classified(VeltConnector, "velt", record) == (category, O.UNKNOWN)


@pytest.mark.parametrize(
    "action, category",
    [
        ("user_login", C.AUTHENTICATION),
        ("SSO_SIGNIN", C.AUTHENTICATION),
        ("viewed", C.READ),
        ("exportCsv", C.EXPORT),  # a word that starts with a verb
        ("export.csv", C.EXPORT),
        ("delete-dashboard", C.DELETE),
        ("role_granted", C.PERMISSION),
        ("rotate_api_key", C.CONFIGURATION),
        ("mention", C.COLLABORATION),
        ("frobnicate", C.OTHER),
    ],
)
def test_the_fallback_reads_the_verb_of_an_unknown_action(action, category):
    assert category_by_verb(action) == category


@pytest.mark.parametrize(
    "value, outcome",
    [
        ("success", O.SUCCESS),
        ("FAILED", O.FAILURE),
        (500, O.FAILURE),
        ("201", O.SUCCESS),
        (None, O.UNKNOWN),
        (True, O.UNKNOWN),
        ("queued", O.UNKNOWN),
    ],
)
def test_an_outcome_is_only_what_the_vendor_says(value, outcome):
    assert outcome_from_status(value) == outcome


def _store(source, n: int) -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    events_upsert(
        source=source,
        events=[
            NormalizedEvent(
                external_id=f"e{i}",
                occurred_at=start + timedelta(hours=i),
                action="frobnicate" if i % 2 else "login",
                actor_email=f"p{i % 3}@example.com",
                raw={"status": "failure" if i % 5 == 0 else "success"},
                category=C.OTHER,
                outcome=O.UNKNOWN,
            )
            for i in range(n)
        ],
    )


def _rollups():
    return (
        sorted(DailyActivity.objects.values_list("day", "action", "category", "outcome", "events")),
        sorted(ActorCategory.objects.values_list("person_id", "category", "events")),
        sorted(HourlyActor.objects.values_list("person_id", "hour", "category", "events")),
    )


@pytest.mark.django_db
def test_reclassification_resumes_after_a_kill_and_adds_nothing_the_second_time(
    make_source, monkeypatch
):
    source = make_source(name="df", vendor="datafold", secrets={"api_key": "k"}, params={})
    _store(source, 23)
    monkeypatch.setitem(DatafoldConnector.categories, "frobnicate", C.CONFIGURATION)

    class Killed(Exception):
        pass

    def kill_after_two(last_id, read, changed):
        if read >= 10:
            raise Killed(last_id)

    with pytest.raises(Killed) as killed:
        events_reclassify(batch_size=5, on_batch=kill_after_two)
    done = ActivityEvent.objects.filter(id__lte=killed.value.args[0])
    assert done.exclude(category=C.OTHER).count() == 10
    assert ActivityEvent.objects.filter(category=C.OTHER).count() == 13
    read, changed = events_reclassify(batch_size=5, after_id=killed.value.args[0])
    assert (read, changed) == (13, 13)
    assert set(ActivityEvent.objects.values_list("category", flat=True)) == {
        C.AUTHENTICATION,
        C.CONFIGURATION,
    }
    assert ActivityEvent.objects.filter(outcome=O.FAILURE).count() == 5
    incremental = _rollups()
    rollups_rebuild()
    assert _rollups() == incremental
    out = io.StringIO()
    call_command("reclassify_activity", "--batch-size", "7", stdout=out, stderr=io.StringIO())
    assert "23 events: 0 changed" in out.getvalue()
    assert _rollups() == incremental
