"""purge_activity [--before DATE] [--source NAME]: retention, in batches."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from activity.management.options import (
    USAGE_ERROR,
    add_batch_size_argument,
    check_batch_size,
    parse_cli_time,
    source_named,
)
from activity.services.retention import BATCH_SIZE, events_purge


class Command(BaseCommand):
    help = (
        "Delete events that occurred before a date (or older than RETENTION_DAYS), "
        "in small batches (no long locks)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--before",
            help="ISO date/time (UTC), exclusive. Default: RETENTION_DAYS days ago, if set.",
        )
        parser.add_argument("--source", help="Only this source (its name).")
        add_batch_size_argument(parser, BATCH_SIZE)

    def handle(self, *args, before, source, batch_size, **options) -> None:
        cutoff = parse_cli_time(before, "--before") or _retention_cutoff()
        check_batch_size(batch_size)
        selected = source_named(source)
        deleted = events_purge(before=cutoff, source=selected, batch_size=batch_size)
        scope = f" of source {source}" if source else ""
        self.stdout.write(
            f"Deleted {deleted:,} events{scope} that occurred before {cutoff:%Y-%m-%d %H:%M} UTC."
        )


def _retention_cutoff():
    days = settings.RETENTION_DAYS
    if not days:
        raise CommandError(
            "give --before DATE, or set RETENTION_DAYS to keep that many days of events",
            returncode=USAGE_ERROR,
        )
    return timezone.now() - timedelta(days=days)
