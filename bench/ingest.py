"""Ingestion benchmark: sync N simulated events per vendor into an empty PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/activity_bench \
        python bench/ingest.py --sizes 10000 100000 1000000

For each N: empty the event tables, serve N events per vendor from the simulator (its own
process), run `manage.py sync_activity` in a fresh process with production settings (DEBUG
off) and read its peak RSS and CPU time from the kernel (wait4), then time a plain psycopg
COPY of the same normalized rows into an empty copy of the event table as the reference.
Prints one table row per N; CPU seconds are the sync's and the simulator's (on two cores
they share the machine with PostgreSQL). The first line says where the detections that each
sync queues are evaluated: with the default database task queue they wait for a worker, so
the figures are ingestion alone; with an immediate queue (``TASKS_BACKEND``) they run inside
the sync, and the figures include them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
os.environ.setdefault("DEBUG", "1")
# One fixed key, so the sync process (DEBUG off) reads the secrets this process wrote.
os.environ.setdefault("SOURCE_SECRETS_KEYS", "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA=")

import django
import psycopg

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from activity.services.sources import source_create
from activity.sync.store import EVENT_COLUMNS

VENDORS = ("lightdash", "datafold", "domo", "velt")


def empty_tables() -> None:
    """Every table of the activity app: events, downloads, runs, sources and every rollup."""
    from django.apps import apps

    tables = ", ".join(m._meta.db_table for m in apps.get_app_config("activity").get_models())
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def detections_placement() -> str:
    """Whether the sync evaluates the detections it queues, from the task backend it uses."""
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.endswith("ImmediateBackend"):
        return f"detections: evaluated inside each sync ({backend}); the figures include them"
    return f"detections: queued for a worker ({backend}), not evaluated in the timed sync"


def start_simulator(events: int, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "simulate_vendors",
            "--port",
            str(port),
            "--events",
            str(events),
            "--seed",
            "1",
        ],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the simulator did not start")


def add_sources(port: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/credentials") as response:
        credentials = json.load(response)
    for vendor in VENDORS:
        source_create(
            vendor=vendor,
            name=f"bench-{vendor}",
            base_url=f"http://127.0.0.1:{port}/{vendor}",
            params=credentials[vendor]["params"],
            secrets=credentials[vendor]["secrets"],
        )


def cpu_seconds(usage: os.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def timed_sync() -> tuple[float, int, float]:
    """Seconds, peak RSS (bytes) and CPU seconds of one `sync_activity` process."""
    environment = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 50}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sync_activity"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        env=environment,
    )
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sync_activity failed:\n{output}")
    return elapsed, usage.ru_maxrss * 1024, cpu_seconds(usage)


def stop(process: subprocess.Popen) -> float:
    """Stop the simulator; return the CPU seconds it used."""
    process.terminate()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return cpu_seconds(usage)


def copy_reference() -> tuple[int, float]:
    """Rows and seconds for a plain COPY of the stored normalized rows into an empty copy
    of the event table (same indexes), streamed from a COPY out on a second connection."""
    columns = ", ".join(EVENT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_reference")
        cursor.execute(
            "CREATE TABLE bench_copy_reference (LIKE activity_activityevent INCLUDING ALL)"
        )
    url = os.environ["DATABASE_URL"]
    rows = 0
    with psycopg.connect(url) as source, psycopg.connect(url) as target:
        started = time.monotonic()
        with (
            source.cursor().copy(f"COPY activity_activityevent ({columns}) TO STDOUT") as out,
            target.cursor().copy(f"COPY bench_copy_reference ({columns}) FROM STDIN") as into,
        ):
            for block in out:
                into.write(block)
        target.commit()
        elapsed = time.monotonic() - started
        rows = target.execute("SELECT count(*) FROM bench_copy_reference").fetchone()[0]
        target.execute("DROP TABLE bench_copy_reference")
    return rows, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description="Ingestion throughput and memory.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--port", type=int, default=8799, help="the simulator's port (one per concurrent bench)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL=postgres://... (the benchmark runs on PostgreSQL)")
    call_command("migrate", verbosity=0)
    print(detections_placement())
    header = (
        f"{'events/vendor':>13} {'events':>9} {'sync s':>7} {'events/s':>9} "
        f"{'peak RSS MB':>11} {'sync CPU s':>10} {'sim CPU s':>9} "
        f"{'COPY rows/s':>11} {'sync/COPY':>9}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        empty_tables()
        simulator = start_simulator(size, args.port)
        try:
            add_sources(args.port)
            seconds, peak, sync_cpu = timed_sync()
        finally:
            simulator_cpu = stop(simulator)
        stored, copy_seconds = copy_reference()
        rate, copy_rate = stored / seconds, stored / copy_seconds
        print(
            f"{size:>13,} {stored:>9,} {seconds:>7.1f} {rate:>9,.0f} "
            f"{peak / 2**20:>11.0f} {sync_cpu:>10.1f} {simulator_cpu:>9.1f} "
            f"{copy_rate:>11,.0f} {rate / copy_rate:>9.2f}",
            flush=True,
        )
    empty_tables()


if __name__ == "__main__":
    main()
