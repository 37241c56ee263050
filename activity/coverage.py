"""Reading the completeness ledger: which hours of each stream a sync has read in full."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

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
