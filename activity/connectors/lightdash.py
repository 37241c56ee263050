"""Lightdash: download activity (events) and user activity (snapshots of aggregates).

The two streams fail and recover independently: user activity is a heavy live aggregate,
asked with a longer time limit of its own, and its failure must not keep downloads from
syncing (nor the other way round).

Downloads are paged in offset mode, never by ``nextCursor``: the cursor keeps milliseconds
while rows keep microseconds, so rows tied within a millisecond at a page boundary would be
skipped. Offsets only shift rows down as new downloads arrive (newest first), which gives
duplicates (dropped by the unique key), never gaps; a committed page number is therefore a
safe place to resume.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx

from activity.connectors.base import Connector
from activity.connectors.directory import (
    DirectoryMember,
    MemberStatus,
    full_name,
    text,
    unique_members,
)
from activity.connectors.spec import VendorSpec
from activity.models import Person, UserActivitySnapshot
from activity.sync.errors import (
    DirectoryUnavailable,
    VendorAuthError,
    VendorDataError,
    VendorRequestError,
    VendorTimeout,
)
from activity.sync.http import VendorClient, error_message
from activity.sync.records import DownloadFacts, NormalizedEvent, Page
from activity.sync.values import iso_z, required_str
from activity.vocabulary import Category

SPEC = VendorSpec(
    vendor="lightdash",
    # Lightdash documents no retention for download activity: a conservative guess.
    retention_days=90,
    default_base_url="https://app.lightdash.cloud",
    required_params=("project_uuid",),
    optional_params=("page_size",),
    required_secrets=("token",),
    help={
        "project_uuid": "The project's UUID, from its URL: /projects/<uuid>/...",
        "token": "It must be a personal access token of an organization admin (Settings > "
        "Personal access tokens), not expired; service-account tokens (ldsvc_...) work too.",
    },
)
MAX_PAGE_SIZE = 2500  # LIGHTDASH_QUERY_MAX_PAGE_SIZE's default; above it the API answers 422
SNAPSHOT_EVERY = timedelta(hours=1)
SNAPSHOT_TIMEOUT_FACTOR = 5  # user activity may take this many times the usual time limit
DOWNLOADS_ROUTE_ADDED = "May 2026"
EMPTY_PAGE_ATTEMPTS = 4
# The members list pages only when asked to, with no cap of its own; stay modest.
DIRECTORY_PAGE_SIZE = 500
SERVICE_ACCOUNT_NAME = "service account"  # the first name Lightdash gives its requests
SERVICE_ACCOUNT_PREFIX = "service-account:"  # our actor id for one: the prefix, the admin's uuid
DIRECTORY_MAX_PAGES = 1000
DIRECTORY_PERMISSION = (
    "the token's user needs view:OrganizationMemberProfile, which every organization role "
    "has (a service-account token needs the ORG_READ scope)"
)


# The download-activity feed holds downloads only: query results leaving Lightdash.
CATEGORIES = {"download": Category.EXPORT}


class LightdashConnector(Connector):
    spec = SPEC
    has_directory = True
    categories = CATEGORIES
    covered_streams = ("downloads",)
    latest_snapshot: datetime | None = None

    @property
    def base_path(self) -> str:
        return f"/api/v1/analytics/user-activity/{self.params['project_uuid']}"

    def client(self) -> VendorClient:
        token = self.source.secrets["token"]
        # Service-account tokens take Bearer; personal access tokens take ApiKey.
        scheme = "Bearer" if token.startswith("ldsvc_") else "ApiKey"
        return self.vendor_client(headers={"Authorization": f"{scheme} {token}"})

    def pages(self, client: VendorClient) -> Iterator[Page]:
        yield from self.independent("user_activity", self._user_activity(client))
        yield from self.independent("downloads", self._downloads(client))

    def _downloads(self, client: VendorClient) -> Iterator[Page]:
        page_size = self.int_param("page_size", 1000, low=1, high=MAX_PAGE_SIZE)

        def fetch(offset: int | None) -> tuple[list, int | None]:
            # An empty page whose totals still promise rows is asked for again; moving on
            # to the next page would skip whatever that page should have held.
            for attempt in range(1, EMPTY_PAGE_ATTEMPTS + 1):
                rows, next_offset = fetch_once(offset or 0)
                if rows or next_offset is None:
                    return rows, next_offset
                if attempt < EMPTY_PAGE_ATTEMPTS:
                    client.sleep(client.policy.backoff(attempt))
            raise VendorDataError(
                f"{self.describe} kept answering an empty page at row {offset or 0} while its "
                "totals promise more rows: stopping without moving the mark (the next sync "
                "resumes here)"
            )

        def fetch_once(offset: int) -> tuple[list, int | None]:
            nonlocal page_size
            while True:
                # Rounding down re-reads a few rows (duplicates) rather than skipping any.
                page_number = offset // page_size + 1
                try:
                    body = client.request(
                        "GET",
                        f"{self.base_path}/download-activity",
                        params={"page": page_number, "pageSize": page_size},
                    )
                    break
                except VendorRequestError as problem:
                    if problem.status == 404 and problem.name != "NotExistsError":
                        raise VendorRequestError(
                            f"{self.describe} has no download-activity route (HTTP 404, "
                            f"{problem.name or 'no such route'}): Lightdash added it in "
                            f"{DOWNLOADS_ROUTE_ADDED}, so this instance is older. Upgrade it "
                            "to sync downloads; user activity syncs meanwhile.",
                            404,
                            problem.name,
                        ) from None
                    if problem.name != "PaginationError" or page_size == 1:
                        raise
                    page_size //= 2
            results = _results(body, self.describe)
            rows = results.get("data")
            pagination = results.get("pagination") or {}
            if not isinstance(rows, list):
                raise VendorDataError(f"{self.describe} answered without a list of downloads")
            # nextCursor and the totals are not needed: only a full page can have a next one.
            total = pagination.get("totalResults")
            more = len(rows) >= page_size or (
                isinstance(total, int | float) and page_number * page_size < total
            )
            return rows, page_number * page_size if more else None

        yield from self.walk_newest_first("downloads", fetch, resumable=True)

    def prepare(self) -> None:
        self.latest_snapshot = (
            UserActivitySnapshot.objects.filter(source=self.source)
            .order_by("-taken_at")
            .values_list("taken_at", flat=True)
            .first()
        )

    def _user_activity(self, client: VendorClient) -> Iterator[Page]:
        latest = self.latest_snapshot
        if latest and self.now - latest < SNAPSHOT_EVERY:
            return
        limit = client.policy.timeout * SNAPSHOT_TIMEOUT_FACTOR
        try:
            body = client.request(
                "GET",
                self.base_path,
                timeout=httpx.Timeout(limit, connect=min(10.0, limit)),
                retry_timeouts=False,
            )
        except VendorTimeout:
            raise VendorTimeout(
                f"{self.describe} did not compute user activity within {limit:.0f}s (a live "
                "aggregate over the whole project); downloads sync on their own, and the "
                "next sync asks again"
            ) from None
        document = _results(body, self.describe)
        yield Page(stream="user_activity", state={"taken_at": iso_z(self.now)}, snapshot=document)

    def directory(self, client: VendorClient) -> Iterator[DirectoryMember]:
        """The organization's members (``GET /api/v1/org/users``), each once."""
        return unique_members(self._members(client))

    def _members(self, client: VendorClient) -> Iterator[DirectoryMember]:
        # Paged with both page and pageSize (never includeGroups, whose grouped query limits
        # member rows). Rows are filtered by permission after the page is cut, so a short
        # page proves nothing: the walk ends past totalPageCount, or on an unpaged answer.
        page = 1
        while True:
            try:
                body = client.request(
                    "GET",
                    "/api/v1/org/users",
                    params={"page": page, "pageSize": DIRECTORY_PAGE_SIZE},
                )
            except VendorAuthError as refused:
                if refused.status != 403:
                    raise
                raise DirectoryUnavailable(
                    f"{self.describe} may not list the organization's members (HTTP 403): "
                    f"{DIRECTORY_PERMISSION}.",
                    DIRECTORY_PERMISSION,
                ) from None
            rows, pagination = _member_rows(body, self.describe)
            for row in rows:
                if isinstance(row, dict) and text(row.get("userUuid")):
                    yield _member(row)
            pages = pagination.get("totalPageCount") if isinstance(pagination, dict) else None
            if not isinstance(pages, int) or isinstance(pages, bool) or page + 1 > pages:
                return
            if page >= DIRECTORY_MAX_PAGES:
                raise VendorDataError(
                    f"{self.describe} promised more than {DIRECTORY_MAX_PAGES} pages of "
                    "members: stopping instead of looping"
                )
            page += 1

    @classmethod
    def actor_kind(cls, record: dict) -> str:
        # A service account's requests carry the userUuid of the admin who created it, under
        # the first name "service account": the only sign that the admin did not act.
        first = record.get("userFirstName")
        if isinstance(first, str) and first.strip().casefold() == SERVICE_ACCOUNT_NAME:
            return Person.Kind.SERVICE
        return ""

    def parse(self, record: dict) -> NormalizedEvent:
        first, last = record.get("userFirstName"), record.get("userLastName")
        name = " ".join(part for part in (first, last) if isinstance(part, str) and part)
        file_type = record.get("fileType") or ""
        context = record.get("originalQueryContext") or ""
        kind = self.actor_kind(record)
        user = record.get("userUuid")
        return NormalizedEvent(
            external_id=required_str(record, "downloadUuid"),
            occurred_at=self.parse_time(record.get("downloadedAt")),
            action="download",
            # The service account is an actor of its own, not the admin whose id it carries.
            actor_id=f"{SERVICE_ACCOUNT_PREFIX}{user}" if kind and user else user,
            actor_kind=kind,
            actor_name=name,
            object_type="query",
            object_id=record.get("queryUuid"),
            object_name=context,
            summary=f"Downloaded query results as {file_type}" if file_type else None,
            raw=record,
            download=DownloadFacts(
                file_type=str(file_type),
                query_uuid=str(record.get("queryUuid") or ""),
                query_context=str(context),
                user_uuid=str(record.get("userUuid") or ""),
                user_name=name,
            ),
        )


def _member_rows(body: object, describe: str) -> tuple[list, object]:
    """The members and pagination of any of the three answers: paged, unpaged
    (``results.data`` alone) or a server from before paging (``results`` is the list)."""
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"], None
    results = _results(body, describe)
    rows = results.get("data")
    if not isinstance(rows, list):
        raise VendorDataError(f"{describe} answered without a list of members")
    return rows, results.get("pagination")


def _member(row: dict) -> DirectoryMember:
    active = row.get("isActive")
    return DirectoryMember(
        vendor_user_id=text(row["userUuid"]),
        email=text(row.get("email")) or None,
        name=full_name(row.get("firstName"), row.get("lastName")),
        status=(
            MemberStatus.UNKNOWN
            if not isinstance(active, bool)
            else MemberStatus.ACTIVE
            if active
            else MemberStatus.DEACTIVATED
        ),
        role=text(row.get("role")),
        pending=row.get("isPending") is True,
    )


def _results(body: object, describe: str) -> dict:
    """The ``results`` of Lightdash's ``{"status": "ok", "results": ...}`` envelope."""
    if isinstance(body, dict) and body.get("status") == "error":
        raise VendorDataError(f"{describe} answered with an error: {error_message(body)}")
    if not isinstance(body, dict) or not isinstance(body.get("results"), dict):
        raise VendorDataError(f"{describe} answered without a results object")
    return body["results"]
