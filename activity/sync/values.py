"""Turning untrusted vendor values into what the event table stores."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from activity.sync.errors import RecordError

_EPOCH_MS_THRESHOLD = 100_000_000_000  # numbers above this are milliseconds (after 1973)
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_UTC_SUFFIX = re.compile(r"\s+(UTC|GMT)$", re.IGNORECASE)
_TWELVE_HOUR_FORMATS = ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %I:%M %p", "%m/%d/%Y %I:%M:%S %p")


def parse_vendor_time(value: object) -> datetime:
    """Parse a vendor timestamp in any of the formats seen in the wild; zone-less means UTC.

    Accepts epoch seconds or milliseconds (numbers or numeric strings), ISO 8601 with ``T``
    or a space, with or without fraction and offset (or a trailing ``UTC``/``GMT``),
    ``2017-12-13 10:57:35 PM`` and RFC 2822 dates (``Tue, 07 Nov 2023 05:31:56 GMT``).
    """
    if isinstance(value, bool) or value is None:
        raise RecordError(f"timestamp {value!r} is not a time")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"timestamp {value!r} is not a time")
    text = value.strip()
    if _NUMERIC.match(text):
        return _from_epoch(float(text))
    parsed = _parse_text(_UTC_SUFFIX.sub("", text))
    if parsed is None:
        raise RecordError(f"timestamp {value!r} is in no known format")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _TWELVE_HOUR_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _from_epoch(number: float) -> datetime:
    seconds = number / 1000 if abs(number) >= _EPOCH_MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise RecordError(f"timestamp {number!r} is out of range") from error


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso_z(moment: datetime) -> str:
    """``2026-11-01T12:00:00Z`` (UTC, explicit zone)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def text(value: object, limit: int) -> str:
    """A column-safe string: ``None`` becomes empty, NULs go (PostgreSQL refuses them), capped."""
    if value is None:
        return ""
    result = value if isinstance(value, str) else str(value)
    if "\x00" in result:
        result = result.replace("\x00", "")
    return result[:limit]


def required(record: dict, key: str) -> object:
    value = record.get(key)
    if value is None or value == "":
        raise RecordError(f"required field {key!r} is missing")
    return value


def required_str(record: dict, key: str) -> str:
    value = required(record, key)
    if not isinstance(value, str | int):
        raise RecordError(f"field {key!r} should be a string, not {type(value).__name__}")
    return str(value)
