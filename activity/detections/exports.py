"""``export_alerts``: one row per alert, as JSON Lines or CSV, in constant memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from activity.detections.models import Alert
from activity.exports import spreadsheet_safe

FIELDS = (
    "alert_id",
    "rule",
    "severity",
    "state",
    "person_id",
    "person_email",
    "first_event_at",
    "last_event_at",
    "events",
    "evidence",
    "explanation",
)
CHUNK_SIZE = 500


def _time(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def alert_row(alert: Alert) -> dict:
    return {
        "alert_id": alert.pk,
        "rule": alert.rule,
        "severity": alert.severity,
        "state": alert.state,
        "person_id": alert.person_id,
        "person_email": alert.person.primary_email if alert.person_id else "",
        "first_event_at": _time(alert.first_event_at),
        "last_event_at": _time(alert.last_event_at),
        "events": alert.events,
        "evidence": [
            {"source": item.source.name, "external_id": item.external_id}
            for item in alert.evidence.all()
        ],
        "explanation": alert.explanation,
    }


def alert_export_lines(alerts: QuerySet[Alert], fmt: str) -> Iterator[str]:
    rows = (alert_row(alert) for alert in alerts.iterator(chunk_size=CHUNK_SIZE))
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for row in rows:
        row["evidence"] = json.dumps(row["evidence"], ensure_ascii=False)
        writer.writerow(
            ["" if row[name] is None else spreadsheet_safe(str(row[name])) for name in FIELDS]
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
