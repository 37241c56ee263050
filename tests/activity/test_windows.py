"""How time windows are sized for APIs without paging: an answer's size is bounded by its
window, so the sizing is what keeps a sync's memory flat whatever the volume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activity.connectors.base import TimeWindows
from activity.connectors.datafold import LARGEST_WINDOW, SMALLEST_WINDOW

START = datetime(2026, 8, 1, tzinfo=UTC)
END = START + timedelta(days=90)
BUSY_FROM = START + timedelta(days=30)


def walk(windows: TimeWindows, per_hour: float) -> list[tuple[timedelta, int]]:
    """Feed the windows a history that is empty for 30 days, then ``per_hour`` events an
    hour; return each window's length and how many events it held."""
    answers = []
    for start, stop, _ in windows:
        busy = max(timedelta(0), stop - max(start, BUSY_FROM))
        events = round(busy / timedelta(hours=1) * per_hour)
        answers.append((stop - start, events))
        windows.observe(events)
    return answers


def datafold_windows() -> TimeWindows:
    return TimeWindows(
        start=START,
        end=END,
        size=timedelta(hours=1),
        largest=LARGEST_WINDOW,
        smallest=SMALLEST_WINDOW,
        align=False,
    )


def test_a_quiet_stretch_then_a_busy_one_never_gives_one_huge_answer():
    answers = walk(datafold_windows(), per_hour=2000)
    largest_answer = max(events for _, events in answers)
    # At most one longest window of the busy rate, then about the target per window.
    assert largest_answer <= 2000 * LARGEST_WINDOW / timedelta(hours=1)
    busy = [events for _, events in answers[-200:-1]]  # the last one is cut short by the end
    assert max(busy) <= TimeWindows.TARGET_EVENTS * 1.01
    assert min(busy) >= TimeWindows.TARGET_EVENTS * 0.9


def test_a_quiet_history_takes_few_requests():
    answers = walk(datafold_windows(), per_hour=0)
    assert len(answers) <= 90 * 24 / 6 + 10
    assert all(span <= LARGEST_WINDOW for span, _ in answers)


def test_a_very_busy_rate_shrinks_windows_below_the_initial_size():
    answers = walk(datafold_windows(), per_hour=20_000)
    spans = [span for span, events in answers[-50:-1]]
    assert max(spans) <= timedelta(minutes=4)  # 1,000 events at 20,000 an hour: 3 minutes
    assert min(spans) >= SMALLEST_WINDOW


def test_aligned_windows_stay_whole_buckets():
    windows = TimeWindows(
        start=START, end=END, size=timedelta(hours=1), largest=timedelta(days=7), align=True
    )
    answers = walk(windows, per_hour=700)
    for span, _ in answers:
        assert span % timedelta(hours=1) == timedelta(0)
    assert max(events for _, events in answers[-50:]) <= 7 * 700  # never more than 7 hours
