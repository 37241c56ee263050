"""sync_activity as users run it: summaries, exit codes, crashes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from activity.models import ActivityEvent, SyncRun
from tests.activity.conftest import canonical, seen_times_astray, stored_records, truth_records

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[2]


def sync(*args: str) -> str:
    out = StringIO()
    call_command("sync_activity", *args, stdout=out)
    return out.getvalue()


def test_sync_activity_prints_one_summary_line_per_source(simulator, source_for):
    for vendor in ("datafold", "velt"):
        source_for(simulator, vendor)
    output = sync()
    lines = output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("datafold-sim: succeeded in ")
    assert "new, 0 already known" in lines[0]


def test_one_failing_source_does_not_stop_the_others_and_the_exit_code_says_so(
    simulator, source_for
):
    broken = source_for(simulator, "datafold", name="a-broken")
    broken.secrets = {"api_key": "wrong"}
    broken.save()
    healthy = source_for(simulator, "velt", name="b-healthy")
    with pytest.raises(CommandError, match="1 of 2 sources did not sync: a-broken") as error:
        sync()
    assert error.value.returncode == 1
    assert stored_records(healthy) == truth_records(simulator, "velt")
    assert SyncRun.objects.get(source=broken).status == SyncRun.Status.FAILED


def test_unknown_source_names_and_bad_dates_exit_2_and_sync_nothing(simulator, source_for):
    source_for(simulator, "velt")
    for args in (["nope"], ["--since", "last tuesday"], ["--until", "2026-13-01"]):
        with pytest.raises(CommandError) as error:
            sync(*args)
        assert error.value.returncode == 2
    assert not SyncRun.objects.exists()


def subprocess_env() -> dict[str, str]:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        url = (
            f"postgres://{settings['USER']}@{settings['HOST'] or 'localhost'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    else:
        url = f"sqlite:///{Path(settings['NAME']).resolve()}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}


KILLS = 24


def started_run(source, after_pk: int, process: subprocess.Popen) -> SyncRun | None:
    """The run the process started once it has committed a page (None if it ended first)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        run = (
            SyncRun.objects.filter(source=source, pk__gt=after_pk, pages__gte=2)
            .order_by("-pk")
            .first()
        )
        if run:
            return run
        time.sleep(0.02)
    return None


def test_a_sync_killed_at_random_moments_resumes_without_loss_or_duplicates(simulator, source_for):
    simulator.add_events("lightdash", 5400)  # 6,000 downloads, 150 pages
    source = source_for(simulator, "lightdash", page_size="40")
    # Slow enough that 24 short lives cannot finish it (the next page is fetched ahead).
    simulator.inject("lightdash", "slow", times=100_000, seconds=0.05)
    command = [sys.executable, "manage.py", "sync_activity", source.name]
    randomness = random.Random(11)
    last_pk, killed_mid_sync = 0, 0
    for _ in range(KILLS):
        process = subprocess.Popen(
            command, cwd=PROJECT, env=subprocess_env(), stdout=subprocess.DEVNULL
        )
        run = started_run(source, last_pk, process)
        # Somewhere inside a page: fetching, parsing, mid-transaction or committing.
        time.sleep(randomness.uniform(0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if run is not None:
            last_pk, killed_mid_sync = run.pk, killed_mid_sync + 1
    assert killed_mid_sync >= KILLS // 2, "the sync ended before most kills"
    assert ActivityEvent.objects.filter(source=source).count() < 6000, "nothing left to resume"
    finished = subprocess.run(
        command, cwd=PROJECT, env=subprocess_env(), capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    exported = subprocess.run(
        [sys.executable, "manage.py", "export_activity", "--format", "jsonl"],
        cwd=PROJECT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = [json.loads(line)["raw"] for line in exported.stdout.splitlines()]
    assert sorted(canonical(raw) for raw in rows) == truth_records(simulator, "lightdash")
    assert len({raw["downloadUuid"] for raw in rows}) == len(rows) == 6000
    assert stored_records(source) == truth_records(simulator, "lightdash")
    # Kills between the runs' writes of seen-times lost none of them.
    assert seen_times_astray(source) == {}


@pytest.mark.parametrize("command", ["schedule_syncs", "send_notifications"])
def test_the_looping_commands_refuse_a_period_that_is_not_positive(command):
    with pytest.raises(CommandError, match="--every must be a positive number") as error:
        call_command(command, "--every", "0")
    assert error.value.returncode == 2


@pytest.mark.parametrize(
    ("command", "said"),
    [("schedule_syncs", "queued 0 source(s)"), ("send_notifications", "sent 0 of 0")],
)
def test_the_looping_commands_run_once_without_a_period(command, said):
    out = StringIO()
    call_command(command, stdout=out)
    assert said in out.getvalue()
