"""What every rule shares: the rows it reads, the finding it returns, validated thresholds."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from activity.models import Person

# The columns a rule reads; ``history`` reads the same ones.
EVENT_FIELDS = (
    "id",
    "source_id",
    "external_id",
    "occurred_at",
    "person_id",
    "category",
    "outcome",
    "ip_address",
    "action",
)


class EventRow(NamedTuple):
    id: int
    source_id: int
    external_id: str
    occurred_at: datetime
    person_id: int | None
    category: str
    outcome: str
    ip_address: str
    action: str


def event_rows(queryset) -> list[EventRow]:
    return [EventRow(*values) for values in queryset.values_list(*EVENT_FIELDS)]


def threshold(default: Any, *, minimum: float = 1, maximum: float | None = None, help: str = ""):
    return field(default=default, metadata={"minimum": minimum, "maximum": maximum, "help": help})


def settings_from(cls: type, data: Mapping[str, Any]) -> Any:
    """A rule's ``Settings`` from stored or typed thresholds; anything that makes no sense (an
    unknown name, a wrong type, a negative count, a zero window) raises ``ValueError`` naming
    it."""
    if not isinstance(data, Mapping):
        raise ValueError("thresholds must be an object of name: value")
    known = {item.name: item for item in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown threshold {unknown[0]!r}: one of {', '.join(sorted(known))}")
    values = {}
    for name, value in data.items():
        item = known[name]
        kind = type(item.default)
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number")
        elif kind is int and value != int(value):
            raise ValueError(f"{name} must be a whole number")
        else:
            value = kind(value)
            low, high = item.metadata.get("minimum"), item.metadata.get("maximum")
            if low is not None and value < low:
                raise ValueError(f"{name} must be at least {low:g} (got {value:g})")
            if high is not None and value > high:
                raise ValueError(f"{name} must be at most {high:g} (got {value:g})")
        values[name] = value
    return cls(**values)


def settings_help(cls: type) -> list[tuple[str, Any, str]]:
    return [
        (item.name, item.default, item.metadata.get("help", "")) for item in dataclasses.fields(cls)
    ]


@dataclass(frozen=True)
class Finding:
    """A complete group of events a rule flags: the engine makes it an alert, or adds its
    events to the alert of the same group. ``join_within`` lets a group whose key changed (a
    session or burst that a late event extends backwards) join an alert that ends that close."""

    rule: str
    severity: str
    group_key: str
    person_id: int | None
    events: tuple[EventRow, ...]
    explanation: str
    subject: str = ""
    join_within: timedelta | None = None

    @property
    def first_event_at(self) -> datetime:
        return min(event.occurred_at for event in self.events)

    @property
    def last_event_at(self) -> datetime:
        return max(event.occurred_at for event in self.events)


@dataclass
class Context:
    """What a rule may need besides its events: who people are, with one query per batch."""

    dry_run: bool = False
    _people: dict[int, tuple[str, str, str]] = field(default_factory=dict)

    def people(self, ids: Iterable[int | None]) -> dict[int, tuple[str, str, str]]:
        """``id -> (kind, label, email)`` of the given people."""
        missing = {pk for pk in ids if pk is not None and pk not in self._people}
        if missing:
            for pk, kind, name, email in Person.objects.filter(pk__in=missing).values_list(
                "pk", "kind", "display_name", "primary_email"
            ):
                self._people[pk] = (kind, name or email or f"person {pk}", email)
        return self._people

    def label(self, person_id: int | None) -> str:
        if person_id is None:
            return "someone unknown"
        return self.people([person_id]).get(person_id, ("", f"person {person_id}", ""))[1]

    def kind(self, person_id: int | None) -> str:
        if person_id is None:
            return Person.Kind.ANONYMOUS
        return self.people([person_id]).get(person_id, (Person.Kind.HUMAN, "", ""))[0]


class RuleModule(Protocol):
    NAME: str
    SEVERITY: str
    Settings: type
    find: Callable[[list[EventRow], Any, Context], list[Finding]]


# Formatting shared by the explanations.
def hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M")


def day_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%A %Y-%m-%d")


def span_text(first: datetime, last: datetime) -> str:
    if first.date() == last.date():
        return f"between {hhmm(first)} and {hhmm(last)} UTC on {day_text(first)}"
    return f"from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def chains(rows: list[EventRow], gap: timedelta) -> list[list[EventRow]]:
    """Rows (sorted by time) cut wherever two are ``gap`` or more apart."""
    groups: list[list[EventRow]] = []
    for row in rows:
        if groups and row.occurred_at - groups[-1][-1].occurred_at < gap:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups
