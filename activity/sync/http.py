"""The one HTTP client every connector uses: retries, backoff, Retry-After, clear errors."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from activity.sync.errors import (
    VendorAuthError,
    VendorRequestError,
    VendorTimeout,
    VendorTransientError,
    VendorUnavailable,
)

USER_AGENT = "activity-dashboard-sync/1.0"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_base: float = 1.0  # seconds; doubles each attempt, with full jitter
    backoff_max: float = 60.0
    budget: float = 300.0  # total seconds one request may spend waiting between attempts
    timeout: float = 60.0

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(**getattr(settings, "SYNC_RETRY_POLICY", {}))

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))


def is_html(response: httpx.Response) -> bool:
    """A web page where JSON was expected: usually a wrong base URL, a login page or a proxy."""
    content_type = response.headers.get("content-type", "")
    return "html" in content_type or response.content[:512].lstrip()[:1] == b"<"


def describe_body(response: httpx.Response) -> str:
    """A short, safe description of an error body in any vendor's shape (or HTML)."""
    if is_html(response):
        return "an HTML error page"
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or "an empty body"
    return error_message(body) or json.dumps(body)[:200]


def error_name(body: Any) -> str:
    """The vendor's error code: Lightdash ``error.name``, Velt ``error.status``, OAuth ``error``."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("name") or error.get("status") or "")
    return error if isinstance(error, str) else ""


def error_message(body: Any) -> str | None:
    """The human message in Lightdash, Datafold, Domo and Velt error bodies."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):  # Lightdash {"error": {"name", "message"}}, Velt {"error": {...}}
        parts = [error.get("name") or error.get("status"), error.get("message")]
        return ": ".join(str(part) for part in parts if part) or None
    if isinstance(error, str):  # OAuth {"error": "invalid_client", "error_description"}
        return f"{error}: {body.get('error_description', '')}".rstrip(": ")
    detail = body.get("detail")  # FastAPI (Datafold)
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(map(str, item.get('loc', [])))}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    if body.get("message"):  # Domo gateway {"status", "statusReason", "path", "message", "toe"}
        reason = body.get("statusReason")
        return f"{reason}: {body['message']}" if reason else str(body["message"])
    return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class VendorClient:
    """Sends requests to one source's vendor and returns parsed JSON, or raises a SyncError.

    ``check_body(body, status)`` lets a connector read an error envelope in a 2xx or 4xx
    answer (vendors that put their own code in the body): it raises ``VendorTransientError``
    to have the request retried like a 5xx, or a ``SyncError``; returning lets the HTTP
    status decide. ``auth_hint`` and ``request_hint`` end the messages of refused
    credentials and refused requests.
    """

    def __init__(
        self,
        *,
        base_url: str,
        describe: str,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        auth_hint: str = "",
        request_hint: str = "",
        check_body: Callable[[Any, int], None] | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy or RetryPolicy.from_settings()
        self.describe = describe
        self.auth_hint = auth_hint
        self.request_hint = request_hint
        self.check_body = check_body
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(self.policy.timeout, connect=min(10.0, self.policy.timeout)),
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, *, retry_timeouts: bool = True, **kwargs) -> Any:
        """Send one request, retrying transient failures; with ``retry_timeouts=False`` a
        timeout raises ``VendorTimeout`` at once (for callers that can ask for less)."""
        waited = 0.0
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return self._attempt(method, path, **kwargs)
            except VendorTransientError as problem:
                if problem.timeout and not retry_timeouts:
                    raise VendorTimeout(
                        f"{self.describe} did not answer {method} {path} within "
                        f"{self.policy.timeout:.0f}s"
                    ) from None
                delay = (
                    problem.retry_after
                    if problem.retry_after is not None
                    else self.policy.backoff(attempt)
                )
                if attempt == self.policy.max_attempts or waited + delay > self.policy.budget:
                    raise VendorUnavailable(
                        f"{self.describe} kept failing: {problem.reason} "
                        f"(gave up after {attempt} attempts and {waited:.0f}s of waiting)"
                    ) from None
                self.sleep(delay)
                waited += delay
        raise AssertionError("unreachable")

    def _attempt(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise VendorTransientError("the request timed out", timeout=True) from None
        except httpx.TransportError as error:
            raise VendorTransientError(f"connection problem ({type(error).__name__})") from None
        status = response.status_code
        where = f"{method} {response.request.url.path}"
        if status in (401, 403):
            raise VendorAuthError(
                f"{self.describe} refused the credentials (HTTP {status}: "
                f"{describe_body(response)}). {self.auth_hint}".strip(),
                status,
            )
        if status == 429 or status >= 500:
            raise VendorTransientError(
                f"HTTP {status} with {describe_body(response)}", retry_after_seconds(response)
            )
        if 300 <= status < 400:
            location = response.headers.get("location") or "another address"
            raise VendorRequestError(
                f"{self.describe} redirected {where} to {location} (HTTP {status}). "
                f"{self.request_hint}".strip(),
                status,
            )
        if status >= 400:
            body = json_or_none(response)
            if self.check_body and body is not None:
                self.check_body(body, status)
            raise VendorRequestError(
                f"{self.describe} refused the request {where} (HTTP {status}: "
                f"{describe_body(response)}). {self.request_hint}".strip(),
                status,
                error_name(body),
            )
        if is_html(response):
            raise VendorRequestError(
                f"{self.describe} answered {where} with an HTML page instead of JSON "
                f"(HTTP {status}). {self.request_hint}".strip(),
                status,
            )
        try:
            body = response.json()
        except ValueError:
            raise VendorTransientError("the answer was not valid JSON (truncated?)") from None
        if self.check_body:
            self.check_body(body, status)
        return body


def json_or_none(response: httpx.Response) -> Any:
    """The parsed body, or ``None`` when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
