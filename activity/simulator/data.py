"""Deterministic fake vendor data, generated from each record's index (no big lists in memory).

Record ``i`` of a vendor happens at ``start + i * step``: times grow with the index, so a
time window or a newest-first page is arithmetic, even at a million records per vendor.
Events injected at run time (new or late) are kept in a small list beside them.
"""

from __future__ import annotations

import bisect
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Leslie",
    "Hedy",
    "Dennis",
    "Katherine",
]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson"]
LIGHTDASH_FILE_TYPES = ["csv", "xlsx", "jsonl", "image", "s3_jsonl"]
LIGHTDASH_CONTEXTS = ["dashboardView", "sqlRunner", "api", "cli", "mcp.run_sql", None]
DATAFOLD_ACTIONS = [
    "login",
    "logout",
    "create_monitor",
    "update_monitor",
    "run_diff",
    "view_diff",
    "delete_monitor",
    "invite_user",
    "update_settings",
    "api_call",
]
DOMO_ACTIONS = [
    ("VIEWED", "PAGE", "Viewed page"),
    ("VIEWED", "CARD", "Viewed card"),
    ("CREATED", "CARD", "Created card"),
    ("UPDATED", "DATA_SOURCE", "Updated dataset"),
    ("EXPORTED", "CARD", "Exported card"),
    ("LOGGED_IN", "USER", "Logged in"),
    ("SHARED", "PAGE", "Shared page"),
    ("DELETED", "CARD", "Deleted card"),
]
VELT_ACTIONS = [
    ("comment", "comment.add"),
    ("comment", "comment.update"),
    ("comment", "comment.delete"),
    ("comment", "comment.reaction_add"),
    ("comment", "comment_annotation.add"),
    ("comment", "comment_annotation.status_change"),
    ("reaction", "reaction.add"),
    ("recorder", "recording.add"),
    ("crdt", "crdt.editor_edit"),
    ("custom", "custom.approved"),
]
AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 Chrome/130.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/131.0",
    "python-requests/2.32.3",
]


def person(index: int) -> tuple[str, str, str]:
    """Person ``index``'s first and last names and address; from 40 on, the last name carries
    the index, so that no two indexes share a name."""
    first = FIRST[index % len(FIRST)]
    last = f"{LAST[(index * 7) % len(LAST)]}{'' if index < 40 else index}"
    return first, last, f"{first}.{last}@example.com".lower()


def digest(*parts: object) -> int:
    text = ":".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def stable_uuid(*parts: object) -> str:
    return str(
        uuid.UUID(
            bytes=hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest(),
            version=4,
        )
    )


def iso_micro(moment_us: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=moment_us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Feed:
    """One vendor's events: ``count`` generated ones plus injected extras, by time."""

    vendor: str
    count: int
    seed: int
    start_us: int
    end_us: int
    extras: list[tuple[int, int]] = field(default_factory=list)  # (time_us, extra number)
    extra_times: list[int] = field(default_factory=list)  # by extra number

    @property
    def step_us(self) -> float:
        return (self.end_us - self.start_us) / max(self.count, 1)

    def time_of(self, index: int) -> int:
        """Time of generated record ``index``; Lightdash gets ties within one millisecond."""
        base = self.start_us + int(index * self.step_us)
        if self.vendor == "lightdash":
            group = index - index % 3
            millis = (self.start_us + int(group * self.step_us)) // 1000
            return millis * 1000 + 111 + (index % 3) * 250
        if self.vendor == "domo":
            # Whole seconds, as Domo reports them; every 50th record has an identical twin.
            twin = index - 1 if index % 50 == 1 else index
            return (self.start_us + int(twin * self.step_us)) // 1_000_000 * 1_000_000
        return base

    def total(self) -> int:
        return self.count + len(self.extras)

    def keys_between(self, low_us: int, high_us: int) -> list[int]:
        """Record keys with low <= time <= high, oldest first (extras have negative keys)."""
        step = self.step_us or 1
        first = max(0, int((low_us - self.start_us) / step) - 3)
        last = min(self.count - 1, int((high_us - self.start_us) / step) + 3)
        keys = [i for i in range(first, last + 1) if low_us <= self.time_of(i) <= high_us]
        extra = [(-1 - n, t) for t, n in self.extras if low_us <= t <= high_us]
        if extra:
            merged = [(self.time_of(i), i) for i in keys] + [(t, k) for k, t in extra]
            keys = [key for _, key in sorted(merged)]
        return keys

    def newest_first(self, offset: int, limit: int) -> list[int]:
        """Keys of the newest-first page ``[offset, offset + limit)``."""
        if not self.extras:
            top = self.count - 1 - offset
            return list(range(top, max(top - limit, -1), -1))
        ordered = self._ordered_desc()
        return ordered[offset : offset + limit]

    def _ordered_desc(self) -> list[int]:
        cached = getattr(self, "_order_cache", None)
        if cached is not None and cached[0] == len(self.extras):
            return cached[1]
        extras_desc = sorted(((t, -1 - n) for t, n in self.extras), reverse=True)
        order: list[int] = []
        index = self.count - 1
        for time_us, key in extras_desc:
            while index >= 0 and self.time_of(index) > time_us:
                order.append(index)
                index -= 1
            order.append(key)
        order.extend(range(index, -1, -1))
        self._order_cache = (len(self.extras), order)
        return order

    def time_of_key(self, key: int) -> int:
        return self.time_of(key) if key >= 0 else self.extra_times[-1 - key]

    def add(self, times_us: list[int]) -> None:
        for time_us in times_us:
            number = len(self.extra_times)
            self.extra_times.append(time_us)
            bisect.insort(self.extras, (time_us, number))
