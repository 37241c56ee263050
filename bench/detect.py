"""Detections benchmark on a filled PostgreSQL database (see ``fill.py``).

    DATABASE_URL=postgres://... python bench/detect.py --runs 5 --backtest-days 30

1. The evaluation after a sync page, for each source: its newest 1,000 stored events are
   stored again as a new page (new ids, the same people, categories and downloads, moved
   forward so the page ends now) and committed, then the rules evaluate that page as the task
   after a sync does, in a transaction that is rolled back, twice (the first untimed); the page
   is deleted after (its rollups with it), so the database stays as filled (VACUUM after).
   Prints the median and worst milliseconds, and each rule's share, three times: for the
   first page of a day in a worker (people's baselines of the day not kept by the worker
   process yet), with the days not prepared ("cold", summed from the rollups) and prepared
   as the scheduler leaves them ("prepared"), and for the next pages of the day ("warm").
2. A backtest of every rule over the last ``--backtest-days`` days of stored events (a dry
   run, as ``manage.py detect --since``): seconds, events read, what it would raise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
# Production settings (DEBUG off: no query log kept for every statement), with keys for the
# benchmark only.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("SOURCE_SECRETS_KEYS", "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA=")

import django

django.setup()

from django.db import connection, transaction

from activity.detections import registry
from activity.detections.base import process_memo_clear
from activity.detections.baselines import baselines_prepare
from activity.detections.engine import detections_backtest, detections_evaluate
from activity.detections.models import Baseline, BaselineDay
from activity.models import ActivityEvent, DetectionCursor, Source
from activity.services.retention import events_delete
from activity.sync.records import DownloadFacts, NormalizedEvent
from activity.sync.store import events_upsert

PAGE = 1000


def page_like_the_newest(source: Source, run: int) -> list[NormalizedEvent]:
    """The source's newest ``PAGE`` events as a new page ending now."""
    rows = list(
        ActivityEvent.objects.filter(source=source)
        .select_related("download")
        .order_by("-occurred_at", "-id")[:PAGE]
    )
    shift = datetime.now(UTC) - rows[0].occurred_at
    page = []
    for row in rows:
        download = getattr(row, "download", None)
        page.append(
            NormalizedEvent(
                external_id=f"bench-detect-{run}-{row.pk}",
                occurred_at=row.occurred_at + shift,
                action=row.action,
                raw=json.loads(row.raw),
                actor_id=row.actor_id,
                actor_name=row.actor_name,
                actor_email=row.actor_email,
                object_type=row.object_type,
                object_id=row.object_id,
                object_name=row.object_name,
                ip_address=row.ip_address,
                user_agent=row.user_agent,
                category=row.category,
                outcome=row.outcome,
                download=download
                and DownloadFacts(
                    file_type=download.file_type,
                    query_uuid=download.query_uuid,
                    query_context=download.query_context,
                    user_uuid=download.user_uuid,
                    user_name=download.user_name,
                ),
            )
        )
    return page


class RuleClock:
    """Time spent in each rule's ``find``."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._originals = {}

    def __enter__(self) -> RuleClock:
        for name, module in registry.RULES.items():
            self._originals[name] = module.find

            def timed(events, settings, context, _name=name, _find=module.find):
                started = time.perf_counter()
                try:
                    return _find(events, settings, context)
                finally:
                    self.seconds[_name] += time.perf_counter() - started

            module.find = timed
        return self

    def __exit__(self, *exc) -> None:
        for name, module in registry.RULES.items():
            module.find = self._originals[name]


def time_evaluation(source: Source, warmup: int, runs: int, *, cold: bool) -> dict:
    times, found = [], Counter()
    per_rule: dict[str, list[float]] = defaultdict(list)
    for run in range(warmup + runs):
        page = page_like_the_newest(source, run)
        newest = ActivityEvent.objects.order_by("-id").values_list("id", flat=True).first()
        events_upsert(source=source, events=page)  # committed, as a sync's page is
        try:
            # Once untimed: its first reading sets the new rows' hint bits and passes over the
            # index entries of earlier runs' deleted pages, neither of which a worker meets.
            for _timed in (False, True):
                if cold:
                    process_memo_clear()
                with transaction.atomic():
                    DetectionCursor.objects.update_or_create(
                        source=source, defaults={"evaluated_to": newest}
                    )
                    with RuleClock() as clock:
                        started = time.perf_counter()
                        outcome = detections_evaluate(source_id=source.pk)
                        elapsed = (time.perf_counter() - started) * 1000
                    transaction.set_rollback(True)
        finally:
            with transaction.atomic():  # the fill as it was, rollups included
                events_delete(
                    list(
                        ActivityEvent.objects.filter(source=source, id__gt=newest).values_list(
                            "id", flat=True
                        )
                    )
                )
        if run >= warmup:
            times.append(elapsed)
            found["raised"] += len(outcome.raised)
            found["events"] += outcome.events
            for name, seconds in clock.seconds.items():
                per_rule[name].append(seconds * 1000)
    return {
        "median": statistics.median(times),
        "max": max(times),
        "events": found["events"] // runs,
        "raised": found["raised"] / runs,
        "rules": {name: statistics.median(ms) for name, ms in per_rule.items()},
    }


def baselines_prepared(prepared: bool) -> None:
    """The days a page can span (today and the two before) prepared, as the scheduler leaves
    them, or none."""
    Baseline.objects.all().delete()
    BaselineDay.objects.all().delete()
    if prepared:
        today = datetime.now(UTC).date()
        for back in (2, 1, 0):
            baselines_prepare(day=today - timedelta(days=back))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backtest-days", type=int, default=30, help="0: no backtest")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/detect.py needs a filled PostgreSQL database (DATABASE_URL)")
    total = ActivityEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    print(f"about {total:,} events stored; evaluation of one {PAGE:,}-event page, ms")
    print(
        f"{'source':<18} {'baselines':<9} {'median':>7} {'max':>7} {'raised':>6}  "
        "slowest rules (median ms)"
    )
    for source in Source.objects.order_by("name"):
        for baselines in ("cold", "prepared", "warm"):
            baselines_prepared(baselines == "prepared")
            result = time_evaluation(source, args.warmup, args.runs, cold=baselines != "warm")
            rules = sorted(result["rules"].items(), key=lambda item: -item[1])[:3]
            print(
                f"{source.name:<18} {baselines:<9} {result['median']:>7.1f} "
                f"{result['max']:>7.1f} {result['raised']:>6.1f}  "
                + ", ".join(f"{name} {ms:.1f}" for name, ms in rules)
            )
    baselines_prepared(False)
    if args.backtest_days:
        since = datetime.now(UTC) - timedelta(days=args.backtest_days)
        started = time.perf_counter()
        with RuleClock() as clock:
            outcome = detections_backtest(since=since, dry_run=True)
        seconds = time.perf_counter() - started
        by_rule = Counter(finding.rule for finding in outcome.findings)
        print(
            f"backtest of {args.backtest_days} days: {outcome.events:,} events in {seconds:.1f} s; "
            f"would raise {sum(by_rule.values())}: "
            + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items()))
        )
        print(
            "  time per rule (s): "
            + ", ".join(f"{name} {s:.1f}" for name, s in clock.seconds.most_common())
        )


if __name__ == "__main__":
    main()
