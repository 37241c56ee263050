"""schedule_syncs [--every SECONDS]: queue the sources that are due (run from cron, or loop)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from activity.scheduling import schedule_due_syncs


class Command(BaseCommand):
    help = (
        "Queue a background sync for every enabled source whose sync interval has passed and "
        "that is not already queued or running. Workers (manage.py db_worker) run them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Keep running, checking every SECONDS (default: check once and exit).",
        )

    def handle(self, *args, every: float | None, **options) -> None:
        if every is not None and every <= 0:
            raise CommandError("--every must be a positive number of seconds", returncode=2)
        while True:
            queued = schedule_due_syncs()
            self.stdout.write(
                f"queued {len(queued)} source(s)" + (f": {', '.join(queued)}" if queued else "")
            )
            if every is None:
                return
            time.sleep(every)
