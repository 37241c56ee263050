"""What connectors hand to the engine: normalized events and pages with their cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DownloadFacts:
    """The download audit's columns for a Lightdash download event."""

    file_type: str
    query_uuid: str
    query_context: str
    user_uuid: str
    user_name: str


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    external_id: str
    occurred_at: datetime
    action: str
    raw: dict[str, Any]
    actor_id: object = None
    actor_name: object = None
    actor_email: object = None
    object_type: object = None
    object_id: object = None
    object_name: object = None
    summary: object = None
    ip_address: object = None
    user_agent: object = None
    download: DownloadFacts | None = None
    category: str = "other"  # activity.vocabulary.Category, set from the vendor's table
    outcome: str = "unknown"  # activity.vocabulary.Outcome, from what the record says
    # What the record says of who acted (activity.models.Person.Kind), when it says it:
    # a vendor's support staff, say. Empty: a person, unless they have no id nor email.
    actor_kind: str = ""


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str
    record: Any


@dataclass(slots=True)
class Page:
    """One vendor answer, ready to commit: its events and the stream state after it.

    The engine writes the events and ``state`` in one transaction, so a crash at any moment
    resumes from a state that matches the rows on disk.
    """

    stream: str
    state: dict[str, Any]
    events: list[NormalizedEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None
    progress: float | None = None  # 0..1 when the connector knows how far it is
    flags: list[Skipped] = field(default_factory=list)  # kept, but worth a look
    failure: str = ""  # the stream failed (its state is unchanged); other streams go on
    covered: Covered | None = None  # the stretch of time this page completes, for the ledger


@dataclass(frozen=True, slots=True)
class Covered:
    """A stretch of a stream's time read in full, and how many records the vendor gave."""

    start: datetime
    stop: datetime
    rows: int
