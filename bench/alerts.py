"""Add synthetic alerts with their evidence to a database filled by bench/fill.py, by COPY.

    DATABASE_URL=postgres://... python bench/alerts.py --alerts 100000

Each alert takes a run of consecutive stored events as its evidence (events are stored in
time order, so its span is short and real), and the person (or, for half the sign-in bursts,
the IP address) of its first event. The rules' mix and sizes follow what they raise: many
small digests and unusual-hours days, fewer bulk exports of tens of events; one bulk export
has 5,000 events, the alert page's worst case. Alerts of the last two weeks are mostly open
or acknowledged; older ones mostly resolved or false positives, as triage leaves them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.db import connection

# (rule, severity, share of the alerts, fewest and most events)
RULES = [
    ("sensitive_change", "low", 0.35, 1, 6),
    ("unusual_hours", "medium", 0.30, 1, 15),
    ("vendor_support_access", "medium", 0.10, 3, 30),
    ("bulk_export", "high", 0.10, 20, 60),
    ("failed_signin_burst", "high", 0.10, 10, 30),
    ("active_after_deactivation", "high", 0.05, 1, 10),
]
BIGGEST = 5_000  # the evidence of the largest alert
ALERT_COLUMNS = (
    "id, rule, severity, person_id, subject, group_key, first_event_at, last_event_at, "
    "events, explanation, state, triaged_by, triage_note, created_at, updated_at"
)


def add_alerts(count: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.monotonic()
    now = datetime.now(UTC).isoformat()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM activity_activityevent")
        low, high = cursor.fetchone()
        if low is None:
            sys.exit("the database holds no events: run bench/fill.py first")
        cursor.execute("SELECT coalesce(max(id), 0) FROM activity_alert")
        first_id = cursor.fetchone()[0] + 1
        starts = sorted(rng.sample(range(low, high - BIGGEST), count))
        cursor.execute(
            "SELECT id, person_id, ip_address FROM activity_activityevent WHERE id = ANY(%s)",
            [starts],
        )
        who = {row[0]: row[1:] for row in cursor.fetchall()}
        weights = [share for _, _, share, _, _ in RULES]
        pairs = []
        with cursor.cursor.copy(f"COPY activity_alert ({ALERT_COLUMNS}) FROM STDIN") as alerts:
            for number, start in enumerate(starts):
                alert_id = first_id + number
                rule, severity, _, fewest, most = rng.choices(RULES, weights)[0]
                events = BIGGEST if number == count // 2 else rng.randint(fewest, most)
                person_id, ip = who.get(start, (None, ""))
                subject = ""
                if rule == "failed_signin_burst" and (rng.random() < 0.5 or person_id is None):
                    person_id, subject = None, ip or f"198.51.100.{number % 250}"
                explanation = (
                    f"{events} events of rule {rule} by "
                    f"{'person ' + str(person_id) if person_id else subject} in one window; "
                    "their usual is far lower over the previous 30 days"
                )
                alerts.write_row(
                    (
                        alert_id,
                        rule,
                        severity,
                        person_id,
                        subject,
                        f"bench:{alert_id}",
                        now,
                        now,
                        events,
                        explanation,
                        "open",
                        "",
                        "",
                        now,
                        now,
                    )
                )
                pairs.append((alert_id, start, events))
        cursor.execute("CREATE TEMP TABLE bench_pairs (alert_id bigint, event_id bigint)")
        with cursor.cursor.copy("COPY bench_pairs FROM STDIN") as evidence:
            for alert_id, start, events in pairs:
                for event_id in range(start, start + events):
                    evidence.write_row((alert_id, event_id))
        print(f"  copied {count:,} alerts and their evidence pairs", flush=True)
        cursor.execute(
            "INSERT INTO activity_alertevidence (alert_id, event_id, source_id, external_id, "
            "occurred_at) SELECT p.alert_id, e.id, e.source_id, e.external_id, e.occurred_at "
            "FROM bench_pairs p JOIN activity_activityevent e ON e.id = p.event_id"
        )
        cursor.execute(
            "UPDATE activity_alert a SET first_event_at = s.first, last_event_at = s.last, "
            "created_at = s.last, updated_at = s.last FROM (SELECT alert_id, "
            "min(occurred_at) AS first, max(occurred_at) AS last FROM activity_alertevidence "
            "WHERE alert_id >= %s GROUP BY alert_id) s WHERE a.id = s.alert_id",
            [first_id],
        )
        # Triage as it stands after a while: recent alerts need attention, old ones are closed.
        cursor.execute(
            "UPDATE activity_alert SET state = CASE "
            "WHEN last_event_at > now() - interval '14 days' THEN "
            "  CASE WHEN random() < 0.7 THEN 'open' ELSE 'acknowledged' END "
            "ELSE CASE WHEN random() < 0.03 THEN 'open' WHEN random() < 0.85 THEN 'resolved' "
            "ELSE 'false_positive' END END WHERE id >= %s",
            [first_id],
        )
        cursor.execute(
            "UPDATE activity_alert SET triaged_by = 'analyst', triaged_at = updated_at, "
            "triage_note = 'checked with the team' WHERE id >= %s AND state <> 'open'",
            [first_id],
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('activity_alert', 'id'), "
            "(SELECT max(id) FROM activity_alert))"
        )
        cursor.execute("DROP TABLE bench_pairs")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE activity_alert")
        cursor.execute("VACUUM ANALYZE activity_alertevidence")
    print(f"added {count:,} alerts in {time.monotonic() - started:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... (the benchmarks run on PostgreSQL)")
    add_alerts(args.alerts, args.seed)


if __name__ == "__main__":
    main()
