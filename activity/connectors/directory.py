"""A vendor's own directory: who each of its user ids is, in the one shape all vendors share.

A connector's ``directory(client)`` yields ``DirectoryMember``s; a vendor without a directory
yields none. A directory the credentials may not read raises ``DirectoryUnavailable``
(``activity.sync.errors``), whose message says what permission to grant: it never fails
the activity sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class MemberStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    UNKNOWN = "unknown"  # the vendor does not say


@dataclass(frozen=True, slots=True)
class DirectoryMember:
    """One member of a vendor's directory, as the vendor lists it.

    ``email`` is as the vendor writes it (compare lower-cased); ``role`` is the vendor's
    own word (free text); ``pending`` marks an invitee who never signed up (still a member).
    """

    vendor_user_id: str
    email: str | None
    name: str
    status: MemberStatus = MemberStatus.UNKNOWN
    role: str = ""
    pending: bool = False


def unique_members(members: Iterable[DirectoryMember]) -> Iterator[DirectoryMember]:
    """Each id once (the first seen): offset pages without a stable order can repeat a row."""
    seen: set[str] = set()
    for member in members:
        if member.vendor_user_id not in seen:
            seen.add(member.vendor_user_id)
            yield member


def text(value: object) -> str:
    """A field as text; anything but a string or a number reads as empty."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()


def full_name(*parts: object) -> str:
    return " ".join(part for part in map(text, parts) if part)
