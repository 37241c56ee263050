"""reclassify_activity [--source NAME] [--batch-size N] [--after-id ID]: the vocabulary again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from activity.management.options import (
    USAGE_ERROR,
    add_batch_size_argument,
    check_batch_size,
    source_named,
)
from activity.services.vocabulary import BATCH_SIZE, events_reclassify


class Command(BaseCommand):
    help = (
        "Recompute every stored event's category and outcome after a vendor mapping changed, "
        "in committed batches (rollups kept in step). Safe to run again or after a kill."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", help="Only this source (its name).")
        add_batch_size_argument(parser, BATCH_SIZE)
        parser.add_argument(
            "--after-id",
            type=int,
            default=0,
            help="Start after this event id (the last id an interrupted run printed).",
        )

    def handle(self, *args, source, batch_size, after_id, **options) -> None:
        check_batch_size(batch_size)
        if after_id < 0:
            raise CommandError("--after-id must be 0 or more", returncode=USAGE_ERROR)
        selected = source_named(source)

        def progress(last_id: int, read: int, changed: int) -> None:
            self.stderr.write(f"  up to event {last_id}: {read:,} read, {changed:,} changed")

        read, changed = events_reclassify(
            source=selected, batch_size=batch_size, after_id=after_id, on_batch=progress
        )
        self.stdout.write(f"Reclassified {read:,} events: {changed:,} changed.")
