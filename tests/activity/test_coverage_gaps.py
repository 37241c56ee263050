"""The ledger hour by hour: read with records, read empty, never read; gaps and the vendor's
retention horizon."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from activity.coverage import (
    HourState,
    coverage_gaps,
    retention_days,
    retention_horizon,
    stream_hours,
)
from activity.models import CoveredWindow, Source
from activity.rereads import RereadRefused, reread_check

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def source(make_source) -> Source:
    return make_source("df", vendor="datafold", params={}, secrets={"api_key": "k"})


def read(source: Source, start: datetime, stop: datetime, rows: int = 0, stream="logs"):
    CoveredWindow.objects.create(
        source=source, stream=stream, asked_from=start, asked_to=stop, rows=rows
    )


def states(source: Source, hours: int = 12) -> list[str]:
    (stream,) = stream_hours(source=source, start=START, stop=START + hours * H)
    return [str(state) for state in stream.states]


def test_an_hour_is_read_only_when_windows_cover_all_of_it(source):
    read(source, START + 0.5 * H, START + 2 * H)  # half of hour 0, all of hour 1
    read(source, START + 2 * H, START + 3 * H, rows=4)  # touching windows join
    assert states(source, 4) == ["unread", "empty", "records", "unread"]


def test_an_hour_holds_records_when_a_window_with_records_touches_it(source):
    read(source, START, START + 6 * H, rows=0)
    read(source, START + 2.5 * H, START + 3.5 * H, rows=2)
    assert states(source, 6) == ["empty", "empty", "records", "records", "empty", "empty"]


def test_gaps_are_stretches_between_reads_newest_first(source):
    read(source, START, START + 2 * H)
    read(source, START + 4 * H, START + 5 * H, rows=1)
    read(source, START + 8 * H, START + 9 * H)
    (hours,) = stream_hours(source=source, start=START, stop=START + 12 * H)
    gaps = coverage_gaps(hours, horizon=START - 30 * 24 * H, retention=timedelta(days=90))
    assert [(g.start, g.stop, g.hours) for g in gaps] == [
        (START + 5 * H, START + 8 * H, 3),
        (START + 2 * H, START + 4 * H, 2),
    ]
    assert all(g.fetchable for g in gaps)
    assert gaps[0].lost_at == START + 5 * H + timedelta(days=90)


def test_the_hours_after_the_last_read_are_not_a_gap_but_the_time_before_the_first_is(source):
    read(source, START + 3 * H, START + 4 * H)
    (hours,) = stream_hours(source=source, start=START, stop=START + 12 * H)
    (gap,) = coverage_gaps(hours, horizon=START - 24 * H, retention=timedelta(days=90))
    assert (gap.start, gap.stop, gap.before_first_read) == (START, START + 3 * H, True)


def test_a_gap_is_split_where_the_retention_horizon_falls(source):
    read(source, START, START + H)
    read(source, START + 10 * H, START + 11 * H)
    (hours,) = stream_hours(source=source, start=START, stop=START + 12 * H)
    horizon = START + 4.5 * H  # the hour it cuts is already partly lost
    newer, older = coverage_gaps(hours, horizon=horizon, retention=timedelta(days=1))
    assert (older.start, older.stop, older.fetchable) == (START + H, START + 5 * H, False)
    assert (newer.start, newer.stop, newer.fetchable) == (START + 5 * H, START + 10 * H, True)


def test_a_stretch_read_before_the_calendar_starts_makes_its_first_hours_a_gap(source):
    read(source, START - 5 * H, START - 4 * H)
    read(source, START + 2 * H, START + 3 * H)
    (hours,) = stream_hours(source=source, start=START, stop=START + 6 * H)
    (gap,) = coverage_gaps(hours, horizon=START - 90 * 24 * H, retention=timedelta(days=90))
    assert (gap.start, gap.stop, gap.before_first_read) == (START, START + 2 * H, False)


def test_every_ledger_stream_is_listed_even_before_its_first_read(source):
    (stream,) = stream_hours(source=source, start=START, stop=START + 2 * H)
    assert stream.stream == "logs"
    assert stream.states == [HourState.UNREAD, HourState.UNREAD]


@pytest.mark.parametrize(
    ("vendor", "days"), [("lightdash", 90), ("datafold", 90), ("domo", 365), ("velt", 30)]
)
def test_each_vendor_has_a_default_retention(make_source, vendor, days):
    source = make_source(vendor, vendor=vendor)
    assert retention_days(source) == days
    now = datetime.now(UTC)
    assert retention_horizon(source, now) == now - timedelta(days=days)


def test_the_source_param_sets_the_retention(make_source):
    source = make_source("v", vendor="velt", params={"retention_days": "400"})
    assert retention_days(source) == 400


def test_add_source_sets_the_retention_and_refuses_a_bad_one(source):
    call_command("add_source", "datafold", "df", "--update", "--param", "retention_days=180")
    source.refresh_from_db()
    assert retention_days(source) == 180
    for bad in ("0", "-3", "ninety", "1.5", "99999"):
        with pytest.raises(CommandError, match="param retention_days") as error:
            call_command(
                "add_source", "datafold", "df", "--update", "--param", f"retention_days={bad}"
            )
        assert error.value.returncode == 2
    source.refresh_from_db()
    assert source.params["retention_days"] == "180"


@pytest.mark.parametrize(
    ("start", "stop", "reason"),
    [
        (-2 * H, -3 * H, "start must be before"),
        (-3 * H, H, "must end in the past"),
        (-40 * 24 * H, -2 * H, "at most 31 days"),
        (-100 * 24 * H, -99 * 24 * H, "keeps 90 days"),
    ],
)
def test_a_reread_is_refused_when_reversed_future_too_long_or_past_retention(
    source, start, stop, reason
):
    now = datetime.now(UTC)
    with pytest.raises(RereadRefused, match=reason):
        reread_check(source=source, start=now + start, stop=now + stop, now=now)


def test_the_coverage_command_appends_the_retention_to_each_day(source):
    from io import StringIO

    now = datetime.now(UTC)
    read(source, now - timedelta(days=93), now - timedelta(days=1))
    out = StringIO()
    since = (now - timedelta(days=95)).date().isoformat()
    call_command("coverage", "df", "--since", since, "--format", "json", stdout=out)
    days = json.loads(out.getvalue())
    assert list(days[0])[-2:] == ["retention_days", "past_retention"]
    assert days[0]["retention_days"] == 90
    assert days[0]["past_retention"] and not days[-1]["past_retention"]
