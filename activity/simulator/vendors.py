"""The four vendor APIs, each answering as its documents say (errors included)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from activity.simulator.records import ORGANIZATION_ID

if TYPE_CHECKING:
    from activity.simulator.organisation import Account
    from activity.simulator.server import VendorSimulator

LIGHTDASH_MAX_PAGE_SIZE = 2500
DOMO_MAX_LIMIT = 1000
DOMO_MAX_USERS_LIMIT = 500
DOMO_CLIENT_SCOPES = ("audit", "user")
LIGHTDASH_ORGANIZATION_UUID = "6a0f3c39-1f0e-4c4e-9d53-2b1d7a5c0e11"
VELT_TOKEN_LIFETIME = 600.0
# Settings a test may put on a simulator to play documented variations (read with getattr):
#   lightdash_max_page_size: an instance's LIGHTDASH_QUERY_MAX_PAGE_SIZE (default 2500);
#   datafold_max_window: a timedelta; longer windows answer 422 (the real maximum is unknown);
#   domo_token_methods: the methods the token endpoint accepts (default GET and POST);
#   domo_bare_single: answer a one-record page as the bare object the documents show.
# And the vendors' other possible behaviours, which the connectors check for at run time:
#   lightdash_user_activity_seconds: user activity takes this long to compute;
#   lightdash_without_downloads: an instance older than the download-activity route (404);
#   datafold_ignore_body: the GET's JSON body is lost (a proxy), the default range applies;
#   datafold_answer_cap: an answer holds at most this many logs (the oldest), silently;
#   datafold_odd_timestamps: some times carry a zone name or AM/PM a lenient parser drops;
#   domo_time_zone: zone-less times are written in this IANA zone, not UTC;
#   domo_shuffle: each answer comes in another order (the order is undocumented);
#   domo_page_cap: pages hold at most this many rows, whatever the limit asked;
#   velt_token_on_last_page: the last page still carries a token, to an empty page;
#   velt_sdk_templates: records carry clientDocumentId and {{actionUser.name}} templates.
# And the directories (organization members, users):
#   lightdash_directory_forbidden: the token's user may not list members (403);
#   lightdash_directory_shape: "paged" (newest), "no_total" (older servers omit totalResults)
#     or "bare" (servers before paging: ``results`` is the bare list, paging ignored);
#   lightdash_directory_hidden: uuids the caller may not see, filtered after the page is cut
#     (so pages come short while the totals count them);
#   domo_client_scopes: the scopes the API client was created with (default audit and user);
#     a token asked for more gets only these, and says so in its ``scope``;
#   domo_strict_scopes: a token asked for a scope the client lacks is refused (invalid_scope);
#   domo_users_unchecked: the users list answers any token (only the token's scope tells).


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    fault: str = ""  # a vendor-level fault to play on this call

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


def _parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


# -- Lightdash ----------------------------------------------------------------------------
def lightdash_error(status: int, name: str, message: str) -> Answer:
    return Answer(
        status,
        {
            "status": "error",
            "error": {"statusCode": status, "name": name, "message": message, "data": {}},
        },
    )


def lightdash(sim: VendorSimulator, call: Call) -> Answer:
    auth = call.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    valid = (scheme == "ApiKey" and token == sim.secrets["lightdash"]["token"]) or (
        scheme == "Bearer" and token.startswith("ldsvc_") and token == sim.lightdash_service_token
    )
    if not valid:
        return lightdash_error(401, "AuthorizationError", "Failed to authorize user")
    if call.path == "/api/v1/org/users" and call.method == "GET":
        return _lightdash_members(sim, call)
    prefix = "/api/v1/analytics/user-activity/"
    if not call.path.startswith(prefix):
        return lightdash_error(404, "NotFoundError", "Route not found")
    project, _, rest = call.path[len(prefix) :].partition("/")
    if rest not in ("", "download-activity"):
        return lightdash_error(404, "NotFoundError", "Route not found")
    if rest == "download-activity" and getattr(sim, "lightdash_without_downloads", False):
        return lightdash_error(404, "NotFoundError", f"Cannot GET {call.path}")
    if rest == "download-activity":
        most = getattr(sim, "lightdash_max_page_size", LIGHTDASH_MAX_PAGE_SIZE)
        size_error = _lightdash_page_size(call.query, most)
        if isinstance(size_error, Answer):
            return size_error
    if project != sim.params["lightdash"]["project_uuid"]:
        return lightdash_error(404, "NotExistsError", "Project not found")
    if rest == "":
        time.sleep(getattr(sim, "lightdash_user_activity_seconds", 0))
        return Answer(200, {"status": "ok", "results": sim.user_activity()})
    return _lightdash_downloads(sim, call, size_error)


def _lightdash_page_size(query: dict[str, str], most: int) -> int | Answer:
    raw = query.get("pageSize")
    try:
        size = float(raw) if raw is not None else None
    except ValueError:
        size = None
    if size is None:
        return lightdash_error(422, "ValidateError", "pageSize is required and must be a number")
    if size < 1 or size > most:
        return lightdash_error(422, "PaginationError", f"pageSize must be between 1 and {most}")
    return int(size)


def _lightdash_downloads(sim: VendorSimulator, call: Call, size: int) -> Answer:
    feed = sim.feeds["lightdash"]
    cursor = call.query.get("cursor")
    if cursor:
        try:
            decoded = json.loads(base64.b64decode(cursor, validate=True))
            at_us = _us(_parse_iso(decoded["at"]))
            after_uuid = str(decoded["uuid"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            return lightdash_error(400, "ParameterError", f"Invalid cursor: {cursor[:40]}")
        offset = _first_position_below(sim, at_us, after_uuid)
        page = None
    else:
        try:
            page = int(float(call.query.get("page", "1")))
        except ValueError:
            return lightdash_error(422, "ValidateError", "page must be a number")
        if page < 1:
            return lightdash_error(422, "PaginationError", "page must be 1 or more")
        offset = (page - 1) * size
    keys = feed.newest_first(offset, size)
    rows = [sim.record("lightdash", key) for key in keys]
    if call.fault == "duplicates" and offset > 0:
        rows = [sim.record("lightdash", k) for k in feed.newest_first(offset - 2, 2)] + rows
    next_cursor = None
    if len(keys) == size and rows:
        last = rows[-1]
        at = last["downloadedAt"][:23] + "Z"  # milliseconds only, as the real API does
        next_cursor = base64.b64encode(
            json.dumps({"at": at, "uuid": last["downloadUuid"]}).encode()
        ).decode()
    if call.fault == "empty_page_with_cursor":
        rows, next_cursor = [], next_cursor or cursor
    if call.fault == "repeat_cursor" and cursor:
        next_cursor = cursor
    total = feed.total()
    pagination = {
        "page": page,
        "pageSize": size,
        "totalResults": total if page else None,
        "totalPageCount": -(-total // size) if page else None,
        "nextCursor": next_cursor,
    }
    return Answer(200, {"status": "ok", "results": {"data": rows, "pagination": pagination}})


def _lightdash_members(sim: VendorSimulator, call: Call) -> Answer:
    """``ListOrganizationMembers``: every member in one answer unless both ``page`` and
    ``pageSize`` are given; rows the caller may not see are dropped after the page is cut."""
    if getattr(sim, "lightdash_directory_forbidden", False):
        return lightdash_error(
            403, "ForbiddenError", "You don't have access to view organization members"
        )
    shape = getattr(sim, "lightdash_directory_shape", "paged")
    members = [
        _lightdash_member(account, shape) for account in sim.organisation.directory("lightdash")
    ]
    hidden = set(getattr(sim, "lightdash_directory_hidden", ()))
    if shape == "bare":
        rows = [row for row in members if row["userUuid"] not in hidden]
        return Answer(200, {"status": "ok", "results": rows})
    try:
        page = int(float(call.query.get("page") or 0))
        size = int(float(call.query.get("pageSize") or 0))
    except ValueError:
        return lightdash_error(422, "ValidateError", "page and pageSize must be numbers")
    if page < 0 or size < 0:
        return lightdash_error(422, "KnexPaginationError", "page and pageSize must be positive")
    if not (page and size):
        rows = [row for row in members if row["userUuid"] not in hidden]
        return Answer(200, {"status": "ok", "results": {"data": rows}})
    offset = (page - 1) * size
    rows = members[offset : offset + size]
    if call.fault == "duplicates" and offset > 0:
        rows = members[offset - 1 : offset] + rows  # the order shifted between two pages
    rows = [row for row in rows if row["userUuid"] not in hidden]
    pagination = {"page": page, "pageSize": size, "totalPageCount": -(-len(members) // size)}
    if shape != "no_total":
        pagination["totalResults"] = len(members)
    return Answer(200, {"status": "ok", "results": {"data": rows, "pagination": pagination}})


def _lightdash_member(account: Account, shape: str) -> dict:
    pending = account.pending
    row = {
        "userUuid": account.user_id,
        "firstName": "" if pending else account.first,
        "lastName": "" if pending else account.last,
        "email": account.email,
        "organizationUuid": LIGHTDASH_ORGANIZATION_UUID,
        "role": account.role,
        "isActive": account.active,
        "isInviteExpired": False,
    }
    if shape == "paged":
        row |= {
            "roleUuid": None,
            "hasMultipleRoles": False,
            "isPending": pending,
            "userCreatedAt": "2025-03-04T09:10:11.000Z",
            "userUpdatedAt": "2026-01-02T03:04:05.000Z",
            "avatarUrl": None,
            "avatarGradient": None,
        }
    return row


def _first_position_below(sim: VendorSimulator, at_us: int, uuid: str) -> int:
    """Newest-first position of the first row with (time, uuid) < (at, uuid)."""
    feed = sim.feeds["lightdash"]
    low, high = 0, feed.total()
    while low < high:
        middle = (low + high) // 2
        key = feed.newest_first(middle, 1)[0]
        row_time = feed.time_of_key(key)
        row_uuid = sim.record("lightdash", key)["downloadUuid"] if row_time == at_us else ""
        if (row_time, row_uuid) < (at_us, uuid):
            high = middle
        else:
            low = middle + 1
    return low


# -- Datafold -----------------------------------------------------------------------------
def datafold(sim: VendorSimulator, call: Call) -> Answer:
    scheme, _, key = call.headers.get("authorization", "").partition(" ")
    if scheme != "Key" or key != sim.secrets["datafold"]["api_key"]:
        return Answer(401, {"detail": "Invalid API key"})
    if call.path != "/api/v1/audit_logs" or call.method != "GET":
        return Answer(404, {"detail": "Not Found"})
    try:
        body = call.json()
    except ValueError:
        return _validation("body", "Input should be a valid JSON object", "json_invalid")
    if getattr(sim, "datafold_ignore_body", False):
        body = None
    body = body or {}
    if not isinstance(body, dict):
        return _validation("body", "Input should be a valid dictionary", "dict_type")
    bounds = {}
    for name, default in (("start_date", sim.now - timedelta(days=7)), ("end_date", sim.now)):
        value = body.get(name)
        if value is None:
            bounds[name] = default
            continue
        try:
            bounds[name] = _parse_iso(str(value))
        except ValueError:
            return _validation(name, "Input should be a valid datetime", "datetime_parsing")
    if bounds["start_date"] > bounds["end_date"]:
        return _validation("start_date", "start_date must be before end_date", "value_error")
    most = getattr(sim, "datafold_max_window", None)
    if most is not None and bounds["end_date"] - bounds["start_date"] > most:
        return _validation("end_date", f"the range may span at most {most}", "value_error")
    feed = sim.feeds["datafold"]
    keys = feed.keys_between(_us(bounds["start_date"]), _us(bounds["end_date"]))
    keys = keys[: getattr(sim, "datafold_answer_cap", None)]
    return Answer(200, {"logs": [sim.record("datafold", key) for key in keys]})


def _validation(field_name: str, message: str, kind: str) -> Answer:
    return Answer(422, {"detail": [{"loc": ["body", field_name], "msg": message, "type": kind}]})


# -- Domo ---------------------------------------------------------------------------------
def domo(sim: VendorSimulator, call: Call) -> Answer:
    if call.path == "/oauth/token":
        return _domo_token(sim, call)
    scheme, _, token = call.headers.get("authorization", "").partition(" ")
    expiry = sim.domo_tokens.get(token) if scheme.lower() == "bearer" else None
    if expiry is None or expiry < time.monotonic():
        return Answer(
            401,
            {
                "status": 401,
                "statusReason": "Unauthorized",
                "path": call.path,
                "message": "Full authentication is required to access this resource",
                "toe": secrets.token_hex(8),
            },
        )
    if call.path == "/v1/users" and call.method == "GET":
        return _domo_users(sim, call, sim.domo_token_scopes.get(token, frozenset()))
    if call.path != "/v1/audit" or call.method != "GET":
        return Answer(
            404,
            {"status": 404, "statusReason": "Not Found", "path": call.path, "message": "Not Found"},
        )
    try:
        start = int(call.query["start"])
        end = int(call.query.get("end", int(sim.now.timestamp() * 1000)))
        limit = int(call.query.get("limit", 50))
        offset = int(call.query.get("offset", 0))
    except (KeyError, ValueError):
        return _domo_bad_request(call.path, "start (epoch milliseconds) is required")
    if limit > DOMO_MAX_LIMIT or limit < 1 or offset < 0:
        return _domo_bad_request(call.path, f"limit must be between 1 and {DOMO_MAX_LIMIT}")
    keys = sim.feeds["domo"].keys_between(start * 1000, end * 1000)[::-1]  # newest first
    if getattr(sim, "domo_shuffle", False):
        random.Random(secrets.randbits(64)).shuffle(keys)
    limit = min(limit, getattr(sim, "domo_page_cap", limit))
    rows = [sim.record("domo", key) for key in keys[offset : offset + limit]]
    if len(rows) == 1 and getattr(sim, "domo_bare_single", False):
        return Answer(200, rows[0])
    return Answer(200, rows)


def _domo_users(sim: VendorSimulator, call: Call, scopes: frozenset[str]) -> Answer:
    """List users: a bare array, ``limit`` up to 500 from ``offset``, empty past the end."""
    if "user" not in scopes and not getattr(sim, "domo_users_unchecked", False):
        return Answer(
            403,
            {
                "status": 403,
                "statusReason": "Forbidden",
                "path": call.path,
                "message": "Access is denied",
                "toe": secrets.token_hex(8),
            },
        )
    try:
        limit = int(call.query.get("limit", 50))
        offset = int(call.query.get("offset", 0))
    except ValueError:
        return _domo_bad_request(call.path, "limit and offset must be whole numbers")
    if limit > DOMO_MAX_USERS_LIMIT or limit < 1 or offset < 0:
        return _domo_bad_request(call.path, f"limit must be between 1 and {DOMO_MAX_USERS_LIMIT}")
    members = sim.organisation.directory("domo")[offset : offset + limit]
    return Answer(
        200,
        [
            {
                "id": int(account.user_id),
                "name": account.name,
                "email": account.email,
                "role": account.role,
                "title": "",
                "phone": "",
            }
            for account in members
        ],
    )


def _domo_bad_request(path: str, message: str) -> Answer:
    return Answer(
        400,
        {
            "status": 400,
            "statusReason": "Bad Request",
            "path": path,
            "message": message,
            "toe": secrets.token_hex(8),
        },
    )


def _domo_token(sim: VendorSimulator, call: Call) -> Answer:
    expected = base64.b64encode(
        f"{sim.secrets['domo']['client_id']}:{sim.secrets['domo']['client_secret']}".encode()
    ).decode()
    if call.method not in getattr(sim, "domo_token_methods", ("GET", "POST")):
        return Answer(
            405,
            {
                "status": 405,
                "statusReason": "Method Not Allowed",
                "path": call.path,
                "message": f"Request method '{call.method}' not supported",
                "toe": secrets.token_hex(8),
            },
        )
    form = dict(call.query)
    if call.method == "POST" and call.body:
        from urllib.parse import parse_qsl

        form.update(parse_qsl(call.body.decode(errors="replace")))
    if call.headers.get("authorization", "") != f"Basic {expected}":
        return Answer(
            401, {"error": "invalid_client", "error_description": "Bad client credentials"}
        )
    if form.get("grant_type") != "client_credentials":
        return Answer(
            400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}
        )
    held = frozenset(getattr(sim, "domo_client_scopes", DOMO_CLIENT_SCOPES))
    asked = frozenset(form.get("scope", "").split()) or held  # no scope: all of the client's
    strict = getattr(sim, "domo_strict_scopes", False)
    if "audit" not in asked & held or (strict and not asked <= held):
        return Answer(400, {"error": "invalid_scope", "error_description": "Invalid scope"})
    token = secrets.token_urlsafe(24)
    sim.domo_tokens[token] = time.monotonic() + sim.domo_token_ttl
    sim.domo_token_scopes[token] = asked & held
    return Answer(
        200,
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": sim.domo_token_ttl,
            "scope": " ".join(sorted(asked & held)),
            "customer": "sim",
            "role": "Admin",
            "userId": 1619916076,
            "jti": secrets.token_hex(8),
        },
    )


# -- Velt ---------------------------------------------------------------------------------
def velt_error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"error": {"message": message, "status": code}})


def velt(sim: VendorSimulator, call: Call) -> Answer:
    if (
        call.headers.get("x-velt-api-key") != sim.secrets["velt"]["api_key"]
        or call.headers.get("x-velt-auth-token") != sim.secrets["velt"]["auth_token"]
    ):
        return velt_error(403, "PERMISSION_DENIED", "Invalid API key.")
    if call.path != "/v2/activities/get" or call.method != "POST":
        return velt_error(404, "NOT_FOUND", "Not found.")
    try:
        body = call.json()
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("organizationId"):
        return velt_error(400, "INVALID_ARGUMENT", "data.organizationId is required.")
    order = data.get("order", "desc")
    size = data.get("pageSize", 1000)
    if order not in ("asc", "desc") or not isinstance(size, int) or size < 1:
        return velt_error(400, "INVALID_ARGUMENT", "Invalid order or pageSize.")
    position = 0
    if data.get("pageToken"):
        position = sim.velt_token_position(str(data["pageToken"]), order)
        if position is None:
            return velt_error(400, "INVALID_ARGUMENT", "Invalid or expired pageToken.")
    feed = sim.feeds["velt"]
    wanted = {key: data[key] for key in ("documentId", "userId", "targetEntityId") if data.get(key)}
    kinds = {
        key: set(data[key])
        for key in ("featureTypes", "actionTypes", "activityIds")
        if isinstance(data.get(key), list)
    }
    rows, scanned = [], position
    total = feed.total() if data["organizationId"] == ORGANIZATION_ID else 0
    while len(rows) < size and scanned < total:
        chunk = (
            feed.newest_first(scanned, size)
            if order == "desc"
            else [
                feed.newest_first(total - 1 - p, 1)[0]
                for p in range(scanned, min(total, scanned + size))
            ]
        )
        for key in chunk:
            scanned += 1
            record = sim.record("velt", key)
            if _velt_matches(record, wanted, kinds):
                rows.append(record)
                if len(rows) == size:
                    break
    token: str | None = sim.velt_token(scanned, order) if scanned < total else None
    if getattr(sim, "velt_token_on_last_page", False):
        token = sim.velt_token(scanned, order)  # even the last page, and the empty one after
    if call.fault == "duplicates" and position > 0:
        rows = [sim.record("velt", feed.newest_first(position - 1, 1)[0]), *rows]
    if call.fault == "empty_page_with_cursor":
        rows, token = [], sim.velt_token(position, order)
    if call.fault == "repeat_cursor":
        token = data.get("pageToken") or sim.velt_token(0, order)
    result: dict[str, Any] = {
        "status": "success",
        "message": "Activity(s) retrieved successfully.",
        "data": rows,
    }
    if token:
        result["pageToken"] = token
    else:
        ending = sim.next_velt_ending()  # the last page: no token, null, or ""
        if ending != "omit":
            result["pageToken"] = None if ending == "null" else ""
    return Answer(200, {"result": result})


def _velt_matches(record: dict, wanted: dict, kinds: dict) -> bool:
    metadata, user = record.get("metadata") or {}, record.get("actionUser") or {}
    values = {
        "documentId": metadata.get("documentId"),
        "userId": user.get("userId"),
        "targetEntityId": record.get("targetEntityId"),
    }
    if any(values[key] != value for key, value in wanted.items()):
        return False
    fields = {
        "featureTypes": record.get("featureType"),
        "actionTypes": record.get("actionType"),
        "activityIds": record.get("id"),
    }
    return all(fields[key] in allowed for key, allowed in kinds.items())


def sign(key: bytes, payload: dict) -> str:
    data = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    mac = hmac.new(key, data.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{data}.{mac}"


def unsign(key: bytes, token: str) -> dict | None:
    data, _, mac = token.partition(".")
    expected = hmac.new(key, data.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(data))
    except (ValueError, binascii.Error):
        return None


HANDLERS = {"lightdash": lightdash, "datafold": datafold, "domo": domo, "velt": velt}
