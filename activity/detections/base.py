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
    # The person's kind in the rows of a batch the rules judge (None: no person), and None
    # in the rows they read from the history.
    person_kind: str | None


def event_rows(queryset, context: Context | None = None) -> list[EventRow]:
    """The events' rows; with a ``context`` (a batch to judge), each with its person's kind,
    read through the context's people (not joined: the join read every person)."""
    rows = list(queryset.values_list(*EVENT_FIELDS))
    if context is None:
        return [EventRow(*row, None) for row in rows]
    people = context.people({row[4] for row in rows})
    return [EventRow(*row, people[row[4]].kind if row[4] in people else None) for row in rows]


def threshold(default: Any, *, minimum: float = 1, maximum: float | None = None, help: str = ""):
    return field(default=default, metadata={"minimum": minimum, "maximum": maximum, "help": help})


def overrides(help: str = "") -> dict[str, Any]:
    """The metadata of a field of ``{who: {threshold: value}}`` (``field(default_factory=dict,
    metadata=overrides(...))``): thresholds that differ for some people."""
    return {"overrides": True, "help": help}


def settings_from(cls: type, data: Mapping[str, Any], *, nested: bool = False) -> Any:
    """A rule's ``Settings`` from stored or typed thresholds; anything that makes no sense (an
    unknown name, a wrong type, a negative count, a zero window) raises ``ValueError`` naming
    it."""
    if not isinstance(data, Mapping):
        raise ValueError("thresholds must be an object of name: value")
    known = {
        item.name: item
        for item in dataclasses.fields(cls)
        if not (nested and item.metadata.get("overrides"))
    }
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown threshold {unknown[0]!r}: one of {', '.join(sorted(known))}")
    values = {}
    for name, value in data.items():
        item = known[name]
        if item.metadata.get("overrides"):
            values[name] = _overrides_from(cls, name, value)
            continue
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


def _overrides_from(cls: type, name: str, value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be an object of who: {{threshold: value}}")
    checked = {}
    for who, thresholds in value.items():
        if not str(who).strip():
            raise ValueError(f"{name}: a name is empty")
        try:
            settings_from(cls, thresholds, nested=True)
        except ValueError as error:
            raise ValueError(f"{name} {who!r}: {error}") from None
        checked[str(who).strip().lower()] = dict(thresholds)
    return checked


def settings_for(settings: Any, *, person_id: int, email: str, group: str) -> Any:
    """``settings`` as they apply to one person: their peer group's thresholds (``per_group``)
    over the rule's, their own (``per_person``, by email or id) over both."""
    changes = {
        **getattr(settings, "per_group", {}).get(group.lower(), {}),
        **getattr(settings, "per_person", {}).get(str(person_id), {}),
        **getattr(settings, "per_person", {}).get(email.lower(), {}),
    }
    return dataclasses.replace(settings, **changes) if changes else settings


def settings_help(cls: type) -> list[tuple[str, Any, str]]:
    return [
        (
            item.name,
            item.default_factory() if item.default is dataclasses.MISSING else item.default,
            item.metadata.get("help", ""),
        )
        for item in dataclasses.fields(cls)
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


class Who(NamedTuple):
    kind: str
    label: str
    email: str
    group: str


# People's baselines of a day, kept by each worker process: every sync page of that day after
# the first takes them from here instead of summing their month again. A plain dict of the
# latest few scopes (days): a cache backend pickled every value, on every page.
_PROCESS_MEMO: dict[str, dict] = {}
PROCESS_MEMO_SCOPES = 4


def process_memo_clear() -> None:
    _PROCESS_MEMO.clear()


@dataclass
class Context:
    """What a rule may need besides its events: who people are, with one query per batch."""

    dry_run: bool = False
    # Whether baselines are kept by the worker process too: not for a backtest, whose month
    # of days would only churn it (its own context keeps them).
    process_cache: bool = True
    _people: dict[int, Who] = field(default_factory=dict)
    # What rules read once per context: a baseline of a day serves every batch of that day.
    memo: dict[Any, Any] = field(default_factory=dict)

    def memo_for(self, scope: str) -> dict:
        """Where rules keep what they read for ``scope`` (a day's baselines): the process's
        memo, or with ``process_cache`` off this context's."""
        if not self.process_cache:
            return self.memo.setdefault(scope, {})
        kept = _PROCESS_MEMO.get(scope)
        if kept is None:
            while len(_PROCESS_MEMO) >= PROCESS_MEMO_SCOPES:
                del _PROCESS_MEMO[next(iter(_PROCESS_MEMO))]  # the oldest
            kept = _PROCESS_MEMO[scope] = {}
        return kept

    def people(self, ids: Iterable[int | None]) -> dict[int, Who]:
        """``id -> Who`` of the given people."""
        missing = {pk for pk in ids if pk is not None and pk not in self._people}
        if missing:
            for pk, kind, name, email, group in (
                Person.objects.filter(pk__among=missing)
                .order_by()
                .values_list("pk", "kind", "display_name", "primary_email", "peer_group")
            ):
                self._people[pk] = Who(kind, name or email or f"person {pk}", email, group)
        return self._people

    def who(self, person_id: int) -> Who:
        unknown = Who(Person.Kind.HUMAN, f"person {person_id}", "", "")
        return self.people([person_id]).get(person_id, unknown)

    def label(self, person_id: int | None) -> str:
        if person_id is None:
            return "someone unknown"
        return self.who(person_id).label

    def kind(self, person_id: int | None) -> str:
        if person_id is None:
            return Person.Kind.ANONYMOUS
        return self.who(person_id).kind


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
