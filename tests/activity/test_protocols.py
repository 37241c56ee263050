"""Each vendor's documented protocol, case by case, over real HTTP.

Most cases run against the vendor simulator; the few answers it does not give (a vendor
ignoring its page parameter, an error code inside an HTTP 4xx) come from a scripted server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from activity.models import Source, SyncRun
from activity.sync.engine import sync_source
from tests.activity.conftest import VENDORS, event_count, stored_records, truth_records

pytestmark = pytest.mark.django_db(transaction=True)

Reply = tuple[int, str, bytes]  # status, content type, body


class Scripted:
    """A one-port HTTP server whose answers come from ``reply(method, path, query, body)``."""

    def __init__(self, reply: Callable[[str, str, dict, bytes], Reply]):
        self.calls: list[tuple[str, str, dict, bytes]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                call = (self.command, parts.path, dict(parse_qsl(parts.query)), body)
                scripted.calls.append(call)
                status, content_type, payload = reply(*call)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers: list[Scripted] = []

    def start(reply: Callable[[str, str, dict, bytes], Reply]) -> Scripted:
        servers.append(Scripted(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def as_json(status: int, body: object) -> Reply:
    return status, "application/json", json.dumps(body).encode()


def scripted_source(vendor: str, url: str) -> Source:
    params = {
        "lightdash": {"project_uuid": "p-1", "page_size": "2"},
        "datafold": {},
        "domo": {},
        "velt": {"organization_id": "org-1"},
    }[vendor]
    secrets = {
        "lightdash": {"token": "ldpat_scripted"},
        "datafold": {"api_key": "dfk-scripted"},
        "domo": {"client_id": "cid-scripted", "client_secret": "secret-scripted"},
        "velt": {"api_key": "vk-scripted", "auth_token": "vt-scripted"},
    }[vendor]
    source = Source(vendor=vendor, name=f"{vendor}-scripted", base_url=url, params=params)
    source.secrets = secrets
    source.save()
    return source


def succeeded(run: SyncRun) -> bool:
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return True


# -- every vendor ---------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("status", [200, 404])
def test_a_wrong_base_url_serving_web_pages_fails_at_once_with_a_clear_message(
    scripted, vendor, status
):
    page = b"<!doctype html><html><body>Welcome</body></html>"
    server = scripted(lambda *call: (status, "text/html; charset=utf-8", page))
    source = scripted_source(vendor, server.url)
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "HTML" in run.error and "base URL" in run.error and source.name in run.error
    # No retries: one try for the feed and, first, one for the user directory where the vendor
    # has one (Domo tries GET, then POST, for each token).
    tries = {"lightdash": 2 + 1, "domo": 2 + 2}.get(vendor, 2)
    assert len(server.calls) <= tries
    for secret in source.secrets.values():
        assert secret not in run.error


# -- Lightdash -------------------------------------------------------------------------------
def test_lightdash_an_exactly_full_last_page_is_followed_by_one_empty_page(simulator, source_for):
    source = source_for(simulator, "lightdash", page_size="100")  # 600 downloads: 6 full pages
    assert succeeded(sync_source(source))
    pages = [
        query
        for _method, path, query, _body in simulator.request_log("lightdash")
        if path.endswith("/download-activity")
    ]
    assert [int(query["page"]) for query in pages] == [1, 2, 3, 4, 5, 6, 7]
    assert all(query["pageSize"] == "100" and "cursor" not in query for query in pages)
    assert stored_records(source) == truth_records(simulator, "lightdash")


def test_lightdash_service_account_tokens_are_sent_as_bearer(simulator, source_for):
    source = source_for(simulator, "lightdash")
    source.secrets = {"token": simulator.lightdash_service_token}  # ldsvc_...: ApiKey is refused
    source.save()
    assert succeeded(sync_source(source))
    assert stored_records(source) == truth_records(simulator, "lightdash")


def test_lightdash_an_instance_with_a_smaller_page_size_cap_is_paged_anyway(simulator, source_for):
    simulator.lightdash_max_page_size = 40  # its LIGHTDASH_QUERY_MAX_PAGE_SIZE: 422 above
    source = source_for(simulator, "lightdash", page_size="100")
    assert succeeded(sync_source(source))
    assert stored_records(source) == truth_records(simulator, "lightdash")
    sizes = {
        query["pageSize"]
        for _m, path, query, _b in simulator.request_log("lightdash")
        if path.endswith("/download-activity")
    }
    assert sizes == {"100", "50", "25"}


def test_lightdash_an_unknown_project_fails_naming_what_to_check(simulator, source_for):
    source = source_for(simulator, "lightdash", project_uuid="00000000-0000-0000-0000-000000000000")
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 404" in run.error and "NotExistsError" in run.error
    assert "project_uuid" in run.error and "base URL" in run.error


def test_lightdash_without_page_size_or_above_the_cap_answers_422(simulator):
    project = simulator.params["lightdash"]["project_uuid"]
    url = f"{simulator.url('lightdash')}/api/v1/analytics/user-activity/{project}/download-activity"
    headers = {"Authorization": f"ApiKey {simulator.secrets['lightdash']['token']}"}
    missing = httpx.get(url, headers=headers)
    too_big = httpx.get(url, headers=headers, params={"pageSize": 2501})
    assert (missing.status_code, missing.json()["error"]["name"]) == (422, "ValidateError")
    assert (too_big.status_code, too_big.json()["error"]["name"]) == (422, "PaginationError")
    assert too_big.json()["status"] == "error"


def test_lightdash_a_vendor_ignoring_the_page_parameter_stops_instead_of_looping(scripted):
    rows = [
        {
            "downloadUuid": f"d-{n}",
            "queryUuid": "q",
            "userUuid": None,
            "userFirstName": None,
            "userLastName": None,
            "fileType": "csv",
            "downloadedAt": f"2026-11-20T10:15:3{n}.000Z",
            "originalQueryContext": None,
        }
        for n in (2, 1)
    ]
    pagination = {"page": 1, "pageSize": 2, "totalResults": None, "totalPageCount": None}

    def reply(method, path, query, body):
        if len(server.calls) > 10:  # a broken guard fails the test instead of hanging it
            return as_json(400, {"status": "error", "error": {"name": "Looping"}})
        if path.endswith("/download-activity"):
            results = {"data": rows, "pagination": {**pagination, "nextCursor": None}}
        else:
            results = {"numberUsers": 1}
        return as_json(200, {"status": "ok", "results": results})

    server = scripted(reply)
    run = sync_source(scripted_source("lightdash", server.url))
    assert run.status == SyncRun.Status.FAILED
    assert "same page twice" in run.error
    assert len(server.calls) == 4  # the user directory, user activity, page 1, page 2


# -- Datafold --------------------------------------------------------------------------------
def test_datafold_windows_longer_than_the_vendor_accepts_are_halved(simulator, source_for):
    simulator.datafold_max_window = timedelta(hours=5)  # undocumented; 422 beyond it
    source = source_for(simulator, "datafold")
    assert succeeded(sync_source(source))
    assert stored_records(source) == truth_records(simulator, "datafold")
    spans = [
        datetime.fromisoformat(body["end_date"]) - datetime.fromisoformat(body["start_date"])
        for *_, body in simulator.request_log("datafold")
    ]
    assert max(spans) > timedelta(hours=5)  # it tried, was refused, and shrank
    assert len([span for span in spans if span > timedelta(hours=5)]) == 1


def test_datafold_a_window_refused_even_at_one_minute_fails_with_the_vendors_reason(
    simulator, source_for
):
    simulator.datafold_max_window = timedelta(seconds=30)
    source = source_for(simulator, "datafold")
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 422" in run.error and "at most" in run.error
    spans = [body["end_date"] for *_, body in simulator.request_log("datafold")]
    assert len(spans) == 7  # 60, 30, 15, 7.5, 3.75, 1.875 and 1 minute


def test_datafold_a_window_that_times_out_is_asked_again_smaller(simulator, source_for):
    source = source_for(simulator, "datafold")
    simulator.inject("datafold", "timeout", times=1, seconds=6)  # the test client waits 5 s
    assert succeeded(sync_source(source))
    assert stored_records(source) == truth_records(simulator, "datafold")
    first, second = [body for *_, body in simulator.request_log("datafold")][:2]
    assert first["start_date"] == second["start_date"]
    assert second["end_date"] < first["end_date"]


def test_datafold_get_body_null_or_reversed_follows_the_documents(simulator):
    url = f"{simulator.url('datafold')}/api/v1/audit_logs"
    headers = {"Authorization": f"Key {simulator.secrets['datafold']['api_key']}"}
    with httpx.Client(headers=headers) as client:
        default = client.request("GET", url)
        reversed_range = client.request(
            "GET",
            url,
            json={"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"},
        )
        no_prefix = client.request("GET", url, headers={"Authorization": "dfk-sim-7"})
    assert default.status_code == 200 and isinstance(default.json()["logs"], list)
    assert reversed_range.status_code == 422
    assert reversed_range.json()["detail"][0]["loc"] == ["body", "start_date"]
    assert no_prefix.status_code == 401


# -- Domo ------------------------------------------------------------------------------------
def domo_simulator(**settings):
    from activity.simulator import VendorSimulator

    sim = VendorSimulator(events_per_vendor=0, seed=11)
    for name, value in settings.items():
        setattr(sim, name, value)
    return sim


def test_domo_token_is_fetched_with_a_get_as_documented(simulator, source_for):
    assert succeeded(sync_source(source_for(simulator, "domo")))
    token_calls = [m for m, path, *_ in simulator.request_log("domo") if path == "/oauth/token"]
    assert token_calls == ["GET"]


def test_domo_token_falls_back_to_a_post_when_the_get_is_refused(source_for):
    with domo_simulator(domo_token_methods=("POST",)) as sim:
        sim.add_events("domo", 30, at=datetime.now(UTC) - timedelta(hours=3))
        source = source_for(sim, "domo")
        assert succeeded(sync_source(source))
        calls = [(m, path) for m, path, *_ in sim.request_log("domo")]
        assert calls[:2] == [("GET", "/oauth/token"), ("POST", "/oauth/token")]
        assert ("GET", "/oauth/token") not in calls[2:]
        assert stored_records(source) == truth_records(sim, "domo")


def test_domo_an_exactly_full_page_of_1000_is_followed_by_one_empty_page(source_for):
    with domo_simulator() as sim:
        sim.add_events("domo", 1000, at=datetime.now(UTC).replace(minute=40) - timedelta(hours=3))
        source = source_for(sim, "domo")
        assert succeeded(sync_source(source))
        pages = [
            (int(query["offset"]), int(query["limit"]))
            for _m, path, query, _b in sim.request_log("domo")
            if path == "/v1/audit"
        ]
        assert (0, 1000) in pages and (1000, 1000) in pages
        assert max(offset for offset, _ in pages) == 1000
        assert event_count(source) == 1000
        assert stored_records(source) == truth_records(sim, "domo")


def test_domo_a_single_record_answered_as_a_bare_object_is_kept(source_for):
    with domo_simulator(domo_bare_single=True) as sim:
        sim.add_events("domo", 1, at=datetime.now(UTC) - timedelta(hours=3))
        source = source_for(sim, "domo")
        assert succeeded(sync_source(source))
        assert stored_records(source) == truth_records(sim, "domo")


def test_domo_rereading_buckets_in_other_window_sizes_adds_nothing(simulator, source_for):
    source = source_for(simulator, "domo")
    assert succeeded(sync_source(source))
    since = simulator.now - timedelta(days=61, minutes=30)
    until = simulator.now - timedelta(days=3)
    again = sync_source(source, since=since, until=until)  # other starts, other growth
    assert succeeded(again)
    assert again.events_seen > 0 and again.events_new == 0
    assert stored_records(source) == truth_records(simulator, "domo")


def test_domo_a_refused_client_fails_naming_the_audit_scope_to_check(simulator, source_for):
    source = source_for(simulator, "domo")
    simulator.secrets["domo"]["client_id"] = "another-client"
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "refused the credentials" in run.error and "audit scope" in run.error


# -- Velt ------------------------------------------------------------------------------------
def velt_page(rows: list, token: object = "absent") -> Reply:
    result = {"status": "success", "message": "Activity(s) retrieved successfully.", "data": rows}
    if token != "absent":
        result["pageToken"] = token
    return as_json(200, {"result": result})


def velt_row(n: int) -> dict:
    return {
        "id": f"activity-{n}",
        "featureType": "comment",
        "actionType": "comment.add",
        "actionUser": {"userId": "u-1"},
        "metadata": {"apiKey": "vk-scripted", "organizationId": "org-1"},
        "timestamp": 1722409519944 + n,
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "DEADLINE_EXCEEDED"), (429, "RESOURCE_EXHAUSTED"), (200, "UNAVAILABLE")],
)
def test_velt_error_codes_worth_retrying_are_retried_whatever_the_http_status(
    scripted, status, code
):
    answers = [as_json(status, {"error": {"message": "try later", "status": code}})]

    def reply(method, path, query, body):
        return answers.pop() if answers else velt_page([velt_row(1)], None)

    server = scripted(reply)
    source = scripted_source("velt", server.url)
    assert succeeded(sync_source(source))
    assert event_count(source) == 1
    method, path, _query, body = server.calls[0]
    assert (method, path) == ("POST", "/v2/activities/get")
    assert json.loads(body) == {
        "data": {"organizationId": "org-1", "order": "desc", "pageSize": 1000}
    }


@pytest.mark.parametrize("status", [200, 400])
def test_velt_not_found_or_invalid_argument_fails_clearly_without_retrying(scripted, status):
    server = scripted(
        lambda *call: as_json(
            status, {"error": {"message": "Organization not found.", "status": "NOT_FOUND"}}
        )
    )
    source = scripted_source("velt", server.url)
    run = sync_source(source)
    assert run.status == SyncRun.Status.FAILED
    assert "NOT_FOUND" in run.error and "organization_id" in run.error
    assert len(server.calls) == 1


@pytest.mark.parametrize("ending", ["absent", None, ""])
def test_velt_a_missing_null_or_empty_page_token_ends_the_walk(scripted, ending):
    def reply(method, path, query, body):
        token = json.loads(body)["data"].get("pageToken")
        if token is None:
            return velt_page([velt_row(3), velt_row(2)], "next-1")
        return velt_page([velt_row(1)], ending)

    server = scripted(reply)
    source = scripted_source("velt", server.url)
    assert succeeded(sync_source(source))
    assert len(server.calls) == 2 and event_count(source) == 3
    stored = "".join(source.events.values_list("raw", flat=True))
    assert "vk-scripted" not in stored


def test_velt_a_request_without_the_data_wrapper_is_invalid_argument(simulator):
    headers = {
        "x-velt-api-key": simulator.secrets["velt"]["api_key"],
        "x-velt-auth-token": simulator.secrets["velt"]["auth_token"],
    }
    url = f"{simulator.url('velt')}/v2/activities/get"
    answer = httpx.post(url, headers=headers, json={"organizationId": "org-simulated"})
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
