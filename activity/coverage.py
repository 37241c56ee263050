"""Reading the completeness ledger: which hours of each stream a sync has read in full."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from activity.connectors import CONNECTORS, vendor_spec
from activity.models import CoveredWindow, Source

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class DayCoverage:
    stream: str
    day: date
    hours: list[int]  # the UTC hours read in full
    hours_so_far: int  # the day's hours up to now (24 for a past day)
    rows: int  # records the vendor answered in windows that started that day

    def as_dict(self) -> dict:
        return {
            "stream": self.stream,
            "day": self.day.isoformat(),
            "hours_covered": len(self.hours),
            "hours": self.hours,
            "hours_so_far": self.hours_so_far,
            "rows": self.rows,
        }


def coverage_by_day(
    *, source: Source, since: datetime, now: datetime | None = None
) -> Iterator[DayCoverage]:
    """Per stream and UTC day from ``since``: the hours wholly inside what was read."""
    now = now or datetime.now(UTC)
    windows = CoveredWindow.objects.filter(source=source, asked_to__gte=since).order_by(
        "stream", "asked_from"
    )
    by_stream: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for window in windows.values_list("stream", "asked_from", "asked_to", "rows"):
        by_stream.setdefault(window[0], []).append(window[1:])
    for stream, spans in by_stream.items():
        merged = _merged([(start, stop) for start, stop, _ in spans])
        day = since.astimezone(UTC).date()
        while day <= now.date():
            midnight = datetime.combine(day, time(), tzinfo=UTC)
            hours = [
                hour
                for hour in range(24)
                if midnight + (hour + 1) * HOUR <= now
                and _inside(merged, midnight + hour * HOUR, midnight + (hour + 1) * HOUR)
            ]
            so_far = min(24, max(0, int((now - midnight) / HOUR)))
            rows = sum(n for start, _, n in spans if midnight <= start < midnight + 24 * HOUR)
            yield DayCoverage(stream, day, hours, so_far, rows)
            day += timedelta(days=1)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Touching or overlapping spans joined (they arrive sorted by start)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def _inside(merged: list[tuple[datetime, datetime]], start: datetime, stop: datetime) -> bool:
    return any(low <= start and stop <= high for low, high in merged)


# -- the vendor's retention horizon ------------------------------------------------------------


def retention_days(source: Source) -> int:
    """How many days the vendor keeps the source's logs: its ``retention_days`` param, else
    the vendor's default (``VendorSpec.retention_days``)."""
    try:
        days = int(source.params.get("retention_days") or 0)
    except (TypeError, ValueError):
        days = 0
    return days if days > 0 else vendor_spec(source.vendor).retention_days


def retention_horizon(source: Source, now: datetime) -> datetime:
    """The oldest moment the vendor still holds: anything older can no longer be fetched."""
    return now - timedelta(days=retention_days(source))


# -- hour by hour ------------------------------------------------------------------------------


class HourState(StrEnum):
    RECORDS = "records"  # read in full, in windows that held records
    EMPTY = "empty"  # read in full, nothing there
    UNREAD = "unread"  # never read in full


@dataclass(frozen=True)
class StreamHours:
    """One stream's UTC hours from ``start`` (on the hour), each with its state."""

    stream: str
    start: datetime
    states: list[HourState]
    read_before: bool  # some of the stream was read before ``start``
    read_after: bool  # some of the stream was read after the last hour

    def hour(self, index: int) -> datetime:
        return self.start + index * HOUR


@dataclass(frozen=True)
class Gap:
    """A stretch of never-read hours between hours that were read."""

    stream: str
    start: datetime
    stop: datetime
    fetchable: bool  # the vendor still holds all of it
    lost_at: datetime  # when its first hour falls past the vendor's retention
    before_first_read: bool  # older than anything read of the stream (its history)

    @property
    def hours(self) -> int:
        return int((self.stop - self.start) / HOUR)

    def as_dict(self) -> dict:
        return {
            "stream": self.stream,
            "start": self.start.isoformat(),
            "stop": self.stop.isoformat(),
            "hours": self.hours,
            "fetchable": self.fetchable,
            "lost_at": self.lost_at.isoformat(),
            "before_first_read": self.before_first_read,
        }


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == moment else floor + HOUR


def stream_hours(*, source: Source, start: datetime, stop: datetime) -> list[StreamHours]:
    """Each of the source's ledger streams, hour by hour over the whole hours from ``start``
    to ``stop``. One ledger query bounded by (source, asked_to), plus two index probes per
    stream to tell a gap from the time before the first or after the last read."""
    start, stop = floor_hour(start), floor_hour(stop)
    count = max(0, int((stop - start) / HOUR))
    by_stream: dict[str, list[tuple[datetime, datetime, int]]] = {
        stream: [] for stream in CONNECTORS[source.vendor].covered_streams
    }
    windows = CoveredWindow.objects.filter(
        source=source, asked_to__gt=start, asked_from__lt=stop
    ).order_by("stream", "asked_from")
    for stream, low, high, rows in windows.values_list("stream", "asked_from", "asked_to", "rows"):
        by_stream.setdefault(stream, []).append((low, high, rows))
    ledger = CoveredWindow.objects.filter(source=source)
    return [
        StreamHours(
            stream=stream,
            start=start,
            states=_states(spans, start, count),
            read_before=ledger.filter(stream=stream, asked_to__lte=start).exists(),
            read_after=ledger.filter(stream=stream, asked_to__gt=stop).exists(),
        )
        for stream, spans in by_stream.items()
    ]


def _states(
    spans: list[tuple[datetime, datetime, int]], start: datetime, count: int
) -> list[HourState]:
    """Hours wholly inside what was read are read; read hours that a window with records
    touches hold records (the ledger knows a window's records, not their hours)."""
    covered, records = bytearray(count), bytearray(count)

    def index(moment: datetime, *, up: bool) -> int:
        hours, rest = divmod(moment - start, HOUR)
        return max(0, min(count, int(hours) + (1 if up and rest else 0)))

    for low, high in _merged([(low, high) for low, high, _ in spans]):
        covered[index(low, up=True) : index(high, up=False)] = b"\x01" * max(
            0, index(high, up=False) - index(low, up=True)
        )
    for low, high, rows in spans:
        if rows:
            first, last = index(low, up=False), index(high, up=True)
            records[first:last] = b"\x01" * max(0, last - first)
    return [
        (HourState.RECORDS if records[i] else HourState.EMPTY) if covered[i] else HourState.UNREAD
        for i in range(count)
    ]


def coverage_gaps(hours: StreamHours, *, horizon: datetime, retention: timedelta) -> list[Gap]:
    """The stream's never-read stretches, newest first, each split where the retention
    horizon falls (the part past it is lost). Hours after the last read are not a gap: the
    next sync reads them, from the stream's high-water mark."""
    gaps: list[Gap] = []
    states, count = hours.states, len(hours.states)
    i = 0
    while i < count:
        if states[i] != HourState.UNREAD:
            i += 1
            continue
        first = i
        while i < count and states[i] == HourState.UNREAD:
            i += 1
        if i == count and not hours.read_after:
            break
        leading = first == 0 and not hours.read_before
        gaps.extend(
            _split(hours.stream, hours.hour(first), hours.hour(i), horizon, retention, leading)
        )
    return sorted(gaps, key=lambda gap: gap.start, reverse=True)


def _split(
    stream: str,
    start: datetime,
    stop: datetime,
    horizon: datetime,
    retention: timedelta,
    leading: bool,
) -> list[Gap]:
    edge = min(max(ceil_hour(horizon), start), stop)  # an hour the horizon cuts is lost
    parts = [(start, edge, False), (edge, stop, True)]
    return [
        Gap(stream, low, high, fetchable, low + retention, leading)
        for low, high, fetchable in parts
        if low < high
    ]


def unread_since(hours: StreamHours) -> datetime | None:
    """Where the stream's trailing never-read hours begin (the next sync reads them)."""
    if hours.read_after or not hours.states or hours.states[-1] != HourState.UNREAD:
        return None
    i = len(hours.states)
    while i > 0 and hours.states[i - 1] == HourState.UNREAD:
        i -= 1
    return hours.hour(i)
