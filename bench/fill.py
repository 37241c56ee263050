"""Fill PostgreSQL with a year of synthetic events, fast (COPY), for the page benchmarks.

    DATABASE_URL=postgres://... python bench/fill.py --events 10000000

Five sources (one per vendor, two Lightdash), 5,000 people, 40 actions, one year; Lightdash
events also get their download rows, and each Lightdash source a daily user-activity snapshot.
The rows look like what the connectors write; raw records are small vendor-shaped JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.core.management import call_command
from django.db import connection

from activity.models import Source, UserActivitySnapshot
from activity.sync.store import EVENT_COLUMNS

PEOPLE = 5000
ACTIONS = [
    f"{verb}.{noun}"
    for verb in ("view", "edit", "create", "delete", "export", "share", "login", "comment")
    for noun in ("chart", "dashboard", "query", "space", "user")
]
SOURCES = [
    ("bench-lightdash", "lightdash"),
    ("bench-lightdash-2", "lightdash"),
    ("bench-datafold", "datafold"),
    ("bench-domo", "domo"),
    ("bench-velt", "velt"),
]
FILE_TYPES = ["csv", "xlsx", "jsonl", "image", "s3_jsonl"]
CONTEXTS = ["dashboardView", "sqlRunner", "api", "cli", "mcp.run_sql", ""]


def sources() -> list[Source]:
    result = []
    for name, vendor in SOURCES:
        source, _ = Source.objects.get_or_create(
            name=name, defaults={"vendor": vendor, "base_url": "https://bench.invalid"}
        )
        result.append(source)
    return result


def fill(total: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=365)
    span = (now - start).total_seconds()
    all_sources = sources()
    people = [(f"user-{i}", f"Person {i}", f"person{i}@example.com") for i in range(PEOPLE)]
    columns = ", ".join(EVENT_COLUMNS)
    step = span / total
    stamp = now.isoformat()
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM activity_activityevent")
        first_id = cursor.fetchone()[0] + 1
        # Building the indexes once after the load is several times faster than keeping
        # them up to date row by row.
        saved = _drop_event_indexes(cursor)
        pareto = rng.paretovariate
        with cursor.cursor.copy(f"COPY activity_activityevent (id, {columns}) FROM STDIN") as copy:
            lines = []
            for i in range(total):
                source_id = all_sources[i % len(all_sources)].pk
                actor_id, name, email = people[int(pareto(1.2)) % PEOPLE]
                action = ACTIONS[int(pareto(1.5)) % len(ACTIONS)]
                occurred = (start + timedelta(seconds=i * step)).isoformat()
                obj = i % 20000
                # COPY text format by hand: none of these values holds a tab, newline or backslash.
                lines.append(
                    f"{first_id + i}\t{source_id}\tbench-{seed}-{i}\t{occurred}\t{actor_id}\t"
                    f"{name}\t{email}\t{action}\t{action.split('.')[1]}\tobj-{obj}\t"
                    f"Object {obj}\t{name} did {action}\t203.0.113.1\tMozilla/5.0\t"
                    f'{{"id": {i}, "user": "{email}", "action": "{action}"}}\t{stamp}\n'
                )
                if len(lines) == 50_000:
                    copy.write("".join(lines))
                    lines.clear()
                if i and i % 1_000_000 == 0:
                    print(f"  {i:,} events, {i / (time.monotonic() - started):,.0f}/s", flush=True)
            copy.write("".join(lines))
        print(f"  copied in {time.monotonic() - started:.0f}s; rebuilding indexes", flush=True)
        _restore_event_indexes(cursor, saved)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('activity_activityevent', 'id'), "
            "(SELECT max(id) FROM activity_activityevent))"
        )
        lightdash_ids = [s.pk for s in all_sources if s.vendor == "lightdash"]
        cursor.execute(
            "INSERT INTO activity_download (event_id, source_id, downloaded_at, user_uuid, "
            "user_name, file_type, query_uuid, query_context) "
            "SELECT id, source_id, occurred_at, actor_id, actor_name, "
            "(ARRAY['csv','xlsx','jsonl','image','s3_jsonl'])[1 + id %% 5], object_id, "
            "(ARRAY['dashboardView','sqlRunner','api','cli','mcp.run_sql',''])[1 + id %% 6] "
            "FROM activity_activityevent WHERE source_id = ANY(%s) AND id >= %s "
            "ON CONFLICT DO NOTHING",
            [lightdash_ids, first_id],
        )
    for source in all_sources:
        if source.vendor != "lightdash":
            continue
        UserActivitySnapshot.objects.bulk_create(
            UserActivitySnapshot(
                source=source,
                taken_at=now - timedelta(days=day),
                number_users=400 + day % 30,
                number_viewers=250,
                number_interactive_viewers=80,
                number_editors=50,
                number_admins=20,
                weekly_querying_users_percent=40 + day % 20,
                raw=json.dumps(snapshot_document(rng, now - timedelta(days=day))),
            )
            for day in range(365)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {total:,} events in {time.monotonic() - started:.0f}s")


def _drop_event_indexes(cursor) -> tuple[list[str], list[str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'activity_activityevent'::regclass AND contype = 'u'"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'activity_activityevent' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'activity_activityevent'::regclass)"
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE activity_activityevent DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return (
        [f'ALTER TABLE activity_activityevent ADD CONSTRAINT "{n}" {d}' for n, d in constraints],
        [d for _, d in indexes],
    )


def _restore_event_indexes(cursor, saved: tuple[list[str], list[str]]) -> None:
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for statement in saved[0] + saved[1]:
        began = time.monotonic()
        cursor.execute(statement)
        print(f"  {time.monotonic() - began:5.0f}s {statement[:90]}", flush=True)


def snapshot_document(rng: random.Random, taken: datetime) -> dict:
    days = [(taken - timedelta(days=d)).date().isoformat() for d in range(43)]
    return {
        "numberUsers": 420,
        "numberViewers": 250,
        "numberInteractiveViewers": 80,
        "numberEditors": 50,
        "numberAdmins": 20,
        "numberWeeklyQueryingUsers": 40,
        "tableMostQueries": [],
        "tableMostCreatedCharts": [],
        "tableNoQueries": [
            {"userUuid": f"u{i}", "firstName": "Idle", "lastName": str(i), "count": 91 + i}
            for i in range(10)
        ],
        "chartWeeklyQueryingUsers": [
            {
                "date": d,
                "num_7d_active_users": str(rng.randint(50, 200)),
                "percent_7d_active_users": str(rng.randint(10, 60)),
            }
            for d in days
        ],
        "chartWeeklyAverageQueries": [
            {"date": d, "average_number_of_weekly_queries_per_user": f"{rng.uniform(1, 9):.2f}"}
            for d in days
        ],
        "chartViews": [
            {"uuid": f"c{i}", "name": f"Chart {i}", "count": 500 - i} for i in range(20)
        ],
        "dashboardViews": [
            {"uuid": f"d{i}", "name": f"Dashboard {i}", "count": 300 - i} for i in range(20)
        ],
        "userMostViewedDashboards": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... (the benchmarks run on PostgreSQL)")
    call_command("migrate", verbosity=0)
    fill(args.events, args.seed)
    call_command("rebuild_rollups")


if __name__ == "__main__":
    main()
