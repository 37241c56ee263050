"""Background syncs as production runs them: db_worker processes sharing one PostgreSQL queue.

Real worker processes, a real scheduler, the simulator over HTTP, the pytest test database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus

from activity.models import Source, SyncRun
from activity.scheduling import schedule_due_syncs, sources_due
from activity.tasks import sync_source_task, sync_task_state
from tests.activity.conftest import VENDORS, canonical, stored_records, truth_records
from tests.activity.test_commands import PROJECT, subprocess_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DEADLINE = 60.0  # seconds; a generous bound for a loaded machine, not a speed assertion


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> object:
    """Poll until ``condition()`` is truthy and return it; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


class Process:
    """A manage.py command run as its own process, its output in a log file."""

    def __init__(self, log: Path, *args: str):
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=PROJECT,
                env=subprocess_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@pytest.fixture
def processes(transactional_db, tmp_path) -> Iterator[Callable[..., Process]]:
    """Start manage.py commands; all are stopped before the test database is flushed."""
    started: list[Process] = []

    def start(*args: str) -> Process:
        process = Process(tmp_path / f"{args[0]}-{len(started)}.log", *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def start_workers(processes) -> Callable[[int], list[Process]]:
    def start(count: int) -> list[Process]:
        workers = [
            processes(
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
                "--worker-id",
                f"worker-{n}",
            )
            for n in range(count)
        ]
        # Every worker polls the queue before anything is queued, so all of them compete.
        for worker in workers:
            wait_for(lambda w=worker: "Starting worker" in w.output(), f"{worker.pid} to start")
        return workers

    return start


def pid_of(holder: str) -> int:
    return int(holder.rpartition(":")[2])


def add_sources(
    sim, *, per_vendor: int, sync_interval: timedelta, vendors=VENDORS, **params
) -> list[Source]:
    sources = []
    for vendor in vendors:
        for n in range(per_vendor):
            credentials = sim.credentials(vendor)
            source = Source(
                vendor=vendor,
                name=f"{vendor}-{n}",
                base_url=sim.url(vendor),
                params={**credentials["params"], **params.get(vendor, {})},
                sync_interval=sync_interval,
            )
            source.secrets = credentials["secrets"]
            source.save()
            sources.append(source)
    return sources


def concurrent_schedulers(count: int) -> list[str]:
    """Run ``count`` schedulers at the same moment, each on its own connection."""
    queued: list[str] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait()
            queued.extend(schedule_due_syncs())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return queued


def all_succeeded(sources: list[Source]) -> bool:
    states = [sync_task_state(Source.objects.get(pk=s.pk)) for s in sources]
    failed = [state for state in states if state.status in ("failed", "abandoned")]
    assert not failed, failed
    return all(state.status == "succeeded" for state in states)


@pytest.fixture
def small_simulator():
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=200, seed=5) as sim:
        yield sim


def readable_now(vendor: str) -> datetime:
    """A time for new events that the vendor's next sync reads, given how far it lags."""
    now = datetime.now(UTC)
    if vendor == "domo":  # closed hour buckets ending 15 minutes ago, an hour of overlap
        return (now - timedelta(minutes=15)).replace(minute=0, second=0, microsecond=0) - (
            timedelta(minutes=20)
        )
    return now - timedelta(minutes=3)  # Datafold's windows end two minutes ago


def test_workers_share_the_queue_and_each_source_syncs_once_per_due_period(
    small_simulator, start_workers
):
    simulator = small_simulator
    small_pages = {"lightdash": {"page_size": "50"}, "velt": {"page_size": "50"}}
    sources = add_sources(
        simulator, per_vendor=2, sync_interval=timedelta(seconds=3), **small_pages
    )
    workers = start_workers(3)
    periods = 2
    for period in range(periods):
        wait_for(lambda: len(sources_due()) == len(sources), f"period {period} to be due")
        # Three schedulers at once (cron on two machines, a loop): each source queued once.
        queued = concurrent_schedulers(3)
        assert sorted(queued) == sorted(source.name for source in sources)
        wait_for(lambda: all_succeeded(sources), f"period {period}'s syncs")
        if period < periods - 1:
            for vendor in VENDORS:
                simulator.add_events(vendor, 40, at=readable_now(vendor))

    runs = SyncRun.objects.filter(source__in=sources)
    for source in sources:
        statuses = list(runs.filter(source=source).values_list("status", flat=True))
        assert statuses == [SyncRun.Status.SUCCEEDED] * periods, source.name
    holders = {pid_of(holder) for holder in runs.values_list("holder", flat=True)}
    assert len(holders) >= 2 and holders <= {worker.pid for worker in workers}
    # Each source holds every record its vendor serves, once (new events included).
    for source in sources:
        assert stored_records(source) == truth_records(simulator, source.vendor), source.name


def test_a_worker_killed_mid_sync_is_replaced_and_the_sync_completes_exactly(
    simulator, start_workers, processes
):
    simulator.add_events("lightdash", 1400)  # 2,000 records: 80 pages of 25
    (source,) = add_sources(
        simulator,
        per_vendor=1,
        sync_interval=timedelta(hours=1),
        vendors=["lightdash"],
        lightdash={"page_size": "25"},
    )
    simulator.inject("lightdash", "slow", times=100_000, seconds=0.1)
    workers = start_workers(2)
    processes("schedule_syncs", "--every", "0.3")

    def killable_run() -> SyncRun | None:
        return SyncRun.objects.filter(
            source=source, status=SyncRun.Status.RUNNING, pages__gte=5
        ).first()

    killed_run = wait_for(killable_run, "the first sync to commit a few pages")
    killed_task = Source.objects.get(pk=source.pk).sync_task_id
    victim = next(worker for worker in workers if worker.pid == pid_of(killed_run.holder))
    os.kill(victim.pid, signal.SIGKILL)
    victim.popen.wait()
    simulator.clear_faults("lightdash")

    def finished_run() -> SyncRun | None:
        return SyncRun.objects.filter(source=source, status=SyncRun.Status.SUCCEEDED).first()

    resumed = wait_for(finished_run, "another worker to finish the sync")
    survivor = next(worker for worker in workers if worker is not victim)
    assert pid_of(resumed.holder) == survivor.pid
    killed_run.refresh_from_db()
    assert killed_run.status == SyncRun.Status.FAILED
    assert killed_run.error.startswith(f"abandoned: {killed_run.holder} stopped mid-sync; ")
    assert f"{resumed.holder} took over the lease" in killed_run.error
    # The dead worker's task is closed; the source points at the task that finished.
    assert sync_source_task.get_result(killed_task).status == TaskResultStatus.FAILED
    source.refresh_from_db()
    assert source.sync_task_id != killed_task
    assert sync_task_state(source).status == "succeeded"
    assert source.lease_holder == ""
    # Resumed from the committed cursor rather than from the start; nothing lost, nothing twice.
    assert resumed.events_seen < 2000
    assert killed_run.events_new + resumed.events_new == 2000
    out = StringIO()
    call_command("export_activity", "--format", "jsonl", "--source", source.name, stdout=out)
    exported = sorted(canonical(json.loads(line)["raw"]) for line in out.getvalue().splitlines())
    assert exported == truth_records(simulator, "lightdash")
    assert SyncRun.objects.filter(source=source).count() == 2  # not due again for an hour
