"""The fault matrix: every vendor against every fault that applies to it, over real HTTP.

Each case ends one of two ways, and the case says which: the run completes with exactly the
vendor's records (``EXACT``), or it fails with a clear error and the next, clean run completes
(``RECOVERS``). Never loss, never duplicates, never an endless loop.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

import pytest

from activity.models import SyncRun
from activity.sync.engine import sync_source
from tests.activity.conftest import stored_records, truth_records

pytestmark = pytest.mark.django_db(transaction=True)

EXACT = "completed exactly"
RECOVERS = "failed clearly, then a later run completed"
CURSOR_VENDORS = ("lightdash", "velt")
ALL = ("lightdash", "datafold", "domo", "velt")
LOOP_GUARD_SECONDS = 60


@dataclass(frozen=True)
class Case:
    name: str
    fault: str
    vendors: tuple[str, ...]
    outcome: str
    times: int = 1
    options: dict = field(default_factory=dict)
    error: str = ""  # what a failed run's error must say
    differs: dict = field(default_factory=dict)  # vendor -> its own outcome
    known_bug: dict = field(default_factory=dict)  # vendor -> the connector bug it shows

    def outcome_for(self, vendor: str) -> str:
        return self.differs.get(vendor, self.outcome)


CASES = [
    Case("429 burst with Retry-After", "429", ALL, EXACT, 3, {"retry_after": 0}),
    Case("429 burst without Retry-After", "429", ALL, EXACT, 3, {"retry_after": None}),
    Case("429 past the retry budget", "429", ALL, RECOVERS, 12, {"retry_after": 0}, "kept failing"),
    Case("500 with an HTML body", "500", ALL, EXACT, 2),
    Case("502 with an HTML body", "502", ALL, EXACT, 2),
    Case("503 with an HTML body", "503", ALL, EXACT, 2),
    Case("503 that does not stop", "503", ALL, RECOVERS, 12, error="an HTML error page"),
    Case("timeout", "timeout", ALL, EXACT, 1, {"seconds": 0.6}),
    # Datafold asks a timed-out window again at half the length first, which rides out 8.
    Case(
        "timeouts that do not stop",
        "timeout",
        ALL,
        RECOVERS,
        8,
        {"seconds": 0.6},
        "timed out",
        differs={"datafold": EXACT},
    ),
    Case("connection reset", "reset", ALL, EXACT, 2),
    Case("truncated JSON body", "truncated", ALL, EXACT, 2),
    # Domo's 401 means "token expired": it gets a new token and carries on.
    Case(
        "credentials refused mid-sync",
        "401",
        ALL,
        RECOVERS,
        1,
        error="refused the credentials",
        differs={"domo": EXACT},
    ),
    Case(
        "empty page with a next cursor",
        "empty_page_with_cursor",
        CURSOR_VENDORS,
        EXACT,
        1,
    ),
    Case(
        "empty pages with a cursor, forever",
        "empty_page_with_cursor",
        CURSOR_VENDORS,
        RECOVERS,
        10_000,
        error="stop",
    ),
    # Lightdash is read by page number (the documented parameters), so only Velt has a cursor.
    Case(
        "a cursor that repeats",
        "repeat_cursor",
        ("velt",),
        RECOVERS,
        1,
        error="stopping instead of looping",
    ),
    Case("overlapping pages", "duplicates", CURSOR_VENDORS, EXACT, 3),
    Case("Domo token expires mid-sync", "domo_token_expire", ("domo",), EXACT, 1),
    Case(
        "Domo token expires on every call",
        "domo_token_expire",
        ("domo",),
        RECOVERS,
        10_000,
        error="refused the credentials",
    ),
    Case("Velt error envelope with HTTP 200", "velt_error_200", ("velt",), EXACT, 2),
    Case(
        "Velt error envelope that does not stop",
        "velt_error_200",
        ("velt",),
        RECOVERS,
        12,
        error="RESOURCE_EXHAUSTED",
    ),
]
MATRIX = [
    pytest.param(
        vendor,
        case,
        id=f"{vendor}-{case.name.replace(' ', '_')}",
        marks=[pytest.mark.xfail(reason=case.known_bug[vendor], strict=True)]
        if vendor in case.known_bug
        else [],
    )
    for case in CASES
    for vendor in case.vendors
]


class EndlessLoop(BaseException):
    """Not an Exception, so that the sync engine's catch-all cannot swallow it."""


def sync_guarded(source) -> SyncRun:
    def stop(signum, frame):
        raise EndlessLoop(f"the sync of {source.name} ran over {LOOP_GUARD_SECONDS}s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(LOOP_GUARD_SECONDS)
    try:
        return sync_source(source)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def simulator():
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=300, seed=13) as sim:
        yield sim


@pytest.fixture
def short_timeouts(settings):
    settings.SYNC_RETRY_POLICY = {**settings.SYNC_RETRY_POLICY, "timeout": 0.3, "budget": 2.0}


@pytest.mark.parametrize(("vendor", "case"), MATRIX)
def test_fault(simulator, source_for, short_timeouts, vendor, case):
    source = source_for(simulator, vendor, page_size="50")
    # After two good calls, so that the fault strikes mid-sync with pages already stored.
    simulator.inject(vendor, case.fault, times=case.times, after=2, **case.options)
    run = sync_guarded(source)
    if case.outcome_for(vendor) == EXACT:
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    else:
        assert run.status == SyncRun.Status.FAILED
        assert source.name in run.error and case.error in run.error, run.error
        assert all(value not in run.error for value in source.secrets.values())
        simulator.clear_faults(vendor)
        run = sync_guarded(source)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_records(source) == truth_records(simulator, vendor)
