"""The simulator's HTTP server: one port, one path prefix per vendor, faults on demand."""

from __future__ import annotations

import json
import secrets
import socket
import struct
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from activity.simulator.data import Feed, digest, stable_uuid
from activity.simulator.hostile import is_hostile, make_hostile, make_user_activity_hostile
from activity.simulator.organisation import organisation
from activity.simulator.records import (
    ORGANIZATION_ID,
    build,
    with_odd_timestamp,
    with_sdk_templates,
    with_zone_less_times_in,
)
from activity.simulator.vendors import HANDLERS, Answer, Call, sign, unsign, velt_error

VENDORS = ("lightdash", "datafold", "domo", "velt")
HTML_ERRORS = {"500": "Internal Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}
HANDLER_FAULTS = {"duplicates", "empty_page_with_cursor", "repeat_cursor"}
FAULTS = {
    "429",
    "500",
    "502",
    "503",
    "timeout",
    "slow",
    "reset",
    "truncated",
    "401",
    "velt_error_200",
    "domo_token_expire",
    *HANDLER_FAULTS,
}


class VendorSimulator:
    """All four vendor APIs on 127.0.0.1, from deterministic data (see the package docs)."""

    def __init__(
        self,
        *,
        events_per_vendor: int = 1000,
        seed: int = 1,
        port: int = 0,
        now: datetime | None = None,
        domo_token_ttl: float = 3599,
        history_days: int = 60,
        hostile: bool = False,
    ):
        self.seed = seed
        self.hostile = hostile
        self.organisation = organisation(seed)
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.domo_token_ttl = domo_token_ttl
        end_us = int(self.now.timestamp() * 1_000_000) - 60_000_000  # last event a minute ago
        start_us = end_us - history_days * 86_400_000_000
        self.feeds = {
            vendor: Feed(vendor, events_per_vendor, seed, start_us, end_us) for vendor in VENDORS
        }
        self.secrets = {
            "lightdash": {"token": f"ldpat_sim{seed}"},
            "datafold": {"api_key": f"dfk-sim-{seed}"},
            "domo": {"client_id": f"domo-client-{seed}", "client_secret": f"domo-secret-{seed}"},
            "velt": {"api_key": f"velt-key-{seed}", "auth_token": f"velt-token-{seed}"},
        }
        self.params = {
            "lightdash": {"project_uuid": stable_uuid(seed, "project")},
            "datafold": {},
            "domo": {},
            "velt": {"organization_id": ORGANIZATION_ID},
        }
        self.lightdash_service_token = f"ldsvc_sim{seed}"
        self.domo_tokens: dict[str, float] = {}
        self.domo_token_scopes: dict[str, frozenset[str]] = {}
        self.edits: dict[tuple[str, int], dict] = {}
        self._velt_key = secrets.token_bytes(16)
        self._velt_endings = 0
        self._faults: dict[str, deque] = {vendor: deque() for vendor in VENDORS}
        self._log: dict[str, list] = {vendor: [] for vendor in VENDORS}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.simulator = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, vendor: str) -> str:
        return f"{self.base_url}/{vendor}"

    def start(self) -> VendorSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> VendorSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- controls ----------------------------------------------------------------------------
    def credentials(self, vendor: str) -> dict:
        return {"params": dict(self.params[vendor]), "secrets": dict(self.secrets[vendor])}

    def record(self, vendor: str, key: int) -> dict:
        record = build(self.feeds[vendor], key, self.secrets["velt"]["api_key"])
        zone = getattr(self, "domo_time_zone", None)
        if vendor == "domo" and zone:
            record = with_zone_less_times_in(record, zone)
        if vendor == "velt" and getattr(self, "velt_sdk_templates", False):
            record = with_sdk_templates(record)
        if vendor == "datafold" and getattr(self, "datafold_odd_timestamps", False):
            record = with_odd_timestamp(record, key)
        if (vendor, key) in self.edits:
            record = {**record, **self.edits[vendor, key]}
        if self.hostile and is_hostile(key):
            return make_hostile(vendor, record, key)
        return record

    def edit(self, vendor: str, key: int, **changes: Any) -> None:
        """The vendor's customer changes a record (Velt lets them; Domo renames objects)."""
        with self._lock:
            self.edits[vendor, key] = {**self.edits.get((vendor, key), {}), **changes}

    def truth(self, vendor: str) -> list[dict]:
        """Every record the vendor serves now, oldest first."""
        feed = self.feeds[vendor]
        return [self.record(vendor, key) for key in reversed(feed.newest_first(0, feed.total()))]

    def add_events(
        self, vendor: str, count: int, *, late: bool = False, at: datetime | None = None
    ) -> None:
        """Add ``count`` events ending at ``at``: by default new ones (a minute ago), or with
        ``late`` ones that arrive now but happened 20 minutes before the data's end."""
        if at is None:
            at = self.now - timedelta(minutes=20) if late else datetime.now(UTC)
        anchor = int(at.timestamp() * 1_000_000) - 60_000_000
        times = [anchor - i * 1_000_003 for i in range(count)]
        if vendor == "domo":
            times = [t // 1_000_000 * 1_000_000 for t in times]
        with self._lock:
            self.feeds[vendor].add(times)

    def plant(self, vendor: str, records: list[tuple[datetime, dict]]) -> list[int]:
        """Add records at the given times, each with the given fields over a generated
        record's (the scenarios' known patterns); return their feed keys."""
        feed = self.feeds[vendor]
        with self._lock:
            first = len(feed.extra_times)
            feed.add([int(at.timestamp() * 1_000_000) for at, _ in records])
            keys = [-1 - (first + number) for number in range(len(records))]
            for key, (_, changes) in zip(keys, records, strict=True):
                self.edits[vendor, key] = dict(changes)
        return keys

    def inject(
        self, vendor: str, fault: str, times: int = 1, *, after: int = 0, **options: Any
    ) -> None:
        """Play ``fault`` on the vendor's next ``times`` calls, once ``after`` calls went well
        (Domo's token calls aside), so that a fault can strike mid-sync."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}: one of {sorted(FAULTS)}")
        with self._lock:
            self._faults[vendor].extend([None] * after)
            for _ in range(times):
                self._faults[vendor].append((fault, options))

    def clear_faults(self, vendor: str) -> None:
        with self._lock:
            self._faults[vendor].clear()

    def request_log(self, vendor: str) -> list[tuple[str, str, dict, Any]]:
        return list(self._log[vendor])

    # -- helpers for the vendor modules -----------------------------------------------------
    def next_fault(self, vendor: str) -> tuple[str, dict] | None:
        with self._lock:
            return self._faults[vendor].popleft() if self._faults[vendor] else None

    def velt_token(self, position: int, order: str) -> str:
        return sign(self._velt_key, {"p": position, "o": order, "t": time.time()})

    def velt_token_position(self, token: str, order: str) -> int | None:
        payload = unsign(self._velt_key, token)
        if not payload or payload.get("o") != order:
            return None
        if time.time() - float(payload.get("t", 0)) > 600:
            return None
        return int(payload["p"])

    def next_velt_ending(self) -> str:
        with self._lock:
            self._velt_endings += 1
            return ("omit", "null", "empty")[self._velt_endings % 3]

    def user_activity(self) -> dict:
        """Lightdash's aggregates, varying with the day so that snapshots differ."""
        day = datetime.now(UTC).date()
        pick = digest(self.seed, "user-activity", day)
        users = 60

        def user(index: int, count: int | None = None) -> dict:
            account = self.organisation.account("lightdash", index)
            row = {
                "userUuid": account.user_id,
                "firstName": account.first,
                "lastName": account.last,
            }
            if count:  # "count" is left out when it is 0
                row["count"] = count if index % 2 else str(count)
            return row

        days = [(day - timedelta(days=offset)) for offset in range(43)]
        document = {
            "numberUsers": users,
            "numberViewers": 30 + pick % 5,
            "numberInteractiveViewers": 12,
            "numberEditors": 10,
            "numberAdmins": 4,
            "numberWeeklyQueryingUsers": 35 + pick % 20,
            "tableMostQueries": [user(i, (pick >> i) % 40) for i in range(users)],
            "tableMostCreatedCharts": [user(i, 10 - i) for i in range(10)],
            "tableNoQueries": [user(50 + i, 91 + i) for i in range(6)],
            "chartWeeklyQueryingUsers": [
                {
                    "date": f"{d.isoformat()}T00:00:00.000Z",
                    "num_7d_active_users": str(15 + digest(d) % 25),
                    "percent_7d_active_users": str(25 + digest(d) % 40),
                }
                for d in days
            ],
            "chartWeeklyAverageQueries": [
                {
                    "date": f"{d.isoformat()}T00:00:00.000Z",
                    "average_number_of_weekly_queries_per_user": str(
                        1 + digest(d, "q") % 900 / 100
                    ),
                }
                for d in days
            ],
            "chartViews": [
                {
                    "uuid": stable_uuid(self.seed, "chart", i),
                    "name": f"Chart {i}",
                    "count": 500 - 20 * i - pick % 7,
                    "slug": f"chart-{i}",
                }
                for i in range(20)
            ],
            "dashboardViews": [
                {
                    "uuid": stable_uuid(self.seed, "dash", i),
                    "name": f"Dashboard {i}",
                    "count": 300 - 10 * i,
                }
                for i in range(20)
            ],
            "userMostViewedDashboards": [
                {
                    **user(i, 5 + i),
                    "dashboardUuid": stable_uuid(self.seed, "dash", i % 20),
                    "dashboardName": f"Dashboard {i % 20}",
                }
                for i in range(20)
            ],
        }
        return make_user_activity_hostile(document) if self.hostile else document

    # -- serving -----------------------------------------------------------------------------
    def answer(self, handler: _Handler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        vendor, _, rest = parts.path.lstrip("/").partition("/")
        if vendor == "_sim":
            return self._control(handler, method, rest, body)
        if vendor not in HANDLERS:
            return handler.send(Answer(404, {"detail": "Not Found"}))
        call = Call(
            method=method,
            path="/" + rest,
            query=dict(parse_qsl(parts.query)),
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=body,
        )
        try:
            logged_body = call.json()
        except ValueError:
            logged_body = body.decode(errors="replace")
        self._log[vendor].append((method, call.path, call.query, logged_body))
        is_token_call = vendor == "domo" and call.path == "/oauth/token"
        fault = None if is_token_call else self.next_fault(vendor)
        if fault:
            name, options = fault
            if self._play_fault(handler, vendor, call, name, options):
                return None
        handler.send(
            HANDLERS[vendor](self, call), truncated=bool(fault and fault[0] == "truncated")
        )
        return None

    def _play_fault(
        self, handler: _Handler, vendor: str, call: Call, name: str, options: dict
    ) -> bool:
        """Play a fault; True when it replaced the answer."""
        if name == "429":
            retry_after = options.get("retry_after", 1)
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            handler.send(Answer(429, {"error": "Too Many Requests"}, headers))
            return True
        if name in HTML_ERRORS:
            handler.send_html(int(name), HTML_ERRORS[name])
            return True
        if name in ("timeout", "slow"):
            time.sleep(float(options.get("seconds", 30 if name == "timeout" else 1)))
            return False
        if name == "reset":
            handler.reset()
            return True
        if name == "401":
            handler.send(_auth_error(vendor))
            return True
        if name == "velt_error_200":
            handler.send(Answer(200, velt_error(200, "RESOURCE_EXHAUSTED", "Quota exceeded").body))
            return True
        if name == "domo_token_expire":
            self.domo_tokens.clear()
            return False
        if name in HANDLER_FAULTS:
            call.fault = name
        return False

    def _control(self, handler: _Handler, method: str, rest: str, body: bytes) -> None:
        payload = json.loads(body) if body.strip() else {}
        if rest == "health":
            return handler.send(Answer(200, {"status": "ok"}))
        if rest == "credentials":
            return handler.send(Answer(200, {v: self.credentials(v) for v in VENDORS}))
        if rest.startswith("truth/") and rest[6:] in VENDORS:
            lines = "".join(json.dumps(r) + "\n" for r in self.truth(rest[6:]))
            return handler.send_raw(200, lines.encode(), "application/x-ndjson")
        if rest == "events" and method == "POST":
            self.add_events(
                payload["vendor"], int(payload["count"]), late=bool(payload.get("late"))
            )
            return handler.send(Answer(200, {"status": "ok"}))
        if rest == "faults" and method == "POST":
            options = {k: v for k, v in payload.items() if k not in ("vendor", "fault", "times")}
            options["after"] = int(options.get("after", 0))
            self.inject(
                payload["vendor"], payload["fault"], int(payload.get("times", 1)), **options
            )
            return handler.send(Answer(200, {"status": "ok"}))
        return handler.send(Answer(404, {"detail": "Not Found"}))


def _auth_error(vendor: str) -> Answer:
    return {
        "lightdash": Answer(
            401,
            {
                "status": "error",
                "error": {
                    "statusCode": 401,
                    "name": "AuthorizationError",
                    "message": "Personal access token is not recognised",
                    "data": {},
                },
            },
        ),
        "datafold": Answer(401, {"detail": "Invalid API key"}),
        "domo": Answer(
            401,
            {
                "status": 401,
                "statusReason": "Unauthorized",
                "path": "/v1/audit",
                "message": "Full authentication is required to access this resource",
            },
        ),
        "velt": Answer(
            403, {"error": {"message": "Invalid API key.", "status": "PERMISSION_DENIED"}}
        ),
    }[vendor]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VendorSimulator/1.0"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def do_GET(self) -> None:
        self.server.simulator.answer(self, "GET")  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        self.server.simulator.answer(self, "POST")  # type: ignore[attr-defined]

    def log_message(self, *args) -> None:
        pass

    def send(self, answer: Answer, truncated: bool = False) -> None:
        body = json.dumps(answer.body, separators=(",", ":")).encode()
        self.send_raw(answer.status, body, "application/json", answer.headers, truncated)

    def send_html(self, status: int, reason: str) -> None:
        page = f"<html><body><h1>{status} {reason}</h1></body></html>".encode()
        self.send_raw(status, page, "text/html; charset=utf-8")

    def send_raw(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict | None = None,
        truncated: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body[: len(body) // 2] if truncated else body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if truncated:
            self.close_connection = True

    def reset(self) -> None:
        """Close with a TCP reset, without an answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
