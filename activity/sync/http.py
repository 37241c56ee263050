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


def describe_body(response: httpx.Response) -> str:
    """A short, safe description of an error body in any vendor's shape (or HTML)."""
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or response.text.lstrip().startswith("<"):
        return "an HTML error page"
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or "an empty body"
    return error_message(body) or json.dumps(body)[:200]


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
    if body.get("message"):  # Domo gateway
        return str(body["message"])
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

    ``check_body`` lets a connector reject a 200 answer that carries an error envelope; it
    raises ``VendorTransientError`` to have it retried like a 5xx.
    """

    def __init__(
        self,
        *,
        base_url: str,
        describe: str,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        auth_hint: str = "",
        check_body: Callable[[Any], None] | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy or RetryPolicy.from_settings()
        self.describe = describe
        self.auth_hint = auth_hint
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

    def request(self, method: str, path: str, **kwargs) -> Any:
        waited = 0.0
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return self._attempt(method, path, **kwargs)
            except VendorTransientError as problem:
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
            raise VendorTransientError("the request timed out") from None
        except httpx.TransportError as error:
            raise VendorTransientError(f"connection problem ({type(error).__name__})") from None
        status = response.status_code
        if status in (401, 403):
            raise VendorAuthError(
                f"{self.describe} refused the credentials (HTTP {status}: "
                f"{describe_body(response)}). {self.auth_hint}".strip()
            )
        if status == 429 or status >= 500:
            raise VendorTransientError(
                f"HTTP {status} with {describe_body(response)}", retry_after_seconds(response)
            )
        if status >= 300:
            raise VendorRequestError(
                f"{self.describe} refused the request {method} {response.request.url.path} "
                f"(HTTP {status}: {describe_body(response)})"
            )
        try:
            body = response.json()
        except ValueError:
            raise VendorTransientError("the answer was not valid JSON (truncated?)") from None
        if self.check_body:
            self.check_body(body)
        return body
