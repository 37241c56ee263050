"""coverage SOURCE [--since DATE] [--format text|json]"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError

from activity.coverage import DayCoverage, coverage_by_day, retention_days, retention_horizon
from activity.management.options import USAGE_ERROR, parse_cli_time
from activity.models import Source

DEFAULT_DAYS = 7


class Command(BaseCommand):
    help = (
        "Which hours of each of the source's streams a sync has read in full (the completeness "
        f"ledger), per UTC day; default: the last {DEFAULT_DAYS} days."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", metavar="SOURCE")
        parser.add_argument("--since", help="From this date (ISO 8601, UTC).")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, name, since, format, **options) -> None:
        source = Source.objects.filter(name=name).first()
        if source is None:
            raise CommandError(f"no source named {name!r}", returncode=USAGE_ERROR)
        since_at = parse_cli_time(since, "--since") or datetime.now(UTC) - timedelta(
            days=DEFAULT_DAYS
        )
        now = datetime.now(UTC)
        days = list(coverage_by_day(source=source, since=since_at, now=now))
        horizon, kept = retention_horizon(source, now), retention_days(source)
        if format == "json":
            # Fields are only ever appended: the vendor's retention, and whether the day is
            # already past it (what was not read of it can no longer be fetched).
            rows = [
                {**day.as_dict(), "retention_days": kept, "past_retention": _past(day, horizon)}
                for day in days
            ]
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not days:
            self.stdout.write(f"{source.name}: nothing read since {since_at:%Y-%m-%d}.")
        for day in days:
            self.stdout.write(
                f"{source.name} {day.stream} {day.day}: {len(day.hours):2d}/{day.hours_so_far} "
                f"hours read in full, {day.rows:,} records{_gaps(day.hours, day.hours_so_far)}"
                + (" (past the vendor's retention)" if _past(day, horizon) else "")
            )


def _past(day: DayCoverage, horizon: datetime) -> bool:
    return datetime.combine(day.day + timedelta(days=1), time(), tzinfo=UTC) <= horizon


def _gaps(hours: list[int], so_far: int) -> str:
    missing = [hour for hour in range(so_far) if hour not in hours]
    if not missing:
        return ""
    spans, first = [], missing[0]
    for previous, hour in zip(missing, [*missing[1:], None], strict=True):
        if hour != previous + 1:
            spans.append(f"{first:02d}:00-{previous + 1:02d}:00")
            first = hour
    return f" (not read: {', '.join(spans)})"
