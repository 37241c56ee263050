"""Velt: activity logs.

There is no time filter: we page newest first until past the mark minus the overlap. Page
tokens are not kept between runs, so an interrupted walk starts again from the top; a
missing, null or empty token ends the walk, and so does an empty page after a short one
(Velt's last page may still carry a token, to an empty page that carries one again).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from activity.connectors.base import Connector
from activity.connectors.spec import VendorSpec
from activity.sync.errors import (
    VendorAuthError,
    VendorDataError,
    VendorRequestError,
    VendorTransientError,
)
from activity.sync.http import VendorClient
from activity.sync.records import NormalizedEvent, Page
from activity.sync.values import required_str
from activity.vocabulary import Category

SPEC = VendorSpec(
    vendor="velt",
    # Velt documents no retention, and records can be deleted at any time: a short guess.
    retention_days=30,
    default_base_url="https://api.velt.dev",
    required_params=("organization_id",),
    optional_params=("document_id", "page_size"),
    required_secrets=("api_key", "auth_token"),
    help={
        "api_key": "The workspace API key (Velt Console > Configurations).",
        "auth_token": "An auth token generated in the Velt Console (Security > Auth tokens), "
        "for the same workspace as the API key.",
    },
)
AUTH_STATUSES = {"PERMISSION_DENIED", "UNAUTHENTICATED"}
TRANSIENT_STATUSES = {"RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL"}
PLACEHOLDER = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
REDACTED = "[redacted]"


# Velt's documented action types; `custom.*` are the customer's own (read by their verb).
CATEGORIES = {
    **{
        f"comment_annotation.{verb}": Category.COLLABORATION
        for verb in (
            "add",
            "delete",
            "status_change",
            "priority_change",
            "assign",
            "custom_list_change",
            "approve",
            "subscribe",
            "unsubscribe",
        )
    },
    "comment_annotation.access_mode_change": Category.PERMISSION,
    **{
        f"comment.{verb}": Category.COLLABORATION
        for verb in (
            "add",
            "update",
            "delete",
            "accept",
            "reject",
            "reaction_add",
            "reaction_delete",
        )
    },
    "reaction.add": Category.COLLABORATION,
    "reaction.delete": Category.COLLABORATION,
    "recording.add": Category.COLLABORATION,
    "recording.delete": Category.COLLABORATION,
    "crdt.editor_edit": Category.UPDATE,
}


class VeltConnector(Connector):
    spec = SPEC
    categories = CATEGORIES
    covered_streams = ("activities",)

    def client(self) -> VendorClient:
        secrets = self.source.secrets
        return self.vendor_client(
            headers={
                "x-velt-api-key": secrets["api_key"],
                "x-velt-auth-token": secrets["auth_token"],
            },
            check_body=self.check_body,
        )

    def check_body(self, body: Any, http_status: int) -> None:
        """Velt's error envelope decides, whatever the HTTP status (it may even be 200)."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return
        status, message = str(error.get("status", "")), str(error.get("message", ""))
        if status in AUTH_STATUSES:
            raise VendorAuthError(
                f"{self.describe} refused the credentials ({status}: {message}). {self.auth_hint()}"
            )
        if status in TRANSIENT_STATUSES:
            raise VendorTransientError(f"HTTP {http_status} with {status}: {message}")
        raise VendorRequestError(
            f"{self.describe} refused the request (HTTP {http_status}, {status}: {message}). "
            f"{self.request_hint()}",
            http_status,
            status,
        )

    def pages(self, client: VendorClient) -> Iterator[Page]:
        query = {
            "organizationId": self.params["organization_id"],
            "order": "desc",
            "pageSize": self.int_param("page_size", 1000, low=1, high=5000),
        }
        if self.params.get("document_id"):
            query["documentId"] = self.params["document_id"]

        after_short_page = False

        def fetch(token: str | None) -> tuple[list, str | None]:
            nonlocal after_short_page
            body = client.request(
                "POST",
                "/v2/activities/get",
                json={"data": {**query, "pageToken": token}} if token else {"data": query},
            )
            result = body.get("result") if isinstance(body, dict) else None
            rows = result.get("data") if isinstance(result, dict) else None
            if not isinstance(rows, list | None) or not isinstance(result, dict):
                raise VendorDataError(f"{self.describe} answered without a result list")
            rows = rows or []
            if not rows and after_short_page:
                return rows, None  # the end of the feed, whatever token came with it
            after_short_page = 0 < len(rows) < query["pageSize"]
            # A missing, null or empty token ends the walk.
            return rows, result.get("pageToken") or None

        yield from self.walk_newest_first("activities", fetch, resumable=False)

    def parse(self, record: dict) -> NormalizedEvent:
        record = _without_api_key(record)
        user = record.get("actionUser") if isinstance(record.get("actionUser"), dict) else {}
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        return NormalizedEvent(
            external_id=required_str(record, "id"),
            occurred_at=self.parse_time(record.get("timestamp")),
            action=record.get("actionType") or "activity",
            actor_id=user.get("userId"),
            actor_name=user.get("name"),
            actor_email=user.get("email"),
            object_type=record.get("featureType"),
            object_id=record.get("targetEntityId"),
            # The customer's own document id reads better than Velt's internal one.
            object_name=metadata.get("clientDocumentId") or metadata.get("documentId"),
            summary=render_message(
                record.get("displayMessageTemplate"),
                record.get("displayMessageTemplateData"),
                record,
            ),
            raw=record,
        )


def render_message(template: object, data: object, record: object = None) -> str:
    """Fill ``{{user}}``-style placeholders as Velt's client SDK would, from the template's
    data, else from the record itself (``{{actionUser.name}}``); one that neither holds
    reads as its name in words, never as raw braces."""
    if not isinstance(template, str):
        return ""
    sources = [value for value in (data, record) if isinstance(value, dict)]

    def lookup(values: Any, path: str) -> Any:
        for part in path.split("."):
            values = values.get(part) if isinstance(values, dict) else None
        if isinstance(values, dict):
            values = values.get("name") or values.get("email") or values.get("userId")
        return values

    def fill(match: re.Match) -> str:
        path = match.group(1)
        parent = path.rpartition(".")[0]
        for values in sources:
            # A person without the field asked for still has an email or an id.
            for candidate in (path, parent) if parent else (path,):
                value = lookup(values, candidate)
                if value is not None and not isinstance(value, list | dict):
                    return str(value)
        return _in_words(path)

    return PLACEHOLDER.sub(fill, template)


def _in_words(path: str) -> str:
    """``invoice.number`` -> ``invoice number``, ``actionUser.name`` -> ``action user name``."""
    return " ".join(CAMEL.sub(" ", part).lower() for part in path.split(".") if part)


def _without_api_key(record: dict) -> dict:
    """The workspace API key is a secret of the source: never store or show it."""
    metadata = record.get("metadata")
    if isinstance(metadata, dict) and "apiKey" in metadata:
        return {**record, "metadata": {**metadata, "apiKey": REDACTED}}
    return record
