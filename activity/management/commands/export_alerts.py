"""export_alerts --format jsonl|csv [--since] [--rule R]: see --help."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from activity.detections.exports import alert_export_lines
from activity.detections.registry import RULES
from activity.detections.selectors import alert_list
from activity.exports import FORMATS
from activity.management.options import USAGE_ERROR, parse_cli_time


class Command(BaseCommand):
    help = (
        "Stream alerts to stdout, oldest first, one row per alert: alert_id, rule, severity, "
        "state, person_id, person_email, first_event_at, last_event_at, events, evidence "
        "(a list of {source, external_id}), explanation."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--since", help="Alerts with events from this date/time (ISO, UTC).")
        parser.add_argument("--rule", help=f"Only this rule: one of {', '.join(RULES)}.")

    def handle(self, *args, format, since, rule, **options):
        since_at = parse_cli_time(since, "--since")
        if rule is not None and rule not in RULES:
            raise CommandError(
                f"unknown rule {rule!r}: one of {', '.join(RULES)}", returncode=USAGE_ERROR
            )
        for chunk in alert_export_lines(alert_list(since=since_at, rule=rule), format):
            self.stdout.write(chunk, ending="")
