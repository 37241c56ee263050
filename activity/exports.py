"""The export format shared by `export_activity` and the dashboard: JSON Lines or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from activity.models import ActivityEvent

FIELDS = (
    "source",
    "vendor",
    "external_id",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_name",
    "ip_address",
    "user_agent",
    "raw",
    # Appended: scripts read the fields above by position.
    "category",
    "outcome",
    "person_id",
    "person_email",
)
FORMATS = ("jsonl", "csv")
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
CHUNK_SIZE = 2000
# A spreadsheet treats a cell starting with these as a formula, also after leading
# whitespace (which it trims); a leading tab or carriage return can hide one too.
FORMULA_PREFIXES = ("=", "+", "-", "@")
HIDING_PREFIXES = ("\t", "\r", "\n")


def spreadsheet_safe(value: str) -> str:
    """Neutralize formula injection by prefixing a quote, as OWASP recommends."""
    if value.startswith(HIDING_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cell(value) -> str:
    return "" if value is None else spreadsheet_safe(str(value))


def _row(event: ActivityEvent) -> dict:
    return {
        "source": event.source.name,
        "vendor": event.source.vendor,
        "external_id": event.external_id,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "actor_email": event.actor_email,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_name": event.object_name,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "raw": event.raw,
        "category": event.category,
        "outcome": event.outcome,
        "person_id": event.person_id,
        "person_email": event.person.primary_email if event.person_id else "",
    }


def _events(queryset: QuerySet[ActivityEvent]) -> Iterator[ActivityEvent]:
    # iterator() streams from a server-side cursor on PostgreSQL: constant memory.
    return queryset.select_related("source", "person").iterator(chunk_size=CHUNK_SIZE)


def export_lines(queryset: QuerySet[ActivityEvent], fmt: str) -> Iterator[str]:
    """Yield the export of ``queryset`` (already filtered and ordered) as text chunks."""
    if fmt == "jsonl":
        return _jsonl(_events(queryset))
    if fmt == "csv":
        return _csv(_events(queryset))
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def _jsonl(events: Iterable[ActivityEvent]) -> Iterator[str]:
    for event in events:
        row = _row(event)
        # raw is the vendor's record itself, not a string holding it.
        row["raw"] = json.loads(row["raw"])
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv(events: Iterable[ActivityEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for event in events:
        row = _row(event)
        writer.writerow([_cell(row[field]) for field in FIELDS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
