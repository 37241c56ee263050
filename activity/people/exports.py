"""``export_people``: one row per current person with their identities, as JSON Lines or CSV
(the same formats and spreadsheet safety as the event export)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import Prefetch

from activity.exports import CHUNK_SIZE, spreadsheet_safe
from activity.models import Identity, Person

FIELDS = ("person_id", "display_name", "primary_email", "status", "kind", "identities")
IDENTITY_FIELDS = ("source", "vendor", "vendor_user_id", "email", "name", "status")
FORMATS = ("jsonl", "csv")


def people_rows() -> Iterator[dict]:
    """Current persons (not merged away) by id, each with their identities."""
    identities = Identity.objects.select_related("source").order_by("source__name", "key")
    persons = (
        Person.objects.filter(merged_into__isnull=True)
        .order_by("id")
        .prefetch_related(Prefetch("identities", queryset=identities))
    )
    for person in persons.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "person_id": person.pk,
            "display_name": person.display_name,
            "primary_email": person.primary_email,
            "status": person.status,
            "kind": person.kind,
            "identities": [
                {
                    "source": identity.source.name,
                    "vendor": identity.source.vendor,
                    "vendor_user_id": identity.vendor_user_id,
                    "email": identity.email,
                    "name": identity.name,
                    "status": identity.status,
                }
                for identity in person.identities.all()
            ],
        }


def people_lines(fmt: str) -> Iterator[str]:
    if fmt == "jsonl":
        return (json.dumps(row, ensure_ascii=False) + "\n" for row in people_rows())
    if fmt == "csv":
        return _csv()
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def _csv() -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for row in people_rows():
        # The identities are one cell, a JSON list (a spreadsheet shows it, a script reads it).
        row["identities"] = json.dumps(row["identities"], ensure_ascii=False)
        writer.writerow([spreadsheet_safe(str(row[field])) for field in FIELDS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
