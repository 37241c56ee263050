"""Page benchmark: server time of every dashboard page over a filled database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/activity_pages_10m python bench/pages.py
    python bench/pages.py --compare postgres://.../activity_pages_1m postgres://.../activity_pages_10m

Fill the database first with bench/fill.py. Each page is requested in-process through Django's
test Client (the full middleware stack, URL routing, the view, template rendering; no network,
no browser), logged in as a superuser. After ``--warmup`` requests the page is timed ``--runs``
times; the table shows the median, p90 and max in milliseconds, the time the last run's queries
took in the database, their number, and the response size. The last row is not a page: it times
``events_upsert`` of one sync page (1,000 new events with their rollups, rolled back), to show
what the sync costs as the table grows. ``--compare`` runs the benchmark once per database, each
in its own process, and prints them side by side with the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
os.environ.setdefault("DEBUG", "1")

TARGET_MS = 100


def pages() -> list[tuple[str, str]]:
    """(label, URL) for every page in the targets, with parameters that exist in the data."""
    from django.db import connection

    from activity.models import ActivityEvent, Identity, Person
    from dashboard.cursors import Cursor

    newest = ActivityEvent.objects.order_by("-occurred_at", "-id").only("occurred_at").first()
    oldest = ActivityEvent.objects.order_by("occurred_at", "id").only("occurred_at").first()
    if newest is None:
        sys.exit("the database holds no events: run bench/fill.py first")
    # Half way back through the year, through the (occurred_at, id) index.
    middle_time = oldest.occurred_at + (newest.occurred_at - oldest.occurred_at) / 2
    middle = (
        ActivityEvent.objects.filter(occurred_at__lte=middle_time)
        .order_by("-occurred_at", "-id")
        .only("occurred_at")
        .first()
    )
    deep = Cursor(middle.occurred_at, middle.id, "older").encode()
    # The deepest page a user reaches by clicking "Older": the page before the oldest event.
    deepest = (
        ActivityEvent.objects.order_by("occurred_at", "id").only("occurred_at", "id")[50:51].get()
    )
    deepest = Cursor(deepest.occurred_at, deepest.id, "older").encode()
    with connection.cursor() as cursor:
        # The busiest person, and a typical one (the median of those with 20 events or more).
        cursor.execute(
            "SELECT person_id, events FROM activity_actortotal WHERE events >= 20 "
            "ORDER BY events DESC"
        )
        ranked = [person_id for person_id, _ in cursor.fetchall()]
        cursor.execute(
            "SELECT user_name, user_uuid, count(*) FROM activity_download "
            "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1"
        )
        downloader, downloader_uuid, _ = cursor.fetchone()
    busiest, typical = (Person.objects.get(pk=pk) for pk in (ranked[0], ranked[len(ranked) // 2]))
    downloader_person = (
        Identity.objects.filter(vendor_user_id=downloader_uuid).values_list("person_id").first()
    )[0]
    first_event = ActivityEvent.objects.order_by("id").only("id").first().pk
    velt_user = (
        ActivityEvent.objects.filter(source__vendor="velt")
        .order_by("-id")
        .values_list("actor_id", flat=True)[0]
    )
    q = quote_plus
    return [
        ("activity: first page", "/activity/"),
        ("activity: deep page (cursor)", f"/activity/?cursor={deep}"),
        ("activity: deepest page (Older)", f"/activity/?cursor={deepest}"),
        ("activity: person by email", f"/activity/?person={q(typical.primary_email)}"),
        ("activity: busiest person", f"/activity/?person={q(busiest.primary_email)}"),
        ("activity: person by name", f"/activity/?person={q(typical.display_name)}"),
        ("activity: person by id", f"/activity/?person={q(downloader_uuid)}"),
        ("activity: action, 30 days", "/activity/?action=SHARED&range=30d"),
        ("activity: vendor + 7 days", "/activity/?vendor=domo&range=7d"),
        ("activity: object type", "/activity/?object_type=monitor"),
        ("activity: source + type, none", "/activity/?source=bench-velt&object_type=CARD"),
        ("activity: source + type, few", "/activity/?source=bench-domo&object_type=ACCESS_TOKEN"),
        (
            "activity: person + action, few",
            f"/activity/?person={q(typical.primary_email)}&action=logout&range=90d",
        ),
        (
            "activity: busiest + action, none",
            f"/activity/?person={q(busiest.primary_email)}&action=VIEWED",
        ),
        ("activity: category, 30 days", "/activity/?category=export&range=30d"),
        ("activity: failures, 30 days", "/activity/?outcome=failure&range=30d"),
        (
            "activity: failed sign-ins, 30 days",
            "/activity/?category=authentication&outcome=failure&range=30d",
        ),
        ("activity: action in any case", "/activity/?action=logged_in"),
        ("activity: text, rare", "/activity/?q=Monitor+12345"),
        ("activity: text, uncommon", "/activity/?q=export"),
        ("activity: text, common", "/activity/?q=dashboard"),
        ("activity: custom dates", "/activity/?date_from=2026-06-01&date_to=2026-06-03"),
        ("activity: event detail", f"/activity/{first_event}/"),
        ("downloads: first page + totals", "/downloads/"),
        ("downloads: file type, 30 days", "/downloads/?file_type=xlsx&range=30d"),
        ("downloads: busiest person (name)", f"/downloads/?person={q(downloader)}"),
        ("downloads: busiest person (id)", f"/downloads/?person={q(downloader_uuid)}"),
        ("users: charts, 30 days", "/users/?period=30"),
        ("users: charts, 365 days", "/users/?period=365"),
        ("person page", f"/people/{typical.pk}/"),
        ("person page, busiest", f"/people/{busiest.pk}/"),
        ("person page, downloader", f"/people/{downloader_person}/"),
        ("people: first page", "/people/"),
        ("people: search by name", f"/people/?q={q(typical.display_name.split()[0])}"),
        ("people: search by vendor id", f"/people/?q={q(downloader_uuid)}"),
        *alert_pages(),
        ("sources", "/sources/"),
        ("admin events: first page", "/admin/activity/activityevent/"),
        ("admin events: filtered", f"/admin/activity/activityevent/?vendor=velt&q={q(velt_user)}"),
        ("admin downloads: first page", "/admin/activity/download/"),
    ]


def alert_pages() -> list[tuple[str, str]]:
    """The alert pages, when the database holds alerts (bench/alerts.py adds them)."""
    from django.db.models import Count

    from activity.models import Alert, Person
    from dashboard.cursors import Cursor

    if not Alert.objects.exists():
        return []
    person_id = (
        Alert.objects.exclude(person=None)
        .values_list("person")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()[0]
    )
    most_alerted = Person.objects.get(pk=person_id)
    biggest = Alert.objects.order_by("-events").only("id").first().pk
    typical = Alert.objects.filter(events__range=(5, 50)).only("id").order_by("-id").first().pk
    middle = Alert.objects.order_by("-last_event_at", "-id")[Alert.objects.count() // 2]
    deep = Cursor(middle.last_event_at, middle.id, "older").encode()
    q = quote_plus
    return [
        ("alerts: first page", "/alerts/"),
        ("alerts: any state", "/alerts/?state=any"),
        ("alerts: any state, deep page", f"/alerts/?state=any&cursor={deep}"),
        ("alerts: by rule", "/alerts/?rule=bulk_export"),
        ("alerts: by rule, any state", "/alerts/?rule=unusual_hours&state=any"),
        ("alerts: resolved, 30 days", "/alerts/?state=resolved&range=30d"),
        ("alerts: high, any state", "/alerts/?severity=high&state=any"),
        ("alerts: by person", f"/alerts/?person={q(most_alerted.primary_email)}&state=any"),
        ("alerts: by IP", "/alerts/?person=198.51.100.7&state=any"),
        ("alert page", f"/alerts/{typical}/"),
        ("alert page, 5,000 events", f"/alerts/{biggest}/"),
    ]


def measure(warmup: int, runs: int, *, only: str | None = None) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client

    from activity.models import ActivityEvent

    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    results = {}
    for label, url in pages():
        if only and only not in label:
            continue
        for _ in range(warmup):
            client.get(url)
        times = []
        for _ in range(runs):
            reset_queries()
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{label}: {url} answered {response.status_code}")
        times.sort()
        results[label] = {
            "median": statistics.median(times),
            "p90": times[min(len(times) - 1, round(0.9 * (len(times) - 1)))],
            "max": times[-1],
            "queries": len(connection.queries),
            "sql": sum(float(q["time"]) for q in connection.queries) * 1000,
            "kb": len(response.content) / 1024,
            "slowest": sorted(
                ((float(q["time"]) * 1000, q["sql"][:400]) for q in connection.queries),
                reverse=True,
            )[:2],
        }
    if not only or only in "sync":
        results["sync: store 1,000 new events"] = _time_sync(warmup, runs)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", ["activity_activityevent"]
        )
        events = (
            cursor.fetchone()[0]
            if connection.vendor == "postgresql"
            else ActivityEvent.objects.count()
        )
    return {"events": events, "pages": results}


def _time_sync(warmup: int, runs: int) -> dict:
    """What one sync page costs: ``events_upsert`` of 1,000 new events with their rollups,
    each run in a transaction that is rolled back so the table stays as filled."""
    from datetime import UTC, datetime, timedelta

    from django.db import transaction

    from activity.models import Source
    from activity.sync.records import NormalizedEvent
    from activity.sync.store import events_upsert

    source = Source.objects.get(name="bench-domo")
    now = datetime.now(UTC)
    times = []
    for run in range(warmup + runs):
        events = [
            NormalizedEvent(
                external_id=f"bench-sync-{run}-{i}",
                occurred_at=now - timedelta(seconds=i),
                action="view.chart",
                actor_id=f"user-{i % 50}",
                actor_name=f"Person {i % 50}",
                actor_email=f"person{i % 50}@example.com",
                object_type="chart",
                object_id=f"obj-{i}",
                object_name=f"Object {i}",
                raw={"id": i},
            )
            for i in range(1000)
        ]
        with transaction.atomic():
            started = time.perf_counter()
            events_upsert(source=source, events=events)
            times.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    times = sorted(times[warmup:])
    return {
        "median": statistics.median(times),
        "p90": times[min(len(times) - 1, round(0.9 * (len(times) - 1)))],
        "max": times[-1],
        "queries": 0,
        "sql": 0.0,
        "kb": 0,
        "slowest": [],
    }


def print_one(result: dict, *, verbose: bool = False) -> None:
    print(f"{result['events']:,} events; ms (median of runs after warm-up)")
    print(f"{'page':34} {'median':>8} {'p90':>8} {'max':>8} {'SQL':>6} {'queries':>8} {'KB':>6}")
    for label, row in result["pages"].items():
        flag = "" if row["median"] <= TARGET_MS or label.startswith("sync") else "  over"
        print(
            f"{label:34} {row['median']:8.1f} {row['p90']:8.1f} {row['max']:8.1f} "
            f"{row['sql']:6.1f} {row['queries']:8d} {row['kb']:6.0f}{flag}"
        )
        if verbose:
            for ms, sql in row["slowest"]:
                print(f"    {ms:7.1f} ms  {sql}")


def print_compare(first: dict, second: dict) -> None:
    a, b = f"{first['events'] / 1e6:.0f}M", f"{second['events'] / 1e6:.0f}M"
    print(f"median ms (p90) after warm-up: {first['events']:,} vs {second['events']:,} events")
    print(f"{'page':34} {a:>16} {b:>16} {'ratio':>6} {'SQL ' + a:>7} {'SQL ' + b:>7}")
    for label, row in first["pages"].items():
        other = second["pages"].get(label)
        if other is None:
            continue
        slow = max(row["median"], other["median"]) > TARGET_MS
        flag = "  over" if slow and not label.startswith("sync") else ""
        print(
            f"{label:34} {row['median']:7.1f} ({row['p90']:6.1f}) {other['median']:7.1f} "
            f"({other['p90']:6.1f}) {other['median'] / row['median']:6.2f} "
            f"{row['sql']:7.1f} {other['sql']:7.1f}{flag}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare", nargs=2, metavar="DATABASE_URL")
    parser.add_argument("--verbose", action="store_true", help="show each page's slowest SQL")
    parser.add_argument("--only", help="time only the pages whose label contains this")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.compare:
        results = []
        for url in args.compare:
            command = [sys.executable, __file__, "--json", f"--warmup={args.warmup}"]
            command.append(f"--runs={args.runs}")
            output = subprocess.run(
                command, env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True
            ).stdout
            results.append(json.loads(output))
        print_compare(*results)
        return
    result = measure(args.warmup, args.runs, only=args.only)
    if args.json:
        print(json.dumps(result))
    else:
        print_one(result, verbose=args.verbose)


if __name__ == "__main__":
    main()
