"""Turning untrusted vendor values into what the event table stores."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from zoneinfo import ZoneInfo

from activity.sync.errors import RecordError

_EPOCH_MS_THRESHOLD = 100_000_000_000  # numbers above this are milliseconds (after 1973)
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_UTC_SUFFIX = re.compile(r"\s+(UTC|GMT)$", re.IGNORECASE)
_TWELVE_HOUR_FORMATS = ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %I:%M %p", "%m/%d/%Y %I:%M:%S %p")
_AM_PM = re.compile(r"\d\s*[AP]\.?M\.?\b", re.IGNORECASE)
_TRAILING_WORD = re.compile(r"\s([A-Za-z][A-Za-z0-9/_+-]*)$")
_ENDS_WITH_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?$")
_UTC_NAMES = {"UT", "UTC", "GMT", "Z"}


def parse_vendor_time(value: object, zone: tzinfo = UTC, *, fold: int = 0) -> datetime:
    """Parse a vendor timestamp in any of the formats seen in the wild, strictly.

    Accepts epoch seconds or milliseconds (numbers or numeric strings), ISO 8601 with ``T``
    or a space, with or without fraction and offset (or a trailing ``UTC``/``GMT``),
    ``2017-12-13 10:57:35 PM`` and RFC 2822 dates (``Tue, 07 Nov 2023 05:31:56 GMT``).
    A zone-less text is read in ``zone`` (the source's ``time_zone``, UTC by default;
    ``fold=1`` picks the second of a repeated hour). Text whose AM/PM marker or zone no
    format would keep is refused, never read as something else.
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
    bare = _UTC_SUFFIX.sub("", text)
    parsed = _parse_text(bare, value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone if bare == text else UTC, fold=fold).astimezone(UTC)
    return parsed.astimezone(UTC)


def is_zoneless(value: object) -> bool:
    """Whether ``value`` is a text time without a zone (read in the source's time zone)."""
    if not isinstance(value, str) or _NUMERIC.match(value.strip()):
        return False
    text = value.strip()
    if _UTC_SUFFIX.search(text):
        return False
    try:
        return _parse_text(text, value).tzinfo is None
    except RecordError:
        return False


def _parse_text(text: str, value: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _TWELVE_HOUR_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    # RFC 2822, checked by hand: the email parser drops an AM/PM marker and reads an
    # unknown zone name as no zone at all.
    if _AM_PM.search(text):
        raise RecordError(f"timestamp {value!r} has an AM/PM marker in a format that loses it")
    fields = parsedate_tz(text)
    if fields is None:
        raise RecordError(f"timestamp {value!r} is in no known format")
    zone_name = _TRAILING_WORD.search(text)
    if zone_name and zone_name.group(1).upper() not in _UTC_NAMES and not fields[9]:
        raise RecordError(f"timestamp {value!r} has a zone {zone_name.group(1)!r} we cannot read")
    zoneless = _ENDS_WITH_CLOCK.search(text) is not None
    try:
        moment = datetime(*fields[:6])
    except ValueError as error:
        raise RecordError(f"timestamp {value!r} is not a valid date") from error
    if zoneless:
        return moment
    return moment.replace(tzinfo=timezone(timedelta(seconds=fields[9] or 0)))


# Zones offered when a vendor's zone-less times turn out to be in another zone.
COMMON_ZONES = (
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
_QUARTER = timedelta(minutes=15)


def zone_offset_advice(
    low: timedelta, high: timedelta, zone: tzinfo, seen: datetime
) -> tuple[str, list[str]]:
    """Say which zone zone-less times seem written in, when reading them in ``zone`` puts
    them a shift between ``low`` and ``high`` before the truth (``seen``: one as read);
    with the common zones that fit."""
    shifts = [
        _QUARTER * n for n in range(math.ceil(low / _QUARTER), math.floor(high / _QUARTER) + 1)
    ]
    whole = [shift for shift in shifts if shift % timedelta(hours=1) == timedelta(0)] or shifts
    if not whole:
        return "The offset is not a whole quarter of an hour: check the vendor's clock.", []
    shift = min(whole, key=lambda candidate: abs(candidate - (low + high) / 2))
    truth = seen + shift
    written = seen.astimezone(zone).utcoffset() - shift
    zones = [
        name for name in COMMON_ZONES if truth.astimezone(ZoneInfo(name)).utcoffset() == written
    ]
    between = (
        f" (somewhere between {_signed(low)} and {_signed(high)}; a later window will narrow it)"
        if high - low > timedelta(hours=1)
        else ""
    )
    text = (
        f"They are {_signed(shift)} behind the truth{between}: they read like UTC{_signed(written)}"
    )
    return text + (f", e.g. the zone {' or '.join(zones)}." if zones else "."), zones


def _signed(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "\u2212"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


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
