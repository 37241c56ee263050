"""link_people [--source NAME] [--batch-size N]: stored events to their persons."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.management.options import add_batch_size_argument, check_batch_size, source_named
from activity.people.backfill import BATCH_SIZE, events_link


class Command(BaseCommand):
    help = (
        "Link stored events that have no person yet (stored before persons existed) to the "
        "person of their identity, creating identities and persons as syncs do, in committed "
        "batches with the people rollups. Safe to run again or after a kill."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", help="Only this source (its name).")
        add_batch_size_argument(parser, BATCH_SIZE)

    def handle(self, *args, source, batch_size, **options) -> None:
        check_batch_size(batch_size)
        selected = source_named(source)

        def progress(last_id: int, linked: int) -> None:
            self.stderr.write(f"  up to event {last_id}: {linked:,} linked")

        linked = events_link(source=selected, batch_size=batch_size, on_batch=progress)
        self.stdout.write(f"Linked {linked:,} events to their persons.")
