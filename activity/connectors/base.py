"""What every connector shares: its source's settings, the sync window, and the two ways of
walking a vendor's history (newest-first pages down to a floor, or closed time windows)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from activity.connectors.directory import DirectoryMember
from activity.connectors.spec import VendorSpec
from activity.models import Source
from activity.sync.errors import RecordError, SyncError, VendorAuthError, VendorDataError
from activity.sync.http import VendorClient
from activity.sync.records import Covered, NormalizedEvent, Page, Skipped
from activity.sync.values import iso_z, parse_vendor_time
from activity.vocabulary import Category, Outcome, category_of

MAX_EMPTY_PAGES_WITH_CURSOR = 5
# A clock a little ahead is normal; a time further ahead than this is a wrong clock or a bug.
FUTURE_SKEW = timedelta(minutes=5)


class Connector:
    """One source's view of its vendor API. Subclasses define ``spec``, ``client()``,
    ``pages()`` and ``parse(record)``, and ``prepare()`` if the walk needs the database.

    The walk may run in another thread than the one committing its pages, so it works from
    its own copy of the source's stream states, advanced as it hands out each page.
    """

    spec: VendorSpec
    # The streams whose pages say what stretch of time they read in full (the ledger's).
    covered_streams: tuple[str, ...] = ()
    # The vendor's own actions, each with its category (``activity.vocabulary``).
    categories: Mapping[str, Category] = {}
    # Whether the vendor lists its users (``directory``): ids to emails, active or not.
    has_directory = False

    def __init__(
        self,
        source: Source,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        now: datetime | None = None,
    ):
        self.source = source
        self.since = since
        self.until = until
        self.now = now or datetime.now(UTC)
        self.params: dict[str, Any] = dict(source.params)
        self.state: dict[str, Any] = copy.deepcopy(source.sync_state or {})
        self.zone = self._zone()
        self.flags: list[Skipped] = []

    # -- what each vendor provides -------------------------------------------------------
    def client(self) -> VendorClient:
        raise NotImplementedError

    def prepare(self) -> None:
        """Read what the walk needs from the database, before it starts (the walk itself
        may run in a thread without the caller's connection)."""

    def pages(self, client: VendorClient) -> Iterator[Page]:
        raise NotImplementedError

    def parse(self, record: dict) -> NormalizedEvent:
        raise NotImplementedError

    def directory(self, client: VendorClient) -> Iterator[DirectoryMember]:
        """The vendor's own directory of its users (``activity.connectors.directory``);
        none for a vendor without one, whose records carry the addresses themselves.
        Raises ``DirectoryUnavailable`` when the credentials may not read it."""
        return iter(())

    @classmethod
    def outcome(cls, action: str, record: dict) -> Outcome:
        """What the record says of success or failure; unknown unless it says."""
        return Outcome.UNKNOWN

    @classmethod
    def actor_kind(cls, record: dict) -> str:
        """What the record says of who acted (``NormalizedEvent.actor_kind``), if anything."""
        return ""

    @classmethod
    def classify(cls, action: str, record: dict) -> tuple[Category, Outcome]:
        """The event's category (the vendor's table, else the verb) and outcome."""
        return category_of(action, cls.categories), cls.outcome(action, record)

    # -- shared helpers --------------------------------------------------------------------
    def walk(self, client: VendorClient) -> Iterator[Page]:
        """The pages to commit, in order; each stream's state follows the pages handed out."""
        for page in self.pages(client):
            self.state[page.stream] = page.state
            page.flags, self.flags = page.flags + self.flags, []
            yield page

    @property
    def describe(self) -> str:
        return f"{self.spec.vendor.capitalize()} (source {self.source.name!r})"

    def auth_hint(self) -> str:
        names = ", ".join(self.spec.required_secrets)
        hints = " ".join(self.spec.help.get(name, "") for name in self.spec.required_secrets)
        return f"Check the source's {names} and its permissions. {hints}".strip()

    def request_hint(self) -> str:
        """What to check when the vendor refuses a request or answers with a web page."""
        names = "".join(f", {name}" for name in self.spec.params if self.params.get(name))
        return f"Check the source's base URL ({self.source.base_url}){names}."

    def vendor_client(self, **options: Any) -> VendorClient:
        """The shared HTTP client, aimed at this source and naming it in every error."""
        return VendorClient(
            base_url=self.source.base_url,
            describe=self.describe,
            auth_hint=self.auth_hint(),
            request_hint=self.request_hint(),
            **options,
        )

    def int_param(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.params.get(name)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise VendorDataError(f"param {name} must be a whole number, not {value!r}") from None
        return max(low, min(high, number))

    def _zone(self) -> ZoneInfo:
        name = self.params.get("time_zone") or "UTC"
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise VendorDataError(
                f"param time_zone {name!r} is not an IANA time zone (e.g. America/Denver)"
            ) from None

    def parse_time(self, value: object, *, fold: int = 0) -> datetime:
        """A vendor time; zone-less text is read in the source's ``time_zone``."""
        return parse_vendor_time(value, self.zone, fold=fold)

    def stream_state(self, stream: str) -> dict[str, Any]:
        return dict(self.state.get(stream) or {})

    def high_water_mark(self, stream: str) -> datetime | None:
        """The stream's mark, never past now plus the skew (a mark a future timestamp once
        pushed ahead would hide every new event)."""
        value = self.stream_state(stream).get("hwm")
        return min(parse_vendor_time(value), self.latest_mark) if value else None

    @property
    def ceiling(self) -> datetime:
        """The newest time this run stores: ``until`` when given (later events are dropped),
        else now."""
        return min(self.until, self.now) if self.until else self.now

    @property
    def latest_mark(self) -> datetime:
        return self.now + FUTURE_SKEW

    def next_high_water_mark(self, stream: str, reached: datetime | None) -> str | None:
        """The mark after a run reached ``reached``: never backwards, never past now plus
        the skew, and a run bounded by ``--until`` leaves it alone (events after ``until``
        were not fetched)."""
        current = self.high_water_mark(stream)
        if self.until is not None or reached is None:
            return iso_z(current) if current else None
        reached = min(reached, self.latest_mark)
        return iso_z(max(current, reached) if current else reached)

    def independent(self, stream: str, pages: Iterator[Page]) -> Iterator[Page]:
        """The stream's pages; if it fails (other than on credentials), one page saying so
        and the other streams of the source carry on. The engine fails the run after."""
        try:
            yield from pages
        except VendorAuthError:
            raise
        except SyncError as error:
            yield Page(stream=stream, state=self.stream_state(stream), failure=str(error))

    def start_time(self, stream: str) -> datetime:
        """Where a windowed API starts: --since, else the mark minus the overlap, else the
        source's initial lookback (90 days unless set otherwise)."""
        if self.since:
            return self.since
        mark = self.high_water_mark(stream)
        if mark:
            return mark - self.source.overlap
        return self.now - self.source.initial_lookback

    def floor(self, stream: str) -> datetime | None:
        """Where a newest-first walk may stop; ``None`` walks the whole history."""
        if self.since:
            return self.since
        mark = self.high_water_mark(stream)
        return mark - self.source.overlap if mark else None

    def parse_all(self, records: list) -> tuple[list[NormalizedEvent], list[Skipped]]:
        """The records' events and the records skipped; future times are flagged on
        ``self.flags`` (kept, but see ``latest_mark``)."""
        events, skipped = [], []
        for record in records:
            if not isinstance(record, dict):
                skipped.append(Skipped("record is not a JSON object", record))
                continue
            try:
                event = self.parse(record)
            except RecordError as error:
                skipped.append(Skipped(str(error), record))
                continue
            category, outcome = self.classify(event.action, record)
            # The event was made a moment ago by ``parse``: fill in its class in place
            # (``dataclasses.replace`` builds it anew, a tenth of the sync's parsing time).
            object.__setattr__(event, "category", str(category))
            object.__setattr__(event, "outcome", str(outcome))
            if self.until is None or event.occurred_at <= self.until:
                events.append(event)
            if event.occurred_at > self.latest_mark:
                self.flags.append(
                    Skipped(
                        f"time {iso_z(event.occurred_at)} is in the future (the sync started "
                        f"{iso_z(self.now)}): kept, but the mark stops at now plus "
                        f"{FUTURE_SKEW.seconds // 60} minutes",
                        record,
                    )
                )
        return events, skipped

    def walk_newest_first(
        self,
        stream: str,
        fetch: Callable[[Any], tuple[list, Any]],
        *,
        resumable: bool,
    ) -> Iterator[Page]:
        """Page a newest-first feed from the top (or a resumed position) down to the floor.

        ``fetch(position)`` returns the page's records and the next position (``None`` at the
        end). With ``resumable`` the next position is committed with each page, so a crash
        resumes mid-walk; otherwise (e.g. page tokens that must not outlive a run) a crash
        restarts the walk from the top. The mark moves to the walk's newest event only when
        the walk is complete.
        """
        state = self.stream_state(stream)
        walk = state.get("walk") if resumable and not self.since else None
        if walk:
            position, top, floor = walk["position"], walk.get("top"), walk.get("floor")
            floor_time = parse_vendor_time(floor) if floor else None
        else:
            position, top = None, None
            floor_time = self.floor(stream)
        seen_positions: set = set()
        empty_pages = 0
        previous: list = []
        # The ledger's view: each page completes the time from its oldest event up to the
        # previous page's (the first, up to now; a resumed walk's first, its newest).
        upper: datetime | None = None if walk else self.ceiling
        while True:
            records, next_position = fetch(position)
            if records and records == previous:
                raise VendorDataError(
                    f"{self.describe} answered the same page twice (is it ignoring the page "
                    "parameter?): stopping instead of looping"
                )
            previous = records
            events, skipped = self.parse_all(records)
            if top is None and events:
                top = iso_z(max(event.occurred_at for event in events))
            reached_floor = floor_time is not None and any(
                event.occurred_at < floor_time for event in events
            )
            done = next_position is None or reached_floor
            if not done:
                if next_position in seen_positions or next_position == position:
                    raise VendorDataError(
                        f"{self.describe} returned a page cursor it had already returned: "
                        "stopping instead of looping"
                    )
                seen_positions.add(next_position)
                empty_pages = empty_pages + 1 if not records else 0
                if empty_pages > MAX_EMPTY_PAGES_WITH_CURSOR:
                    raise VendorDataError(
                        f"{self.describe} returned {empty_pages} empty pages in a row that "
                        "still carried a cursor: stopping instead of looping"
                    )
            if done:
                reached = parse_vendor_time(top) if top else None
                new_state = {"hwm": self.next_high_water_mark(stream, reached)}
            else:
                new_state = {"hwm": state.get("hwm")}
                if resumable:
                    new_state["walk"] = {
                        "position": next_position,
                        "top": top,
                        "floor": iso_z(floor_time) if floor_time else None,
                    }
            times = [event.occurred_at for event in events]
            # A walk that ends has read everything down to its floor (or the history's start).
            ends_at_floor = done and floor_time is not None
            lower = floor_time if ends_at_floor else min(times, default=upper)
            top_of_page = upper or (max(times) if times else None)
            covered = (
                Covered(lower, top_of_page, len(records))
                if lower is not None and top_of_page is not None and lower <= top_of_page
                else None
            )
            yield Page(
                stream=stream, state=new_state, events=events, skipped=skipped, covered=covered
            )
            if done:
                return
            upper = lower if lower is not None else upper
            position = next_position

    def time_windows(
        self,
        stream: str,
        *,
        end: datetime,
        size: timedelta,
        largest: timedelta,
        align: bool,
        smallest: timedelta | None = None,
        target: int | None = None,
    ) -> TimeWindows:
        """Closed windows from the stream's start time up to ``end`` (see TimeWindows)."""
        return TimeWindows(
            start=self.start_time(stream),
            end=end,
            size=size,
            largest=largest,
            align=align,
            smallest=smallest,
            target=target,
        )


class TimeWindows:
    """Closed windows ``[start, stop]`` that touch, up to ``end``.

    Each window is sized from the last one's density to hold about ``target`` events (by
    default ``TARGET_EVENTS``), at most twice as long as the last (a quiet stretch says little
    about what follows) and never longer than ``largest``, so a quiet 90-day history takes few
    requests, a busy hour stays small, and no answer grows past what ``largest`` at the
    busiest rate holds. Windows never shrink below ``smallest`` by sizing (only
    ``retry_smaller`` goes further). With ``align`` every bound is a multiple of the initial
    size (UTC), so windows are the vendor's closed buckets.
    """

    TARGET_EVENTS = 1000

    def __init__(
        self,
        *,
        start: datetime,
        end: datetime,
        size: timedelta,
        largest: timedelta,
        align: bool,
        smallest: timedelta | None = None,
        target: int | None = None,
    ):
        self.target = target or self.TARGET_EVENTS
        self.align = align
        self.initial = size
        self.smallest = size if align or smallest is None else min(size, smallest)
        self.largest = max(size, largest)
        self.start = _align_down(start, size) if align else start
        self.end = _align_down(end, size) if align else end
        self.size = size
        self.cursor = self.start
        self.stop = self.start
        self.again = False

    def __iter__(self) -> Iterator[tuple[datetime, datetime, float]]:
        total = max((self.end - self.start).total_seconds(), 1.0)
        while self.cursor < self.end:
            self.stop = min(self.cursor + self.size, self.end)
            yield self.cursor, self.stop, (self.stop - self.start).total_seconds() / total
            if self.again:
                self.again = False
                continue
            self.cursor = self.stop

    def retry_smaller(self, floor: timedelta, *, refused: bool) -> bool:
        """The last window was too much for the vendor: yield it again half as long. False
        when it is already at ``floor``; windows that must stay aligned cannot shrink.

        A refusal is a limit: windows never grow past the accepted size again in this run.
        A timeout may be passing, so later windows may grow back to the initial size (a
        burst of timeouts must not leave a long history to be read a minute at a time)."""
        length = self.stop - self.cursor
        if self.align or length <= floor:
            return False
        self.size = max(floor, length / 2)
        self.largest = self.size if refused else min(self.largest, max(self.size, self.initial))
        self.smallest = min(self.smallest, self.size)
        self.again = True
        return True

    def observe(self, events: int) -> None:
        """Tell how many events the last window held, to size the next one."""
        length = self.stop - self.cursor
        if length <= timedelta(0):
            return
        longest = min(length * 2, self.largest)
        if events:
            size = max(self.smallest, min(longest, length * self.target / events))
        else:
            size = longest
        if self.align:
            size = max(self.smallest, (size // self.initial) * self.initial)
        self.size = size


def _align_down(moment: datetime, size: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // size) * size
