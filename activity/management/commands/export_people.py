"""export_people --format jsonl|csv: every person with their identities, to stdout."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.people.exports import FORMATS, people_lines


class Command(BaseCommand):
    help = (
        "Stream one row per person (not merged away), by id: person_id, display_name, "
        "primary_email, status, kind, identities (a list of source, vendor, vendor_user_id, "
        "email, name, status; in CSV a JSON string)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", required=True, choices=FORMATS)

    def handle(self, *args, format, **options) -> None:
        for chunk in people_lines(format):
            self.stdout.write(chunk, ending="")
