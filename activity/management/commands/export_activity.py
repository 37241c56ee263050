"""export_activity --format jsonl|csv [filters]: see --help."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from activity.exports import FORMATS, export_lines
from activity.management.options import USAGE_ERROR, check_window, parse_cli_time
from activity.models import Source, Vendor
from activity.selectors import event_list
from activity.vocabulary import Category, Outcome


class Command(BaseCommand):
    help = "Stream normalized events to stdout, oldest first, as JSON Lines or CSV."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--source", help="Only this source (its name).")
        parser.add_argument("--vendor", choices=Vendor.values)
        parser.add_argument("--since", help="From this date/time (ISO 8601, UTC), inclusive.")
        parser.add_argument("--until", help="Before this date/time (ISO 8601, UTC).")
        parser.add_argument("--action", help="Only this action.")
        parser.add_argument("--actor", help="Only this person: email, vendor user id or name.")
        parser.add_argument(
            "--category",
            action="append",
            choices=Category.values,
            help="Only this category (repeat for several).",
        )
        parser.add_argument(
            "--outcome",
            action="append",
            choices=Outcome.values,
            help="Only this outcome (repeat for several).",
        )

    def handle(
        self, *args, format, source, vendor, since, until, action, actor, category, outcome, **opts
    ):
        since_at, until_at = parse_cli_time(since, "--since"), parse_cli_time(until, "--until")
        check_window(since_at, until_at)
        if source and not Source.objects.filter(name=source).exists():
            raise CommandError(f"no source named {source!r}", returncode=USAGE_ERROR)
        events = event_list(
            source=source,
            vendor=vendor,
            since=since_at,
            until=until_at,
            action=action,
            actor=actor,
            categories=category,
            outcomes=outcome,
        )
        for chunk in export_lines(events, format):
            self.stdout.write(chunk, ending="")
