"""Run-time guards: each assumption the connectors make about a vendor is checked while
syncing, against a simulator playing the vendor's other possible behaviour, over real HTTP.
Without the guard, each of these tests fails."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from activity.models import (
    DailyActivity,
    DailyActor,
    Source,
    SyncRun,
    UserActivitySnapshot,
    WeeklyActor,
)
from activity.rollups import rollups_rebuild
from activity.sync.engine import sync_source
from tests.activity.conftest import stored_records, truth_records

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_timeouts(settings):
    settings.SYNC_RETRY_POLICY = {**settings.SYNC_RETRY_POLICY, "timeout": 0.3, "budget": 2.0}


# -- 2. Lightdash: user activity and downloads fail and recover independently ----------------
def test_lightdash_user_activity_timing_out_does_not_keep_downloads_from_syncing(
    simulator, source_for, short_timeouts
):
    simulator.lightdash_user_activity_seconds = 3  # past even the snapshot's longer limit
    source = source_for(simulator, "lightdash")
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert run.failed_streams == ["user_activity"]
    assert "user_activity" in run.error and "user activity" in run.error
    assert stored_records(source) == truth_records(simulator, "lightdash")
    assert not UserActivitySnapshot.objects.filter(source=source).exists()
    with pytest.raises(CommandError) as failed:
        call_command("sync_activity", source.name)
    assert failed.value.returncode == 1 and "user_activity" in str(failed.value)

    simulator.lightdash_user_activity_seconds = 0
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    assert UserActivitySnapshot.objects.filter(source=source).count() == 1


def test_lightdash_user_activity_gets_a_longer_time_limit_than_other_requests(
    simulator, source_for, short_timeouts
):
    simulator.lightdash_user_activity_seconds = 0.6  # twice the usual limit
    source = source_for(simulator, "lightdash")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert UserActivitySnapshot.objects.filter(source=source).count() == 1


# -- 7. Lightdash older than the download-activity route -------------------------------------
def test_lightdash_without_the_download_route_says_so_and_still_syncs_user_activity(
    simulator, source_for
):
    simulator.lightdash_without_downloads = True
    source = source_for(simulator, "lightdash")
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert run.failed_streams == ["downloads"]
    assert "download-activity route" in run.error and "May 2026" in run.error
    assert "base URL" not in run.error
    assert UserActivitySnapshot.objects.filter(source=source).count() == 1
    assert "downloads" not in Source.objects.get(pk=source.pk).sync_state


# -- 1. Domo's zone-less times ------------------------------------------------------------
def domo_true_times(sim) -> list:
    feed = sim.feeds["domo"]
    return sorted(
        datetime.fromtimestamp(feed.time_of_key(key) / 1_000_000, tz=UTC)
        for key in feed.newest_first(0, feed.total())
    )


def test_domo_times_in_another_zone_stop_the_source_until_its_time_zone_is_set(
    simulator, source_for
):
    simulator.domo_time_zone = "America/Denver"
    source = source_for(simulator, "domo")
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "outside the window asked for" in run.error and "constant offset" in run.error
    assert "UTC\u221207:00" in run.error or "UTC\u221206:00" in run.error
    assert "America/Denver" in run.error and "time_zone=" in run.error
    for failed in (run, sync_source(source)):  # the next run stops there again
        assert failed.status == SyncRun.Status.FAILED
        window_start = re.search(r"window asked for \((\S+) to", failed.error).group(1)
        mark = Source.objects.get(pk=source.pk).sync_state["audit"]["hwm"]
        assert mark <= window_start  # the mark never passes the window that failed

    call_command(
        "add_source", "domo", source.name, "--update", "--param", "time_zone=America/Denver"
    )
    fixed = sync_source(source, since=simulator.now - timedelta(days=61))
    assert fixed.status == SyncRun.Status.SUCCEEDED, fixed.error
    assert stored_records(source) == truth_records(simulator, "domo")
    stored = sorted(source.events.values_list("occurred_at", flat=True))
    assert stored == domo_true_times(simulator)


def test_an_unknown_time_zone_is_refused_and_nothing_is_written(simulator, source_for):
    source = source_for(simulator, "domo")
    with pytest.raises(CommandError) as refused:
        call_command(
            "add_source", "domo", source.name, "--update", "--param", "time_zone=Mars/Base"
        )
    assert refused.value.returncode == 2 and "time_zone" in str(refused.value)
    assert "time_zone" not in Source.objects.get(pk=source.pk).params


# -- 3. Domo's order inside a bucket --------------------------------------------------------
def test_domo_keys_and_completeness_do_not_depend_on_its_order_or_short_pages(
    simulator, source_for
):
    simulator.domo_shuffle = True  # another order on every request
    simulator.domo_page_cap = 700  # pages shorter than asked, with more to come
    simulator.add_events("domo", 1500, at=simulator.now - timedelta(hours=3))
    source = source_for(simulator, "domo")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, "domo")
    again = sync_source(source, since=simulator.now - timedelta(hours=6))
    assert again.status == SyncRun.Status.SUCCEEDED and again.events_new == 0
    assert again.events_changed == 0
    assert stored_records(source) == truth_records(simulator, "domo")


# -- 8. Vendor edits ------------------------------------------------------------------------
def test_a_renamed_domo_card_updates_its_event_and_keeps_the_earlier_version(simulator, source_for):
    source = source_for(simulator, "domo")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    count = source.events.count()
    key = simulator.feeds["domo"].newest_first(0, 10)[-1]
    before = simulator.record("domo", key)
    simulator.edit("domo", key, objectName="Renamed card", additionalComment="Renamed card.")
    run = sync_source(source, since=simulator.now - timedelta(days=3))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.events_new == 0 and run.events_changed == 1
    assert source.events.count() == count
    event = source.events.get(object_name="Renamed card")
    assert [json.loads(r.raw) for r in event.revisions.all()] == [before]
    assert stored_records(source) == truth_records(simulator, "domo")


# -- 4. Datafold: a dropped GET body, a silent cap ------------------------------------------
def test_datafold_answering_outside_the_window_fails_loudly_and_keeps_the_mark(
    simulator, source_for
):
    source = source_for(simulator, "datafold")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    mark = Source.objects.get(pk=source.pk).sync_state["logs"]["hwm"]
    simulator.datafold_ignore_body = True  # a proxy drops the GET's body
    run = sync_source(source, since=simulator.now - timedelta(days=30))
    assert run.status == SyncRun.Status.FAILED
    assert "outside the window asked for" in run.error and "GET's JSON body" in run.error
    assert Source.objects.get(pk=source.pk).sync_state["logs"]["hwm"] == mark
    assert run.events_new == 0


def test_datafold_an_answer_cut_at_a_round_count_is_split_and_asked_again(simulator, source_for):
    simulator.datafold_answer_cap = 500  # undocumented: the oldest 500, silently
    simulator.add_events("datafold", 1500, at=simulator.now - timedelta(hours=2))
    source = source_for(simulator, "datafold")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, "datafold")


# -- 5. Velt's end of feed ------------------------------------------------------------------
def test_velt_a_last_page_with_a_token_then_an_empty_page_ends_the_walk(simulator, source_for):
    simulator.velt_token_on_last_page = True
    source = source_for(simulator, "velt", page_size="70")  # 600 rows: the last page short
    for _ in range(2):  # not once: every run
        run = sync_source(source)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, "velt")


# -- 9. Velt display fields -----------------------------------------------------------------
def test_velt_shows_the_customers_document_id_and_fills_its_own_placeholders(
    simulator, source_for, client, admin_user
):
    simulator.velt_sdk_templates = True
    source = source_for(simulator, "velt")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    events = list(source.events.all())
    assert all(event.object_name.startswith("client-doc-") for event in events)
    assert not any("{{" in event.summary or "}}" in event.summary for event in events)
    named = next(e for e in events if e.actor_name)
    assert named.summary == f"{named.actor_name} did {named.action} in document name"
    client.force_login(admin_user)
    page = client.get(f"/activity/{named.pk}/").content.decode()
    assert named.summary in page and named.object_name in page


# -- 6. A future timestamp ------------------------------------------------------------------
def test_a_future_timestamp_is_kept_and_flagged_but_does_not_hide_later_events(
    simulator, source_for
):
    simulator.add_events("velt", 1, at=simulator.now + timedelta(days=3650))  # a bad clock
    source = source_for(simulator, "velt")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(run.flag_samples) == 1 and "in the future" in run.flag_samples[0]["reason"]
    mark = datetime.fromisoformat(Source.objects.get(pk=source.pk).sync_state["activities"]["hwm"])
    assert mark <= datetime.now(UTC) + timedelta(minutes=5)
    simulator.add_events("velt", 250)  # more than two pages of new events
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    assert stored_records(source) == truth_records(simulator, "velt")


# -- 8. Vendor edits (Velt) -------------------------------------------------------------------
def rollup_rows():
    return {
        model: sorted(model.objects.values_list(*fields))
        for model, fields in (
            (DailyActivity, ("day", "source_id", "action", "events")),
            (DailyActor, ("day", "source_id", "person_id", "events")),
            (WeeklyActor, ("week", "person_id", "events")),
        )
    }


def test_an_updated_velt_activity_shows_the_vendors_record_and_keeps_the_earlier(
    simulator, source_for, client, admin_user
):
    source = source_for(simulator, "velt")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    key = simulator.feeds["velt"].newest_first(0, 5)[-1]
    before = simulator.record("velt", key)
    simulator.edit(
        "velt",
        key,
        actionType="comment.update",
        actionUser={"userId": "user-99", "email": "new.person@example.com", "name": "New"},
    )
    run = sync_source(source, since=simulator.now - timedelta(days=2))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.events_new == 0 and run.events_changed == 1
    event = source.events.get(external_id=before["id"])
    assert (event.action, event.actor_email) == ("comment.update", "new.person@example.com")
    assert [json.loads(r.raw)["actionType"] for r in event.revisions.all()] == [
        before["actionType"]
    ]
    assert stored_records(source) == truth_records(simulator, "velt")
    counted = rollup_rows()
    rollups_rebuild()
    assert rollup_rows() == counted  # the rollups followed the edit
    client.force_login(admin_user)
    page = client.get(f"/activity/{event.pk}/").content.decode()
    assert "changed by the vendor on" in page.lower() and before["actionType"] in page


# -- 10. Strict time parsing ------------------------------------------------------------------
def test_a_time_whose_zone_or_am_pm_would_be_dropped_is_skipped_with_its_reason(
    simulator, source_for
):
    simulator.datafold_odd_timestamps = True
    source = source_for(simulator, "datafold")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    odd = [r for r in simulator.truth("datafold") if not r["timestamp"][:4].isdigit()]
    assert odd and run.records_skipped == len(odd)
    reasons = {sample["reason"].split(" has ")[-1][:10] for sample in run.skipped_samples}
    assert reasons == {"a zone 'CE", "an AM/PM m"}
    stored = {json.loads(raw)["event_uuid"] for raw in source.events.values_list("raw", flat=True)}
    assert stored.isdisjoint(r["event_uuid"] for r in odd)
    assert len(stored) == len(simulator.truth("datafold")) - len(odd)


def test_stored_domo_events_are_rekeyed_by_their_stable_fields(simulator, source_for):
    from importlib import import_module

    from django.apps import apps

    from activity.connectors.domo import DomoConnector, ranked

    source = source_for(simulator, "domo")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    expected = sorted(source.events.values_list("external_id", flat=True))
    for event in source.events.all():  # as the earlier keys were: another hash
        event.external_id = "old-" + event.external_id
        event.save(update_fields=["external_id"])
    migration = import_module("activity.migrations.0011_domo_stable_keys")
    migration.rekey_domo_events(apps, None)
    assert sorted(source.events.values_list("external_id", flat=True)) == expected
    migration.rekey_domo_events(apps, None)  # once more: nothing moves
    assert sorted(source.events.values_list("external_id", flat=True)) == expected
    records = [json.loads(raw) for raw in source.events.values_list("raw", flat=True)]
    keys = {e.external_id for e in ranked([DomoConnector(source).parse(r) for r in records])}
    assert keys == set(expected)


def burst_in_one_second(sim, count: int) -> None:
    second = int((sim.now - timedelta(hours=3)).timestamp()) * 1_000_000
    sim.feeds["domo"].add([second] * count)  # more identical-second rows than a page holds


def test_domo_a_second_holding_more_than_a_page_is_read_twice_and_must_agree(simulator, source_for):
    simulator.domo_page_cap = 10
    burst_in_one_second(simulator, 25)
    source = source_for(simulator, "domo")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    assert stored_records(source) == truth_records(simulator, "domo")


def test_domo_a_second_read_differently_twice_stops_without_moving_the_mark(simulator, source_for):
    simulator.domo_page_cap = 10
    simulator.domo_shuffle = True  # pages of one second cannot be trusted to add up
    burst_in_one_second(simulator, 25)
    source = source_for(simulator, "domo")
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "two different answers" in run.error
    window_start = re.search(r"answers for the 2\d rows of (\S+) to", run.error).group(1)
    assert Source.objects.get(pk=source.pk).sync_state["audit"]["hwm"] <= window_start


def test_domo_a_zone_less_time_in_the_hour_daylight_saving_repeats_is_read_right(source_for):
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=0, seed=5) as sim:
        sim.domo_time_zone = "America/Denver"
        sim.add_events("domo", 10, at=datetime(2026, 11, 1, 7, 12, tzinfo=UTC))  # 01:11 MDT
        sim.add_events("domo", 10, at=datetime(2026, 11, 1, 8, 12, tzinfo=UTC))  # 01:11 MST
        source = source_for(sim, "domo", time_zone="America/Denver")
        run = sync_source(
            source,
            since=datetime(2026, 10, 31, tzinfo=UTC),
            until=datetime(2026, 11, 2, tzinfo=UTC),
        )
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert any(str(r["time"]).endswith("AM") for r in sim.truth("domo"))
        stored = sorted(source.events.values_list("occurred_at", flat=True))
        assert stored == domo_true_times(sim)
