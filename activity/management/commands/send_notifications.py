"""send_notifications [--every SECONDS]: send the alert notifications that are due."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from activity.detections.notifications.services import deliveries_send_due


class Command(BaseCommand):
    help = (
        "Send every alert notification that is due: new ones, and failed ones whose retry "
        "time has come. Needed where the task backend cannot run a task later; harmless "
        "beside workers that can."
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
            tried = deliveries_send_due()
            sent = sum(1 for delivery in tried if delivery.state == delivery.State.SENT)
            self.stdout.write(f"sent {sent} of {len(tried)} due notification(s)")
            if every is None:
                return
            time.sleep(every)
