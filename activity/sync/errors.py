"""What can go wrong during a sync, each with a message fit to show an admin."""

from __future__ import annotations


class SyncError(Exception):
    """A sync failed; the message says what happened and what to check."""


class VendorAuthError(SyncError):
    """The vendor refused the credentials (401/403): retrying will not help."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status, when there was one


class VendorRequestError(SyncError):
    """The vendor refused the request (another 4xx): a configuration or protocol problem."""

    def __init__(self, message: str, status: int | None = None, name: str = ""):
        super().__init__(message)
        self.status = status  # the HTTP status, when there was one
        self.name = name  # the vendor's error name or code (PaginationError, INVALID_ARGUMENT)


class VendorUnavailable(SyncError):
    """The vendor kept failing (429, 5xx, timeouts, resets) past the retry budget."""


class VendorTimeout(VendorUnavailable):
    """The vendor did not answer in time, and the caller asked not to retry timeouts."""


class VendorTransientError(Exception):
    """A failure worth retrying (raised inside the client's retry loop)."""

    def __init__(self, reason: str, retry_after: float | None = None, *, timeout: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.timeout = timeout


class VendorDataError(SyncError):
    """The vendor's answer breaks its own protocol (e.g. a page token that loops)."""


class RecordError(ValueError):
    """One record cannot be normalized; the run skips it and records why."""


class DirectoryUnavailable(SyncError):
    """The credentials may not read the vendor's user directory. The message says what was
    seen and what permission to grant (``permission`` alone, for a short label); the
    activity sync goes on without the directory."""

    def __init__(self, message: str, permission: str = ""):
        super().__init__(message)
        self.permission = permission
