"""Datafold: audit logs.

The API has no pagination: it answers a GET whose JSON body holds the time window. We ask
for closed windows with explicit UTC bounds and commit the mark at each window's end.
Window bounds touch, so an event on a boundary may come twice: the unique key drops it.
The largest window the API accepts is undocumented: a window it refuses (422) or cannot
answer in time is asked for again, half as long, down to a minute. With no paging, the window
length is what bounds an answer's size: windows are sized from the last one's density and
never exceed six hours, so one answer holds at most six hours of the busiest rate seen.

Two things are checked on every answer. A log outside the window asked for means the GET's
body never reached Datafold (a proxy may drop it) and its default range answered: the sync
stops without moving the mark. An answer that looks cut short (a round count whose times
stop short of the window's edges: an undocumented cap) is asked again in two halves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from activity.connectors.base import Connector
from activity.connectors.spec import VendorSpec
from activity.models import Person
from activity.sync.errors import VendorDataError, VendorRequestError, VendorTimeout
from activity.sync.http import VendorClient
from activity.sync.records import Covered, NormalizedEvent, Page
from activity.sync.values import iso_z, required_str
from activity.vocabulary import Category, Outcome, outcome_from_status

SPEC = VendorSpec(
    vendor="datafold",
    # Datafold's API reference says nothing of retention: a conservative guess.
    retention_days=90,
    default_base_url="https://app.datafold.com",
    optional_params=("window_minutes",),
    required_secrets=("api_key",),
    help={
        "api_key": "It must be an API key of an admin or a service account (Settings > "
        "Account > API key), sent as 'Authorization: Key <api_key>'."
    },
)
# Events are written as requests finish; do not ask for the last moments yet.
SETTLE_LAG = timedelta(minutes=2)
LARGEST_WINDOW = timedelta(hours=6)
SMALLEST_WINDOW = timedelta(minutes=1)
SMALLEST_SPLIT = timedelta(seconds=1)
# Timestamps may come without their fraction of a second.
TIME_TOLERANCE = timedelta(seconds=1)
ROUND_COUNT = 100


# Datafold documents no action values (its schema shows `<string>`); these are the ones seen.
CATEGORIES = {
    "login": Category.AUTHENTICATION,
    "logout": Category.AUTHENTICATION,
    "login_failed": Category.AUTHENTICATION,
    "sso_login": Category.AUTHENTICATION,
    "view_diff": Category.READ,
    "run_diff": Category.READ,
    "view_monitor": Category.READ,
    "view_lineage": Category.READ,
    "export_diff": Category.EXPORT,
    "create_monitor": Category.CREATE,
    "update_monitor": Category.UPDATE,
    "delete_monitor": Category.DELETE,
    "invite_user": Category.PERMISSION,
    "update_user_role": Category.PERMISSION,
    "update_settings": Category.CONFIGURATION,
    "create_api_key": Category.CONFIGURATION,
    "update_datasource": Category.CONFIGURATION,
    "api_call": Category.OTHER,
}


class DatafoldConnector(Connector):
    spec = SPEC
    categories = CATEGORIES
    covered_streams = ("logs",)

    @classmethod
    def outcome(cls, action: str, record: dict) -> Outcome:
        return outcome_from_status(record.get("status"))

    def client(self) -> VendorClient:
        return self.vendor_client(
            headers={"Authorization": f"Key {self.source.secrets['api_key']}"}
        )

    def pages(self, client: VendorClient) -> Iterator[Page]:
        size = timedelta(minutes=self.int_param("window_minutes", 60, low=1, high=24 * 60))
        end = self.until or self.now - SETTLE_LAG
        windows = self.time_windows(
            "logs",
            end=end,
            size=size,
            largest=LARGEST_WINDOW,
            smallest=SMALLEST_WINDOW,
            align=False,
        )
        for start, stop, progress in windows:
            window = {"start_date": iso_z(start), "end_date": iso_z(stop)}
            try:
                # A GET with a JSON body, as documented (httpx sends it with request()).
                body = client.request(
                    "GET", "/api/v1/audit_logs", json=window, retry_timeouts=False
                )
            except (VendorRequestError, VendorTimeout) as problem:
                refused = isinstance(problem, VendorRequestError)
                if (not refused or problem.status == 422) and windows.retry_smaller(
                    SMALLEST_WINDOW, refused=refused
                ):
                    continue
                if refused:
                    raise
                body = client.request("GET", "/api/v1/audit_logs", json=window)
            logs = body.get("logs") if isinstance(body, dict) else None
            if not isinstance(logs, list):
                raise VendorDataError(f"{self.describe} answered without a list of logs")
            events, skipped = self.parse_all(logs)
            self._check_inside(events, start, stop)
            if looks_truncated(len(logs), [event.occurred_at for event in events], start, stop):
                if not windows.retry_smaller(SMALLEST_SPLIT, refused=False):
                    raise VendorDataError(
                        f"{self.describe} answered exactly {len(logs)} logs for "
                        f"{iso_z(start)} to {iso_z(stop)}, short of the window's edges: it "
                        "seems to cap its answers, even for one second. Stopping without "
                        "moving the mark."
                    )
                windows.target = min(windows.target, len(logs) // 2)
                continue
            windows.observe(len(logs))
            yield Page(
                stream="logs",
                state={"hwm": self.next_high_water_mark("logs", stop)},
                events=events,
                skipped=skipped,
                progress=progress,
                covered=Covered(start, stop, len(logs)),
            )

    def _check_inside(self, events: list[NormalizedEvent], start: datetime, stop: datetime):
        outside = [
            event
            for event in events
            if not start - TIME_TOLERANCE <= event.occurred_at <= stop + TIME_TOLERANCE
        ]
        if outside:
            raise VendorDataError(
                f"{self.describe} answered {len(outside)} log(s) outside the window asked for "
                f"({iso_z(start)} to {iso_z(stop)}), e.g. one at "
                f"{iso_z(outside[0].occurred_at)}: the GET's JSON body (start_date, end_date) "
                "did not reach it, so it answered its default range. Something between here "
                "and Datafold drops GET bodies (a proxy or gateway): reach Datafold directly "
                "or have the body passed on. Stopping without moving the mark."
            )

    @classmethod
    def actor_kind(cls, record: dict) -> str:
        # Datafold's own staff acting in the customer's account.
        return Person.Kind.VENDOR_SUPPORT if record.get("is_support_user") is True else ""

    def parse(self, record: dict) -> NormalizedEvent:
        request = " ".join(
            str(part) for part in (record.get("request_type"), record.get("url")) if part
        )
        return NormalizedEvent(
            external_id=required_str(record, "event_uuid"),
            occurred_at=self.parse_time(record.get("timestamp")),
            action=record.get("action") or record.get("request_type") or "request",
            actor_id=record.get("user_id"),
            actor_email=record.get("user_email"),
            object_type=record.get("object_type"),
            object_id=record.get("object_id"),
            object_name=record.get("url"),
            summary=record.get("log_entry") or request,
            ip_address=record.get("client_ip"),
            user_agent=record.get("user_agent"),
            raw=record,
            actor_kind=self.actor_kind(record),
        )


def looks_truncated(count: int, times: list[datetime], start: datetime, stop: datetime) -> bool:
    """A round count whose times stop short of an edge of the window (by more than twice
    their mean spacing): what an answer cut at an undocumented cap looks like."""
    if count < ROUND_COUNT or count % ROUND_COUNT or not times:
        return False
    gap = (stop - start) / count * 2
    return min(times) - start > gap or stop - max(times) > gap
