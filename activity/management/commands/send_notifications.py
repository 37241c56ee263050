"""send_notifications [--every SECONDS]: send the alert notifications that are due."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.detections.notifications.services import deliveries_send_due
from activity.management.options import add_every_argument, run_every


class Command(BaseCommand):
    help = (
        "Send every alert notification that is due: new ones, and failed ones whose retry "
        "time has come. Needed where the task backend cannot run a task later; harmless "
        "beside workers that can."
    )

    def add_arguments(self, parser) -> None:
        add_every_argument(parser)

    def handle(self, *args, every: float | None, **options) -> None:
        run_every(every, self.send_due)

    def send_due(self) -> None:
        tried = deliveries_send_due()
        sent = sum(1 for delivery in tried if delivery.state == delivery.State.SENT)
        self.stdout.write(f"sent {sent} of {len(tried)} due notification(s)")
