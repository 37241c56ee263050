"""The completeness ledger: each window a sync read, per source and stream."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from activity.models import CoveredWindow, SyncRun
from activity.sync.engine import sync_source

pytestmark = pytest.mark.django_db(transaction=True)


def coverage(name: str, *args: str) -> list[dict]:
    out = StringIO()
    call_command("coverage", name, "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("vendor", ["datafold", "domo", "velt", "lightdash"])
def test_a_sync_records_the_windows_it_read_and_coverage_shows_whole_past_days(
    simulator, source_for, vendor
):
    source = source_for(simulator, vendor)
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    windows = CoveredWindow.objects.filter(source=source)
    assert windows.exists()
    assert sum(windows.values_list("rows", flat=True)) >= source.events.count()
    since = (simulator.now - timedelta(days=10)).date().isoformat()
    days = coverage(source.name, "--since", since)
    past = [day for day in days if day["hours_so_far"] == 24]
    assert past and all(day["hours_covered"] == 24 for day in past), past


def test_coverage_shows_the_hours_not_read(simulator, source_for):
    source = source_for(simulator, "datafold")
    sync_source(
        source, since=simulator.now - timedelta(days=3), until=simulator.now - timedelta(days=2)
    )
    out = StringIO()
    since = (simulator.now - timedelta(days=4)).date().isoformat()
    call_command("coverage", source.name, "--since", since, stdout=out)
    assert "not read: 00:00-24:00" in out.getvalue()
    assert "24/24 hours read in full" not in out.getvalue().splitlines()[0]


def test_coverage_of_an_unknown_source_exits_2(db):
    with pytest.raises(CommandError) as failed:
        call_command("coverage", "nope")
    assert failed.value.returncode == 2


@pytest.mark.parametrize("vendor", ["velt", "lightdash"])
def test_a_newest_first_walk_bounded_by_until_records_nothing_after_until(
    simulator, source_for, vendor
):
    source = source_for(simulator, vendor)
    since, until = simulator.now - timedelta(days=6), simulator.now - timedelta(days=3)
    run = sync_source(source, since=since, until=until)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    windows = CoveredWindow.objects.filter(source=source)
    assert windows.exists()
    assert max(windows.values_list("asked_to", flat=True)) <= until
    assert min(windows.values_list("asked_from", flat=True)) <= since
