"""Domo: the activity log (audit API).

Records carry no id. Each one is keyed by a hash of all its fields (time normalized to epoch
milliseconds) plus its rank among identical records in the same answer, so two genuinely
identical events stay two, and fetching the same time again yields the same keys. Identical
records share their time, so they always fall in the same closed, aligned bucket; a bucket's
mark is committed only with its last page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx

from activity.connectors.base import Connector
from activity.connectors.spec import VendorSpec
from activity.sync.errors import (
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
from activity.sync.records import NormalizedEvent, Page
from activity.sync.values import epoch_ms, parse_vendor_time
from activity.vocabulary import Category, Outcome

SPEC = VendorSpec(
    vendor="domo",
    default_base_url="https://api.domo.com",
    required_secrets=("client_id", "client_secret"),
    help={
        "client_id": "The OAuth client must have the audit scope and belong to a user with "
        "Admin or 'View Activity Logs' (developer.domo.com > My Account > New Client).",
    },
)
PAGE_LIMIT = 1000  # the API's maximum
BUCKET = timedelta(hours=1)
LARGEST_BUCKET = timedelta(days=7)
SETTLE_LAG = timedelta(minutes=15)
MAX_OFFSET = 10_000_000
TOKEN_QUERY = {"grant_type": "client_credentials", "scope": "audit"}


class DomoToken(httpx.Auth):
    """OAuth client credentials: fetches a bearer token, renews it before it expires and
    once more if the API answers 401 (tokens last about an hour; a long sync outlives one).

    Domo's documents fetch the token with a GET; its SDKs POST a form. We send the GET and,
    if the endpoint refuses the method or the request (not the credentials), POST once and
    keep POSTing."""

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

    def _token_request(self) -> httpx.Request:
        headers = {"Authorization": self.basic_header, "Accept": "application/json"}
        if self.method == "GET":
            return httpx.Request("GET", self.token_url, params=TOKEN_QUERY, headers=headers)
        return httpx.Request(
            "POST", self.token_url, params=TOKEN_QUERY, data=TOKEN_QUERY, headers=headers
        )

    def _renew(self):
        response = yield self._token_request()
        status = response.status_code
        if self.method == "GET" and 400 <= status < 500 and status not in (401, 403, 429):
            self.method = "POST"
            response = yield self._token_request()
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
    categories = CATEGORIES

    @classmethod
    def outcome(cls, action: str, record: dict) -> Outcome:
        said = f"{action} {record.get('eventText') or ''}".upper().replace("_", " ")
        if any(word in said for word in FAILED_SIGN_IN):
            return Outcome.FAILURE
        if action == "LOGGED_IN":
            return Outcome.SUCCESS  # Domo writes it once the sign-in succeeded
        return Outcome.UNKNOWN

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

    def pages(self, client: VendorClient) -> Iterator[Page]:
        end = self.until or self.now - SETTLE_LAG
        windows = self.time_windows(
            "audit", end=end, size=BUCKET, largest=LARGEST_BUCKET, align=True
        )
        for start, stop, progress in windows:
            ranks: Counter[str] = Counter()
            offset, previous = 0, None
            while True:
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
                if (rows and rows == previous) or offset > MAX_OFFSET:
                    raise VendorDataError(
                        f"{self.describe} kept answering the same page: stopping instead of looping"
                    )
                events, skipped = self.parse_all(rows)
                events = [_ranked(event, ranks) for event in events]
                last = len(rows) < PAGE_LIMIT
                hwm = self.next_high_water_mark("audit", stop) if last else None
                yield Page(
                    stream="audit",
                    state={"hwm": hwm or self.stream_state("audit").get("hwm")},
                    events=events,
                    skipped=skipped,
                    progress=progress,
                )
                if last:
                    windows.observe(offset + len(rows))
                    break
                offset += len(rows)
                previous = rows

    def parse(self, record: dict) -> NormalizedEvent:
        occurred_at = parse_vendor_time(record.get("time"))
        canonical = {**record, "time": epoch_ms(occurred_at)}
        digest = hashlib.sha256(
            json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
        ).hexdigest()
        return NormalizedEvent(
            external_id=digest,
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


def _ranked(event: NormalizedEvent, ranks: Counter[str]) -> NormalizedEvent:
    rank = ranks[event.external_id]
    ranks[event.external_id] += 1
    return replace(event, external_id=f"{event.external_id}#{rank}")
