"""The sync engine against the vendor simulator, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from unittest.mock import patch

import pytest
from django.db import connections

from activity.models import Download, SyncRun, UserActivitySnapshot
from activity.sync.engine import sync_source
from activity.sync.lease import lease_acquire, lease_release
from tests.activity.conftest import VENDORS, event_count, stored_records, truth_records

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_first_sync_fetches_every_event_the_vendor_serves(simulator, source_for, vendor):
    source = source_for(simulator, vendor)
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, vendor)
    assert run.events_new == len(simulator.truth(vendor))
    assert run.pages > 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_resync_adds_no_duplicates(simulator, source_for, vendor):
    source = source_for(simulator, vendor)
    sync_source(source)
    again = sync_source(source)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.events_new == 0
    assert stored_records(source) == truth_records(simulator, vendor)


@pytest.mark.parametrize("vendor", VENDORS)
def test_incremental_sync_fetches_new_and_late_events_reading_only_near_the_mark(
    source_for, vendor
):
    from activity.simulator import VendorSimulator

    real_now = datetime.now(UTC)
    # The vendor's history ends two hours ago; the first sync runs "half an hour earlier".
    with VendorSimulator(events_per_vendor=600, seed=5, now=real_now - timedelta(hours=2)) as sim:
        source = source_for(sim, vendor)
        first = sync_source(source, now=real_now - timedelta(hours=2, minutes=30))
        assert first.status == SyncRun.Status.SUCCEEDED, first.error
        sim.add_events(vendor, 5, at=real_now - timedelta(minutes=90))  # new
        sim.add_events(vendor, 3, late=True)  # arrived now, happened before the first mark
        run = sync_source(source)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert stored_records(source) == truth_records(sim, vendor)
        assert run.events_seen < len(sim.truth(vendor)) / 2  # only the part near the mark
        assert sync_source(source).events_new == 0


def test_lightdash_rows_tied_within_a_millisecond_at_page_boundaries_are_not_skipped(
    simulator, source_for
):
    source = source_for(simulator, "lightdash", page_size="7")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, "lightdash")
    sent = [query for method, path, query, body in simulator.request_log("lightdash")]
    assert all("cursor" not in str(query) for query in sent)


def test_lightdash_downloads_fill_the_download_audit(simulator, source_for):
    source = source_for(simulator, "lightdash")
    sync_source(source)
    assert Download.objects.filter(source=source).count() == event_count(source)
    truth = {row["downloadUuid"]: row for row in simulator.truth("lightdash")}
    download = Download.objects.select_related("event").first()
    assert download.file_type == truth[download.event.external_id]["fileType"]


def test_lightdash_user_activity_is_kept_as_dated_snapshots(simulator, source_for):
    source = source_for(simulator, "lightdash")
    sync_source(source)
    UserActivitySnapshot.objects.update(
        taken_at=UserActivitySnapshot.objects.get().taken_at - timedelta(hours=2)
    )
    sync_source(source)
    snapshots = list(UserActivitySnapshot.objects.filter(source=source))
    assert len(snapshots) == 2
    assert snapshots[0].number_users is not None
    assert "chartWeeklyQueryingUsers" in snapshots[0].raw_record


def test_datafold_asks_for_closed_utc_windows_in_the_get_body(simulator, source_for):
    source = source_for(simulator, "datafold")
    sync_source(source)
    requests = simulator.request_log("datafold")
    assert requests and all(method == "GET" for method, *_ in requests)
    bodies = [body for *_, body in requests]
    assert all(
        body["start_date"].endswith("Z") and body["end_date"].endswith("Z") for body in bodies
    )
    assert all(a["end_date"] == b["start_date"] for a, b in pairwise(bodies))


def test_domo_pages_by_at_most_1000_in_closed_hour_aligned_buckets(simulator, source_for):
    source = source_for(simulator, "domo")
    sync_source(source)
    for _method, _path, query, _body in simulator.request_log("domo"):
        if "start" in query:
            assert int(query["limit"]) <= 1000
            assert int(query["start"]) % 3_600_000 == 0
            assert (int(query["end"]) - int(query["start"])) % 3_600_000 == 0


def test_domo_token_is_renewed_when_it_expires_mid_sync(source_for):
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=300, seed=3, domo_token_ttl=1) as sim:
        sim.inject("domo", "slow", times=3, seconds=0.6)
        source = source_for(sim, "domo")
        run = sync_source(source)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert stored_records(source) == truth_records(sim, "domo")


def test_domo_token_revoked_mid_sync_is_renewed_once(simulator, source_for):
    source = source_for(simulator, "domo")
    simulator.inject("domo", "domo_token_expire", times=1)
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, "domo")


def test_identical_domo_records_stay_separate_events(simulator, source_for):
    source = source_for(simulator, "domo")
    sync_source(source)
    truth = truth_records(simulator, "domo")
    assert len(set(truth)) < len(truth), "the simulator serves identical records"
    assert stored_records(source) == truth


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("fault", ["429", "500", "502", "503", "reset", "truncated"])
def test_transient_faults_are_retried_and_lose_nothing(simulator, source_for, vendor, fault):
    source = source_for(simulator, vendor)
    simulator.inject(vendor, fault, times=2, retry_after=0)
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, vendor)


def test_a_429_retry_after_is_honoured(simulator, source_for):
    waits = []
    source = source_for(simulator, "datafold")
    simulator.inject("datafold", "429", times=1, retry_after=1)
    import time

    started = time.monotonic()
    run = sync_source(source)
    waits.append(time.monotonic() - started)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert waits[0] >= 1.0


@pytest.mark.parametrize("vendor", VENDORS)
def test_rejected_credentials_fail_fast_naming_the_source_never_the_secret(
    simulator, source_for, vendor
):
    source = source_for(simulator, vendor)
    secrets = source.secrets
    source.secrets = {key: f"wrong-{value}" for key, value in secrets.items()}
    source.save()
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert source.name in run.error and "refused the credentials" in run.error
    for value in source.secrets.values():
        assert value not in run.error
    assert event_count(source) == 0


def test_a_vendor_that_keeps_failing_fails_the_run_and_a_later_run_completes(simulator, source_for):
    source = source_for(simulator, "velt")
    simulator.inject("velt", "503", times=50)
    failed = sync_source(source)
    assert failed.status == SyncRun.Status.FAILED
    assert "kept failing" in failed.error
    simulator.inject("velt", "503", times=0)
    simulator.clear_faults("velt") if hasattr(simulator, "clear_faults") else None
    done = sync_source(source)
    assert done.status == SyncRun.Status.SUCCEEDED, done.error
    assert stored_records(source) == truth_records(simulator, "velt")


@pytest.mark.parametrize("vendor", ["lightdash", "velt"])
def test_a_cursor_that_repeats_fails_clearly_instead_of_looping(simulator, source_for, vendor):
    source = source_for(simulator, vendor, page_size="50")
    simulator.inject(vendor, "repeat_cursor", times=1)
    run = sync_source(source)
    if run.status == SyncRun.Status.FAILED:
        assert "loop" in run.error
    again = sync_source(source)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert stored_records(source) == truth_records(simulator, vendor)


def test_velt_error_envelope_with_http_200_is_retried(simulator, source_for):
    source = source_for(simulator, "velt")
    simulator.inject("velt", "velt_error_200", times=2)
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, "velt")


def test_since_backfills_without_resetting_anything(simulator, source_for):
    source = source_for(simulator, "datafold")
    sync_source(source)
    mark = source.__class__.objects.get(pk=source.pk).sync_state["logs"]["hwm"]
    before = event_count(source)
    run = sync_source(source, since=simulator.now - timedelta(days=200))
    source.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert event_count(source) == before
    assert source.sync_state["logs"]["hwm"] >= mark


def test_a_second_sync_of_the_same_source_is_skipped_visibly(simulator, source_for):
    source = source_for(simulator, "velt")
    other = connections.create_connection("default")  # another process's session
    try:
        with patch("activity.sync.lease.connection", other):
            assert lease_acquire(source, "other-host:123")
        run = sync_source(source)
        with patch("activity.sync.lease.connection", other):
            lease_release(source, "other-host:123")
    finally:
        other.close()
    assert run.status == SyncRun.Status.SKIPPED
    assert "other-host:123" in run.error
    assert event_count(source) == 0
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
