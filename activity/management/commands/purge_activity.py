"""purge_activity --before DATE [--source NAME]: retention, in batches."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from activity.management.options import USAGE_ERROR, parse_cli_time
from activity.models import Source
from activity.services.retention import events_purge


class Command(BaseCommand):
    help = "Delete events that occurred before a date, in small batches (no long locks)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--before", required=True, help="ISO date/time (UTC), exclusive.")
        parser.add_argument("--source", help="Only this source (its name).")

    def handle(self, *args, before, source, **options) -> None:
        cutoff = parse_cli_time(before, "--before")
        selected = None
        if source:
            selected = Source.objects.filter(name=source).first()
            if selected is None:
                raise CommandError(f"no source named {source!r}", returncode=USAGE_ERROR)
        deleted = events_purge(before=cutoff, source=selected)
        scope = f" of source {source}" if source else ""
        self.stdout.write(
            f"Deleted {deleted:,} events{scope} that occurred before {cutoff:%Y-%m-%d %H:%M} UTC."
        )
