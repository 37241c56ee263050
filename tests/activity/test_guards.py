"""Run-time guards: each assumption the connectors make about a vendor is checked while
syncing, against a simulator playing the vendor's other possible behaviour, over real HTTP.
Without the guard, each of these tests fails."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from activity.models import Source, SyncRun, UserActivitySnapshot
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
