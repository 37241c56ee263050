"""What the daily rollups can answer for a list's filter, in one place for every page.

The rollups count events per UTC day and source by action and object type (``DailyActivity``)
and by person (``DailyActor``). A filter made only of those columns and a date range can be
answered from them: its facets counted, its emptiness proved, and the days that hold its
events found, so a list never reads the event table where nothing can match.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Sum

from activity.models import DailyActivity, DailyActor, Source
from activity.people.selectors import persons_named
from activity.selectors import action_variants
from dashboard import params

Facets = dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class RollupScope:
    """A filter in the rollups' terms: UTC days and the columns they are keyed by."""

    since: date | None = None  # UTC days, both ends included
    until: date | None = None
    # Whether the first or last day holds hours outside the filter (the last 24 hours, a day in
    # another time zone): such days still prove emptiness and find days, but counts from them
    # would be off by more than a day's edge.
    partial_days: bool = False
    vendor: str | None = None
    source: Source | None = None
    actions: tuple[str, ...] = ()
    object_type: str | None = None
    categories: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    persons: tuple[int, ...] | None = None  # the persons a person filter names

    @property
    def counts_facets(self) -> bool:
        """Whether the facets can come from the rollups: no person (the person rollup has no
        actions) and no partial day (a preset range of a week or more starts at the beginning
        of its first UTC day, a difference of hours that the counts may carry)."""
        return not self.partial_days and self.persons is None

    def days(self) -> list[tuple[date, int]]:
        """``(UTC day, at most this many matching events)`` for every day that may hold a
        match, newest first; an empty list proves that nothing matches."""
        bounds: dict[tuple[date, int], int] | None = None
        narrowed = self.actions or self.object_type or self.categories or self.outcomes
        if narrowed or self.persons is None:
            bounds = _by_day_and_source(self._activity_rows(), "events")
        if self.persons is not None:
            people = _by_day_and_source(self._person_rows(), "events")
            bounds = people if bounds is None else _least(bounds, people)
        per_day: Counter[date] = Counter()
        for (day, _), n in bounds.items():
            per_day[day] += n
        return sorted(per_day.items(), reverse=True)

    def facets(self) -> Facets:
        """Counts by vendor, category, outcome and the top ten actions (see
        ``counts_facets``)."""
        rows = self._activity_rows().values_list(*FACET_COLUMNS).annotate(n=Sum("events"))
        return facets_of(rows)

    def _activity_rows(self):
        rows = self._dated(DailyActivity.objects.all())
        if self.actions:
            rows = rows.filter(action__in=self.actions)
        if self.object_type:
            rows = rows.filter(object_type=self.object_type)
        if self.categories:
            rows = rows.filter(category__in=self.categories)
        if self.outcomes:
            rows = rows.filter(outcome__in=self.outcomes)
        return rows

    def _person_rows(self):
        return self._dated(DailyActor.objects.filter(person_id__in=self.persons))

    def _dated(self, rows):
        if self.since:
            rows = rows.filter(day__gte=self.since)
        if self.until:
            rows = rows.filter(day__lte=self.until)
        if self.vendor:
            rows = rows.filter(source__vendor=self.vendor)
        if self.source:
            rows = rows.filter(source=self.source)
        return rows


def activity_scope(data: dict, *, zone: ZoneInfo, now: datetime) -> RollupScope | None:
    """The rollup scope of the activity filter's cleaned ``data``; None when it filters on
    something the rollups do not hold (free text, a person no stored person answers to)."""
    if data.get("q"):
        return None
    persons = None
    if person := (data.get("person") or "").strip():
        persons = tuple(persons_named(person))
        if not persons:
            return None
    since, until, partial_days = _utc_days(data, zone=zone, now=now)
    return RollupScope(
        since=since,
        until=until,
        partial_days=partial_days,
        vendor=data.get("vendor") or None,
        source=data.get("source"),
        actions=tuple(action_variants(data["action"])) if data.get("action") else (),
        object_type=data.get("object_type") or None,
        categories=tuple(data.get("category") or ()),
        outcomes=tuple(data.get("outcome") or ()),
        persons=persons,
    )


def download_days(data: dict, *, zone: ZoneInfo) -> tuple[date | None, date | None] | None:
    """The UTC days of a download filter made only of whole days; None otherwise."""
    if any(data.get(name) for name in ("person", "file_type", "context", "range")):
        return None
    since, until, partial_days = _utc_days(data, zone=zone, now=None)
    return None if partial_days else (since, until)


def _utc_days(
    data: dict, *, zone: ZoneInfo, now: datetime | None
) -> tuple[date | None, date | None, bool]:
    since = until = None
    partial_days = False
    if data.get("range"):
        since = (now - timedelta(days=params.RANGES[data["range"]])).date()
        partial_days = data["range"] == "24h"
    if data.get("date_from"):
        start = _utc_day(data["date_from"], zone, 0)
        since = max(since, start) if since else start
    if data.get("date_to"):
        until = _utc_day(data["date_to"], zone, 1)
    if zone.key != "UTC" and (data.get("date_from") or data.get("date_to")):
        partial_days = True  # a local day spans two UTC days
    return since, until, partial_days


def _utc_day(day: date, zone: ZoneInfo, end: int) -> date:
    """The UTC day holding the start (``end=0``) or the last moment (``end=1``) of a local day."""
    moment = datetime.combine(day + timedelta(days=end), time.min, tzinfo=zone)
    return (moment - timedelta(microseconds=end)).astimezone(ZoneInfo("UTC")).date()


def _by_day_and_source(rows, value: str) -> dict[tuple[date, int], int]:
    return {
        (day, source_id): n
        for day, source_id, n in rows.values_list("day", "source_id")
        .annotate(n=Sum(value))
        .order_by()
        if n
    }


def _least(a: dict, b: dict) -> dict:
    return {key: min(n, b[key]) for key, n in a.items() if key in b}


# What facet counts are grouped by, on the rollup and on the event table alike.
FACET_COLUMNS = ("source_id", "action", "category", "outcome")


def facets_of(rows) -> Facets:
    """Counts by vendor, category and outcome, and the top ten actions, from rows of
    ``FACET_COLUMNS`` and a count."""
    vendor_of = dict(Source.objects.values_list("pk", "vendor"))
    vendors: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for source_id, action, category, outcome, n in rows:
        vendors[vendor_of[source_id]] += n
        actions[action] += n
        categories[category] += n
        outcomes[outcome] += n
    return {
        "vendor": vendors.most_common(),
        "category": categories.most_common(),
        "outcome": outcomes.most_common(),
        "action": actions.most_common(10),
    }
