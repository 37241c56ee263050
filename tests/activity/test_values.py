from __future__ import annotations

from datetime import UTC, datetime

import pytest

from activity.sync.errors import RecordError
from activity.sync.values import parse_vendor_time, text

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T12:00:00Z",
        "2026-11-20T12:00:00+00:00",
        "2026-11-20T13:00:00+01:00",
        "2026-11-20 12:00:00",
        "2026-11-20T12:00:00.000000",
        "2026-11-20 12:00:00 PM",
        1795176000000,
        "1795176000000",
        1795176000,
        1795176000.0,
    ],
)
def test_vendor_times_in_every_known_format(value):
    assert parse_vendor_time(value) == NOON


@pytest.mark.parametrize("value", [None, "", "yesterday", True, {"a": 1}, 10**30])
def test_unusable_times_are_record_errors(value):
    with pytest.raises(RecordError):
        parse_vendor_time(value)


def test_column_text_drops_nul_and_caps_length():
    assert text("a\x00b", 10) == "ab"
    assert text("x" * 300, 255) == "x" * 255
    assert text(None, 5) == ""
    assert text(42, 5) == "42"
