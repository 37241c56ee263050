"""Domo: the activity log (audit API).

Records carry no id. Each one is keyed by a hash of its stable fields (ids, time, action,
address and device; never display names, which Domo changes when an object is renamed)
plus its rank among records with the same hash in the same answer, so two genuinely
identical events stay two, and fetching the same time again yields the same keys.

The order inside an answer is undocumented, so nothing may depend on it: a window is read
until an empty page (a short page proves nothing), and a window whose rows do not fit one
page is split in two and read again, down to one second (read whole twice, and the two
reads must agree). Ranks are then taken over a whole answer, in content order.

Every row must fall inside the window asked for: the documents' zone-less ``time`` only
agrees with their own sample if it is not UTC, so rows that fall outside by a constant offset
stop the source (the mark stays) with the offset seen and the ``time_zone`` to set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from activity.connectors.base import Connector
from activity.connectors.directory import DirectoryMember, full_name, text, unique_members
from activity.connectors.spec import VendorSpec
from activity.sync.errors import (
    DirectoryUnavailable,
    VendorAuthError,
    VendorDataError,
    VendorRequestError,
    VendorTransientError,
)
from activity.sync.http import (
    VendorClient,
    describe_body,
    error_message,
    error_name,
    is_html,
    json_or_none,
    retry_after_seconds,
)
from activity.sync.records import Covered, NormalizedEvent, Page, Skipped
from activity.sync.values import epoch_ms, is_zoneless, iso_z, zone_offset_advice
from activity.vocabulary import Category, Outcome

SPEC = VendorSpec(
    vendor="domo",
    # Domo keeps a year of activity log (its activity log documentation).
    retention_days=365,
    default_base_url="https://api.domo.com",
    required_secrets=("client_id", "client_secret"),
    help={
        "client_id": "The OAuth client must have the audit scope (and the user scope, for the "
        "users directory) and belong to a user with Admin or 'View Activity Logs' "
        "(developer.domo.com > My Account > New Client).",
    },
)
PAGE_LIMIT = 1000  # the API's maximum
BUCKET = timedelta(hours=1)
LARGEST_BUCKET = timedelta(days=7)
SETTLE_LAG = timedelta(minutes=15)
SMALLEST_SPLIT = timedelta(seconds=1)  # Domo's times are whole seconds
MAX_OFFSET = 10_000_000
# One token for the audit log and the users directory; a client without the user scope
# still reads the log (see DomoToken).
AUDIT_SCOPE, USER_SCOPE = "audit", "user"
TOKEN_SCOPES = f"{AUDIT_SCOPE} {USER_SCOPE}"
USERS_LIMIT = 500  # the users API's maximum
DIRECTORY_PERMISSION = (
    "create the Domo API client with the `user` scope as well as `audit` (developer.domo.com "
    "> My Account > the client, or Admin > Authentication > API clients); the client sees "
    "the users its owner's role may see"
)
# What identifies a Domo event; names and texts are left out, they change on a rename.
KEY_FIELDS = (
    "time",
    "userId",
    "userType",
    "actorId",
    "actionType",
    "objectType",
    "objectId",
    "ipAddress",
    "device",
    "browserDetails",
)


class DomoToken(httpx.Auth):
    """OAuth client credentials: fetches a bearer token, renews it before it expires and
    once more if the API answers 401 (tokens last about an hour; a long sync outlives one).

    Domo's documents fetch the token with a GET; its SDKs POST a form. We send the GET and,
    if the endpoint refuses the method or the request (not the credentials), POST once and
    keep POSTing.

    The token is asked for the audit and user scopes; an endpoint that refuses that request
    (``invalid_scope`` for a client without the user scope, or any other refusal) is asked
    again for audit alone, and keeps being asked for audit alone. ``granted`` holds the
    scopes the reply names (``None`` when it names none)."""

    requires_response_body = True

    def __init__(
        self, *, token_url: str, client_id: str, client_secret: str, describe: str, hint: str
    ):
        self.token_url = token_url
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.basic_header = f"Basic {basic}"
        self.describe = describe
        self.hint = hint
        self.method = "GET"
        self.scopes = TOKEN_SCOPES
        self.granted: frozenset[str] | None = None
        self.token: str | None = None
        self.renew_at = 0.0

    def auth_flow(self, request: httpx.Request):
        if self.token is None or time.monotonic() >= self.renew_at:
            yield from self._renew()
        request.headers["Authorization"] = f"bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            yield from self._renew()
            request.headers["Authorization"] = f"bearer {self.token}"
            yield request

    def _audit_alone(self, refused: httpx.Response):
        """Ask again for the audit scope alone, once; from then on, always."""
        if self.scopes == AUDIT_SCOPE:
            return refused
        self.scopes = AUDIT_SCOPE
        return (yield self._token_request())

    def _token_request(self) -> httpx.Request:
        headers = {"Authorization": self.basic_header, "Accept": "application/json"}
        query = {"grant_type": "client_credentials", "scope": self.scopes}
        if self.method == "GET":
            return httpx.Request("GET", self.token_url, params=query, headers=headers)
        return httpx.Request("POST", self.token_url, params=query, data=query, headers=headers)

    def _renew(self):
        response = yield self._token_request()
        status = response.status_code
        if status == 400 and error_name(json_or_none(response)) == "invalid_scope":
            response = yield from self._audit_alone(response)
            status = response.status_code
        if self.method == "GET" and 400 <= status < 500 and status not in (401, 403, 429):
            self.method = "POST"
            response = yield self._token_request()
            status = response.status_code
        if status in (400, 401, 403) and not is_html(response):
            # Perhaps the client lacks the user scope and says so plainly: the audit log
            # must not depend on the directory.
            response = yield from self._audit_alone(response)
            status = response.status_code
        where = f"{self.describe} token endpoint ({self.method} {self.token_url})"
        if status == 429 or status >= 500:
            raise VendorTransientError(
                f"token endpoint HTTP {status} with {describe_body(response)}",
                retry_after_seconds(response),
            )
        if status in (401, 403) or (status == 400 and error_name(json_or_none(response))):
            raise VendorAuthError(
                f"{self.describe} refused the credentials (token endpoint HTTP {status}: "
                f"{describe_body(response)}). {SPEC.help['client_id']}"
            )
        if status != 200 or is_html(response):
            raise VendorRequestError(
                f"{where} answered HTTP {status} with {describe_body(response)}. {self.hint}",
                status,
            )
        body = json_or_none(response)
        if body is None:
            raise VendorTransientError("the token endpoint's answer was not valid JSON")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorDataError(f"{where} answered without an access_token")
        try:
            lifetime = float(body.get("expires_in") or 3599)
        except (TypeError, ValueError):
            lifetime = 3599.0
        self.token = token
        granted = body.get("scope")
        self.granted = frozenset(granted.split()) if isinstance(granted, str) else None
        if self.scopes == AUDIT_SCOPE:
            self.granted = frozenset({AUDIT_SCOPE})
        margin = 60.0 if lifetime > 120 else lifetime / 2
        self.renew_at = time.monotonic() + lifetime - margin


# Domo's `actionType` values (the Activity Log's "Action" column).
CATEGORIES = {
    "LOGGED_IN": Category.AUTHENTICATION,
    "LOGGED_OUT": Category.AUTHENTICATION,
    "FAILED_LOGIN": Category.AUTHENTICATION,
    "LOGIN_FAILED": Category.AUTHENTICATION,
    "LOCKED_OUT": Category.AUTHENTICATION,
    "VIEWED": Category.READ,
    "EXECUTED": Category.UPDATE,  # a DataFlow run writes its output datasets
    "EXPORTED": Category.EXPORT,
    "DOWNLOADED": Category.EXPORT,
    "CREATED": Category.CREATE,
    "UPDATED": Category.UPDATE,
    "EDITED": Category.UPDATE,
    "RENAMED": Category.UPDATE,
    "DELETED": Category.DELETE,
    "SHARED": Category.PERMISSION,
    "UNSHARED": Category.PERMISSION,
    "GRANTED": Category.PERMISSION,
    "REVOKED": Category.PERMISSION,
}
# Domo says a sign-in failed in its action or its text ("Failed login", "User locked out").
FAILED_SIGN_IN = ("FAILED", "LOCKED", "INVALID PASSWORD")


class DomoConnector(Connector):
    spec = SPEC
    has_directory = True
    categories = CATEGORIES
    covered_streams = ("audit",)

    @classmethod
    def outcome(cls, action: str, record: dict) -> Outcome:
        said = f"{action} {record.get('eventText') or ''}".upper().replace("_", " ")
        if any(word in said for word in FAILED_SIGN_IN):
            return Outcome.FAILURE
        if action == "LOGGED_IN":
            return Outcome.SUCCESS  # Domo writes it once the sign-in succeeded
        return Outcome.UNKNOWN

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._hours_read: dict[datetime, set[str]] = {}  # for times that read two ways

    def client(self) -> VendorClient:
        secrets = self.source.secrets
        return self.vendor_client(
            auth=DomoToken(
                token_url=f"{self.source.base_url}/oauth/token",
                client_id=secrets["client_id"],
                client_secret=secrets["client_secret"],
                describe=self.describe,
                hint=self.request_hint(),
            )
        )

    def directory(self, client: VendorClient) -> Iterator[DirectoryMember]:
        """The instance's users (``GET /v1/users``, pages of 500 until an empty one), each
        once; the token must carry the user scope."""
        return unique_members(self._users(client))

    def _users(self, client: VendorClient) -> Iterator[DirectoryMember]:
        offset, previous = 0, None
        while True:
            try:
                rows = client.request(
                    "GET", "/v1/users", params={"limit": USERS_LIMIT, "offset": offset}
                )
            except VendorAuthError as refused:
                if refused.status is None:
                    raise  # the token endpoint refused the credentials themselves
                raise self._no_directory(f"HTTP {refused.status} on the users list") from None
            granted = getattr(client.http.auth, "granted", None)
            if granted is not None and USER_SCOPE not in granted:
                raise self._no_directory("its token was granted no user scope")
            if not isinstance(rows, list):
                problem = error_message(rows) or "no list of users"
                raise VendorDataError(f"{self.describe} answered the users list with {problem}")
            if not rows:
                return
            if rows == previous or offset > MAX_OFFSET:
                raise VendorDataError(
                    f"{self.describe} kept answering the same users (is it ignoring the "
                    "offset?): stopping instead of looping"
                )
            for row in rows:
                if isinstance(row, dict) and text(row.get("id")):
                    yield DirectoryMember(
                        vendor_user_id=text(row["id"]),  # a number here, a string in the log
                        email=text(row.get("email")) or None,
                        name=full_name(row.get("name")),
                        role=text(row.get("role")),
                    )
            offset, previous = offset + len(rows), rows

    def _no_directory(self, seen: str) -> DirectoryUnavailable:
        return DirectoryUnavailable(
            f"{self.describe} may not read the users directory ({seen}): {DIRECTORY_PERMISSION}.",
            DIRECTORY_PERMISSION,
        )

    def pages(self, client: VendorClient) -> Iterator[Page]:
        end = self.until or self.now - SETTLE_LAG
        windows = self.time_windows(
            "audit",
            end=end,
            size=BUCKET,
            largest=LARGEST_BUCKET,
            align=True,
            target=PAGE_LIMIT // 2,  # so that most windows fit one page
        )
        for start, stop, progress in windows:
            events: dict[str, NormalizedEvent] = {}
            skipped: list[Skipped] = []
            for rows, low, high in self._answers(client, start, stop):
                answer, answer_skipped = self.parse_all(rows)
                inside, outside = self._inside(client, answer, low, high)
                if outside:
                    raise VendorDataError(
                        self._outside_message(*self._narrowed(client, outside, low, high))
                    )
                skipped += answer_skipped
                for event in ranked(inside):
                    events.setdefault(event.external_id, event)
            windows.observe(len(events) + len(skipped))
            ordered = list(events.values())
            chunks = [ordered[i : i + PAGE_LIMIT] for i in range(0, len(ordered), PAGE_LIMIT)]
            # The bucket's mark is committed with its last page only.
            for number, chunk in enumerate(chunks or [[]], start=1):
                last = number >= len(chunks)
                hwm = self.next_high_water_mark("audit", stop) if last else None
                yield Page(
                    stream="audit",
                    state={"hwm": hwm or self.stream_state("audit").get("hwm")},
                    events=chunk,
                    skipped=skipped if last else [],
                    progress=progress,
                    covered=Covered(start, stop, len(events) + len(skipped)) if last else None,
                )

    def _answers(
        self, client: VendorClient, start: datetime, stop: datetime
    ) -> Iterator[tuple[list, datetime, datetime]]:
        """Every row of ``[start, stop]``, as answers that each hold one window's rows in
        full, whatever order the server gives between pages."""
        first = self._fetch(client, start, stop, 0)
        if not first:
            return
        more = self._fetch(client, start, stop, len(first))
        if more == first:
            raise VendorDataError(
                f"{self.describe} kept answering the same page (is it ignoring the offset?): "
                "stopping instead of looping"
            )
        if not more:
            yield first, start, stop
            return
        if stop - start > SMALLEST_SPLIT:
            middle = _whole_ms(start + (stop - start) / 2)
            yield from self._answers(client, start, middle)
            yield from self._answers(client, middle, stop)
            return
        # More than a page within one second: read it whole twice, and compare.
        rows = self._read_to_end(client, start, stop, first + more)
        again = self._read_to_end(client, start, stop, [])
        if Counter(map(_canonical, rows)) != Counter(map(_canonical, again)):
            raise VendorDataError(
                f"{self.describe} gave two different answers for the {len(rows)} rows of "
                f"{iso_z(start)} to {iso_z(stop)} (its order shifts between pages): stopping "
                "without moving the mark; the next sync reads it again"
            )
        yield rows, start, stop

    def _read_to_end(
        self, client: VendorClient, start: datetime, stop: datetime, rows: list
    ) -> list:
        """Page on from ``rows`` until an empty page."""
        rows, previous = list(rows), None
        while page := self._fetch(client, start, stop, len(rows)):
            if page == previous:
                raise VendorDataError(
                    f"{self.describe} kept answering the same page: stopping instead of looping"
                )
            rows, previous = rows + page, page
        return rows

    def _fetch(self, client: VendorClient, start: datetime, stop: datetime, offset: int) -> list:
        if offset > MAX_OFFSET:
            raise VendorDataError(
                f"{self.describe} kept answering pages past row {MAX_OFFSET:,}: stopping "
                "instead of looping"
            )
        rows = client.request(
            "GET",
            "/v1/audit",
            params={
                "start": epoch_ms(start),
                "end": epoch_ms(stop),
                "limit": PAGE_LIMIT,
                "offset": offset,
            },
        )
        if isinstance(rows, dict) and "time" in rows:
            rows = [rows]  # the documents' sample answer: one bare record
        if not isinstance(rows, list):
            problem = error_message(rows) or "no list of records"
            raise VendorDataError(f"{self.describe} answered with {problem}")
        return rows

    def _inside(
        self, client: VendorClient, events: list[NormalizedEvent], start: datetime, stop: datetime
    ) -> tuple[list[NormalizedEvent], list[NormalizedEvent]]:
        """The events inside the window asked for, and those outside it."""
        inside, outside = [], []
        for event in events:
            if is_zoneless(event.raw.get("time")):
                event = self._unfolded(client, event, start, stop)
            (inside if start <= event.occurred_at <= stop else outside).append(event)
        return inside, outside

    def _unfolded(
        self, client: VendorClient, event: NormalizedEvent, start: datetime, stop: datetime
    ) -> NormalizedEvent:
        """A zone-less time in the hour that repeats when daylight saving ends reads two
        ways; the window tells them apart, else the first reading's hour is asked whether
        it holds the record."""
        later = self.parse_time(event.raw["time"], fold=1)
        if later == event.occurred_at:
            return event
        first_fits = start <= event.occurred_at <= stop
        if first_fits != (start <= later <= stop):
            return event if first_fits else replace(event, occurred_at=later)
        hour = _hour_of(event.occurred_at)
        if hour not in self._hours_read:
            self._hours_read[hour] = {
                _canonical(row)
                for rows, _, _ in self._answers(client, hour, hour + BUCKET)
                for row in rows
            }
        if _canonical(event.raw) in self._hours_read[hour]:
            return event
        return replace(event, occurred_at=later)

    def _narrowed(
        self, client: VendorClient, outside: list, start: datetime, stop: datetime
    ) -> tuple[list[NormalizedEvent], datetime, datetime]:
        """Records outside a long window, found again in a one-bucket window (halving it),
        so that the offset they show is known to within the hour."""
        while stop - start > BUCKET:
            middle = start + (stop - start) // BUCKET // 2 * BUCKET
            if middle <= start:
                break
            for low, high in ((start, middle), (middle, stop)):
                found = [
                    (missed, a, b)
                    for rows, a, b in self._answers(client, low, high)
                    if (missed := self._inside(client, self.parse_all(rows)[0], a, b)[1])
                ]
                if found:
                    outside, start, stop = found[0]
                    break
            else:
                break
        return outside, start, stop

    def _outside_message(
        self, outside: list[NormalizedEvent], start: datetime, stop: datetime
    ) -> str:
        seen = (
            f"{self.describe} answered {len(outside)} record(s) outside the window asked for "
            f"({iso_z(start)} to {iso_z(stop)}), e.g. time {outside[0].raw.get('time')!r} "
            f"read as {iso_z(outside[0].occurred_at)}"
        )
        stop_note = "Stopping without moving the mark."
        # The shifts that would bring every such record inside the window.
        low = max(start - event.occurred_at for event in outside)
        high = min(stop - event.occurred_at for event in outside)
        if low > high or not all(is_zoneless(event.raw.get("time")) for event in outside):
            return (
                f"{seen}: Domo seems to ignore the start and end asked for. {stop_note} "
                "Check the source's base URL and any proxy in between."
            )
        advice, zones = zone_offset_advice(low, high, self.zone, outside[0].occurred_at)
        zone = zones[0] if zones else "<IANA zone>"
        return (
            f"{seen}: a constant offset, so its zone-less times are not in "
            f"{self.zone.key}. {advice} Set it with: manage.py add_source domo "
            f"{self.source.name} --update --param time_zone={zone}, then re-read what "
            f"was stored with: manage.py sync_activity {self.source.name} --since <the first "
            f"day stored>. {stop_note}"
        )

    def parse(self, record: dict) -> NormalizedEvent:
        occurred_at = self.parse_time(record.get("time"))
        stable = {name: record.get(name) for name in KEY_FIELDS}
        # Zone-less text keys on its wall clock, so that setting time_zone keeps the keys.
        stable["time"] = (
            record["time"].strip() if is_zoneless(record.get("time")) else epoch_ms(occurred_at)
        )
        if not record.get("actionType"):
            stable["eventText"] = record.get("eventText")
        return NormalizedEvent(
            external_id=_digest(stable),
            occurred_at=occurred_at,
            action=record.get("actionType") or record.get("eventText") or "event",
            actor_id=record.get("userId"),
            actor_name=record.get("userName"),
            object_type=record.get("objectType"),
            object_id=record.get("objectId"),
            object_name=record.get("objectName"),
            summary=record.get("additionalComment") or record.get("eventText"),
            ip_address=record.get("ipAddress"),
            user_agent=record.get("browserDetails"),
            raw=record,
        )


def ranked(events: list[NormalizedEvent]) -> list[NormalizedEvent]:
    """Keys made unique within one answer: ``hash#rank``, rank taken in content order so
    that the server's order does not matter."""
    groups: defaultdict[str, list[NormalizedEvent]] = defaultdict(list)
    for event in events:
        groups[event.external_id].append(event)
    result = []
    for key, group in groups.items():
        if len(group) > 1:
            group.sort(key=lambda event: _canonical(event.raw))
        result += [replace(event, external_id=f"{key}#{n}") for n, event in enumerate(group)]
    return result


def _canonical(record: object) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)


def _digest(fields: dict) -> str:
    return hashlib.sha256(_canonical(fields).encode("utf-8", "surrogatepass")).hexdigest()


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _whole_ms(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=moment.microsecond % 1000)
