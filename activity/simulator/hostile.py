"""Hostile vendor data: what a careless or malicious vendor user can put in a record.

With ``VendorSimulator(hostile=True)`` one record in three has its free-text fields replaced
by one of these values (or by nulls); ids and timestamps stay valid so that paging works.
"""

from __future__ import annotations

from typing import Any

SCRIPT = "<script>alert('hostile')</script>"
DEPTH = 200


def _nested(depth: int) -> dict:
    value: dict = {"leaf": SCRIPT}
    for level in range(depth):
        value = {"level": level, "child": value}
    return value


VALUES: tuple[Any, ...] = (
    SCRIPT,
    '<img src=x onerror="alert(1)"> & <b>bold</b> \'single\' "double"',
    "\u202eevil.exe\u202c \u200b\u200c\u200d\ufeff zero-width \u0645\u0631\u062d\u0628\u0627",
    "emoji 🎉 👩\u200d👩\u200d👧 ✓ \U0001d518\U0001d52b\U0001d526",
    "big " + SCRIPT + "x" * 100_000,
    "controls " + "".join(chr(code) for code in range(32)) + "\x7f\x85",
    '=HYPERLINK("http://evil.example/","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "  =1+1",
    "\t=1+1",
    "\r=1+1",
    None,  # nulls in every free-text field
)
# Fields that identify or date a record: left alone.
KEEP = {
    "lightdash": {"downloadUuid", "downloadedAt"},
    "datafold": {"event_uuid", "timestamp"},
    "domo": {"time"},
    "velt": {"id", "timestamp", "metadata"},
}


def is_hostile(key: int) -> bool:
    return abs(key) % 3 == 0


def make_hostile(vendor: str, record: dict, key: int) -> dict:
    """The record with every free-text field set to one hostile value, and a deep extra."""
    value = VALUES[(abs(key) // 3) % len(VALUES)]
    result = {
        name: field if name in KEEP[vendor] else _replace(field, value)
        for name, field in record.items()
    }
    if abs(key) % 2:
        result["extra"] = _nested(DEPTH)
    return result


def _replace(field: Any, value: Any) -> Any:
    if isinstance(field, dict):
        return {name: _replace(inner, value) for name, inner in field.items()}
    if isinstance(field, str) or field is None:
        return value
    return field if value is not None else None


def make_user_activity_hostile(document: dict) -> dict:
    """Lightdash's aggregates with hostile chart, dashboard and person names."""
    result = dict(document)
    position = 0
    for key, rows in document.items():
        if not isinstance(rows, list):
            continue
        result[key] = []
        for row in rows:
            row = dict(row)
            for name in ("name", "firstName", "lastName", "dashboardName"):
                if name in row:
                    row[name] = VALUES[position % len(VALUES)]
                    position += 1
            result[key].append(row)
    return result
