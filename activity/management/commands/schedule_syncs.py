"""schedule_syncs [--every SECONDS]: queue the sources that are due (run from cron, or loop)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.detections.baselines import baselines_prepare_if_due
from activity.management.options import add_every_argument, run_every
from activity.scheduling import schedule_due_syncs


class Command(BaseCommand):
    help = (
        "Queue a background sync for every enabled source whose sync interval has passed and "
        "that is not already queued or running. Workers (manage.py db_worker) run them. "
        "Once a day, prepares people's baselines for the unusual-hours rule."
    )

    def add_arguments(self, parser) -> None:
        add_every_argument(parser)

    def handle(self, *args, every: float | None, **options) -> None:
        run_every(every, self.queue_due)

    def queue_due(self) -> None:
        queued = schedule_due_syncs()
        self.stdout.write(
            f"queued {len(queued)} source(s)" + (f": {', '.join(queued)}" if queued else "")
        )
        prepared = baselines_prepare_if_due()
        if prepared:
            self.stdout.write(f"prepared today's baselines of {prepared} people")
