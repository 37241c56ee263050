"""Reads for the coverage page (a year of each stream, hour by hour, and its gaps) and for
the sources page's warning of gaps about to fall past the vendor's retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from activity.coverage import (
    HOUR,
    Gap,
    HourState,
    StreamHours,
    coverage_gaps,
    retention_days,
    retention_horizon,
    stream_hours,
    unread_since,
)
from activity.models import Source, SyncRun
from activity.rereads import MAX_REREAD, TRIGGER

CALENDAR_DAYS = 365
# A gap whose first hour falls past the vendor's retention within this many days is a
# warning on the sources page.
WARN_DAYS = 7
STATE_LABELS = {
    HourState.RECORDS: "read, with records",
    HourState.EMPTY: "read, nothing there",
    HourState.UNREAD: "never read",
    "lost": "never read, and past the vendor's retention",
    "later": "not yet over",
}


@dataclass(frozen=True)
class Segment:
    """Consecutive hours of one day in the same state, drawn as one block."""

    state: str  # an HourState, "lost" (never read, past retention) or "later" (to come)
    start: int  # the first hour of the day
    hours: int
    beyond: bool  # past the vendor's retention horizon

    @property
    def label(self) -> str:
        stop = self.start + self.hours
        return f"{self.start:02d}:00-{stop:02d}:00 UTC: {STATE_LABELS[self.state]}"


@dataclass(frozen=True)
class DayColumn:
    day: date
    segments: list[Segment]
    beyond: bool  # the whole day is past the retention horizon
    horizon: bool  # the retention horizon falls in this day
    month: str  # the month's name on its first day (and on the calendar's first, early on)


@dataclass(frozen=True)
class StreamCalendar:
    stream: str
    days: list[DayColumn]
    gaps: list[Gap]
    unread_since: datetime | None  # the trailing hours the next sync reads
    counts: dict[str, int]  # hours per state

    @property
    def summary(self) -> str:
        return ", ".join(f"{n:,} hours {STATE_LABELS[state]}" for state, n in self.counts.items())


@dataclass(frozen=True)
class CoverageCalendar:
    source: Source
    now: datetime
    first_day: date
    days: int
    retention_days: int
    retention_set: bool  # the source's own retention_days, not the vendor's default
    horizon: datetime
    streams: list[StreamCalendar]
    max_reread_hours: int = int(MAX_REREAD / HOUR)


def coverage_calendar(
    *, source: Source, now: datetime, days: int = CALENDAR_DAYS
) -> CoverageCalendar:
    """A year (``days``) of each of the source's ledger streams, hour by hour, with gaps."""
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    horizon = retention_horizon(source, now)
    retention = timedelta(days=retention_days(source))
    streams = [
        StreamCalendar(
            stream=hours.stream,
            days=_columns(hours, first_day=first_day, days=days, horizon=horizon),
            gaps=coverage_gaps(hours, horizon=horizon, retention=retention),
            unread_since=unread_since(hours),
            counts=_counts(hours, horizon),
        )
        for hours in stream_hours(source=source, start=start, stop=now)
    ]
    return CoverageCalendar(
        source=source,
        now=now,
        first_day=first_day,
        days=days,
        retention_days=retention.days,
        retention_set=bool(source.params.get("retention_days")),
        horizon=horizon,
        streams=streams,
    )


def _state(hours: StreamHours, index: int, horizon: datetime) -> str:
    if index >= len(hours.states):
        return "later"
    state = hours.states[index]
    if state == HourState.UNREAD and hours.hour(index) < horizon:
        return "lost"
    return state


def _columns(
    hours: StreamHours, *, first_day: date, days: int, horizon: datetime
) -> list[DayColumn]:
    columns = []
    for offset in range(days):
        first = offset * 24
        states = [
            (_state(hours, first + h, horizon), hours.hour(first + h) < horizon) for h in range(24)
        ]
        segments, hour = [], 0
        for (state, beyond), run in groupby(states):
            length = len(list(run))
            segments.append(Segment(state, hour, length, beyond))
            hour += length
        midnight = hours.hour(first)
        day = first_day + timedelta(days=offset)
        columns.append(
            DayColumn(
                day=day,
                month=_month_label(day, first=offset == 0),
                segments=segments,
                beyond=midnight + 23 * HOUR < horizon,
                horizon=midnight <= horizon < midnight + 24 * HOUR,
            )
        )
    return columns


def _month_label(day: date, *, first: bool) -> str:
    if day.day == 1 or (first and day.day <= 20):
        return day.strftime("%b %Y" if day.month == 1 or first else "%b")
    return ""


def _counts(hours: StreamHours, horizon: datetime) -> dict[str, int]:
    counts = dict.fromkeys((HourState.RECORDS, HourState.EMPTY, HourState.UNREAD, "lost"), 0)
    for index in range(len(hours.states)):
        counts[_state(hours, index, horizon)] += 1
    return {state: n for state, n in counts.items() if n}


def gaps_at_risk(*, source: Source, now: datetime, within: int = WARN_DAYS) -> list[Gap]:
    """Gaps the vendor still holds whose first hour falls past its retention within
    ``within`` days, newest first: one ledger query over those days only."""
    horizon = retention_horizon(source, now)
    retention = timedelta(days=retention_days(source))
    # A day more than the warning's days, so that a gap starting near their end is seen as a
    # gap (read on both sides) when it is short; a longer one is named up to there.
    stop = min(now, horizon + timedelta(days=within + 1))
    at_risk = []
    for hours in stream_hours(source=source, start=horizon, stop=stop):
        for gap in coverage_gaps(hours, horizon=horizon, retention=retention):
            if gap.before_first_read or not gap.fetchable:
                continue
            if gap.lost_at <= now + timedelta(days=within):
                at_risk.append(gap)
    return at_risk


def recent_rereads(source: Source, *, limit: int = 5) -> list[SyncRun]:
    """The source's latest re-reads, newest first."""
    return list(source.runs.filter(trigger=TRIGGER).order_by("-started_at")[:limit])
