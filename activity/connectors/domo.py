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
from activity.sync.errors import VendorAuthError, VendorDataError, VendorTransientError
from activity.sync.http import VendorClient, describe_body, retry_after_seconds
from activity.sync.records import NormalizedEvent, Page
from activity.sync.values import epoch_ms, parse_vendor_time

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


class DomoToken(httpx.Auth):
    """OAuth client credentials: fetches a bearer token, renews it before it expires and
    once more if the API answers 401 (tokens last about an hour; a long sync outlives one)."""

    requires_response_body = True

    def __init__(self, *, token_url: str, client_id: str, client_secret: str, describe: str):
        self.token_url = token_url
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.basic_header = f"Basic {basic}"
        self.describe = describe
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

    def _renew(self):
        response = yield httpx.Request(
            "GET",
            self.token_url,
            params={"grant_type": "client_credentials", "scope": "audit"},
            headers={"Authorization": self.basic_header, "Accept": "application/json"},
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise VendorTransientError(
                f"token endpoint HTTP {response.status_code} with {describe_body(response)}",
                retry_after_seconds(response),
            )
        if response.status_code != 200:
            raise VendorAuthError(
                f"{self.describe} refused the credentials (token endpoint HTTP "
                f"{response.status_code}: {describe_body(response)}). {SPEC.help['client_id']}"
            )
        try:
            body = response.json()
            self.token = body["access_token"]
            lifetime = float(body.get("expires_in") or 3599)
        except (ValueError, KeyError, TypeError):
            raise VendorTransientError("the token endpoint answered without a token") from None
        margin = 60.0 if lifetime > 120 else lifetime / 2
        self.renew_at = time.monotonic() + lifetime - margin


class DomoConnector(Connector):
    spec = SPEC

    def client(self) -> VendorClient:
        secrets = self.source.secrets
        return VendorClient(
            base_url=self.source.base_url,
            describe=self.describe,
            auth=DomoToken(
                token_url=f"{self.source.base_url}/oauth/token",
                client_id=secrets["client_id"],
                client_secret=secrets["client_secret"],
                describe=self.describe,
            ),
            auth_hint=self.auth_hint(),
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
                if not isinstance(rows, list):
                    raise VendorDataError(f"{self.describe} answered without a list of records")
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
