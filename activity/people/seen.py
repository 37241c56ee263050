"""When identities were first and last seen, kept by a sync run and written in batches.

Almost every page of a sync moves the last seen of most identities it names, and writing
those rows on every page cost ingestion more than linking itself. A run keeps the identities
it has linked (key -> identity and person) with the seen-times their rows still lack, and
writes those at most ``FLUSH_PAGES`` pages apart and when the run ends, each time with the
highest event id they cover (``Source.identities_seen_to``). So a killed run loses no
seen-time: the next run of the source first folds in the events stored after that mark.

A page checks, once its persons are locked (see ``rollups``), that staff did not merge one
of them away or move an identity it took from the run's memory meanwhile; if they did, the
page is stored again from the database (``IdentitiesMoved``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Min

from activity.models import ActivityEvent, Identity, Person, Source
from activity.people.linking import identity_key
from activity.sql import array_literal
from activity.transactions import Conflict

logger = logging.getLogger(__name__)
FLUSH_PAGES = 20


class IdentitiesMoved(Conflict):
    """Another transaction moved what was being linked before it was locked: an identity
    the page took from the run's memory points to another person now, or a person it (or a
    directory read) linked an identity to was merged away."""


@dataclass(slots=True)
class Linked:
    identity_id: int
    person_id: int
    name: str
    has_email: bool


@dataclass
class SyncIdentities:
    """The identities one sync run of ``source_id`` has linked, and their unwritten seen-times."""

    source_id: int
    linked: dict[str, Linked] = field(default_factory=dict)
    pending: dict[int, list[datetime]] = field(default_factory=dict)  # id -> [first, last]
    pages: int = 0
    # The page being stored: identity id -> the person it took, and its seen-times (pending
    # once the page is stored: a page stored again, or not at all, adds none).
    used: dict[int, int] = field(default_factory=dict)
    page_times: dict[int, list[datetime]] = field(default_factory=dict)
    page_linked: set[int] = field(default_factory=set)  # persons it linked identities to

    @classmethod
    def begin(cls, source: Source) -> SyncIdentities:
        """A run's start: fold in what a killed run left unwritten, and set the mark."""
        with transaction.atomic():
            locked = Source.objects.select_for_update().get(pk=source.pk)
            if locked.identities_seen_to is not None:
                _recover(source.pk, locked.identities_seen_to)
            _mark(source.pk)
        return cls(source.pk)

    def known(self, key: str, name: str, email: str) -> Linked | None:
        """The identity of ``key`` if this run linked it and the record changes nothing but
        when it was seen (a new name or a first email is written with the page)."""
        linked = self.linked.get(key)
        if linked is None or (name and name != linked.name) or (email and not linked.has_email):
            return None
        return linked

    def seen(self, linked: Linked, first: datetime, last: datetime) -> int:
        """Keep the identity's seen-times for the next write; return its person."""
        self.used[linked.identity_id] = linked.person_id
        self.page_times[linked.identity_id] = [first, last]
        return linked.person_id

    def remember(self, key: str, identity_id: int, person_id: int, name: str, email: bool) -> None:
        self.linked[key] = Linked(identity_id, person_id, name, email)

    def moved(self) -> bool:
        """Whether an identity this page took from memory points to another person now."""
        if not self.used:
            return False
        used = self.used
        now = dict(Identity.objects.filter(id__among=list(used)).values_list("id", "person_id"))
        return any(now.get(identity_id) != person_id for identity_id, person_id in used.items())

    def page_undone(self) -> None:
        """The page's transaction was rolled back: forget what it took and linked (the rows
        it linked are gone; an identity it took may have moved)."""
        self.used, self.page_times, self.page_linked = {}, {}, set()
        self.linked.clear()

    def page_stored(self, *, changed: bool) -> None:
        """After a page's events are stored: write the seen-times if they are due (now, when
        stored events changed: their new times are not after the mark)."""
        for identity_id, (first, last) in self.page_times.items():
            times = self.pending.get(identity_id)
            if times is None:
                self.pending[identity_id] = [first, last]
            else:
                times[0], times[1] = min(times[0], first), max(times[1], last)
        self.used, self.page_times, self.page_linked = {}, {}, set()
        self.pages += 1
        if changed or self.pages >= FLUSH_PAGES:
            self.flush()

    def flush(self) -> None:
        """Write the pending seen-times and move the source's mark. Call in a transaction."""
        seen_times_write(self.pending)
        _mark(self.source_id)
        self.pending, self.pages = {}, 0

    def close(self) -> None:
        """The run's end, however it ended: write what is pending. A failure here is left to
        the next run (see ``begin``), never raised over the run's own outcome."""
        if not self.pending:
            return
        try:
            with transaction.atomic():
                self.flush()
        except DatabaseError:
            logger.exception(
                "identities' seen-times of source %s left to the next run", self.source_id
            )


def page_check(person_ids: Iterable[int], identities: SyncIdentities | None) -> None:
    """Raise ``IdentitiesMoved`` if, while the page was stored, staff merged away a person it
    linked identities to (found by email, before any lock) or moved an identity it took from
    its run's memory. Call once the page's persons are locked (the rollups): a decision over
    them has committed by then, or waits for the page. Without a run, every person is checked."""
    ids = list(identities.page_linked if identities is not None else set(person_ids))
    if ids and Person.objects.filter(id__among=ids, merged_into__isnull=False).exists():
        raise IdentitiesMoved
    if identities is not None and identities.moved():
        raise IdentitiesMoved


def _mark(source_id: int) -> None:
    """Mark the source's events stored so far as held by its identities' seen-times: any of
    its events stored later (by this run, the only writer of the source) gets a higher id."""
    top = ActivityEvent.objects.aggregate(top=Max("id"))["top"] or 0
    Source.objects.filter(pk=source_id).update(identities_seen_to=top)


def _recover(source_id: int, after: int) -> None:
    """Seen-times of the source's events stored after ``after``, written to their identities."""
    by_key: dict[str, list[datetime]] = {}
    groups = (
        ActivityEvent.objects.filter(source_id=source_id, id__gt=after)
        .values_list("actor_id", "actor_email")
        .annotate(first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by()
    )
    for actor_id, email, first, last in groups:
        times = by_key.setdefault(identity_key(actor_id, email), [first, last])
        times[0], times[1] = min(times[0], first), max(times[1], last)
    if not by_key:
        return
    ids = Identity.objects.filter(source_id=source_id, key__in=list(by_key)).values_list(
        "key", "id"
    )
    seen_times_write({identity_id: by_key[key] for key, identity_id in ids})


def seen_times_write(times: dict[int, list[datetime]]) -> None:
    """Move identities' first seen down and last seen up to ``id -> [first, last]``."""
    if not times:
        return
    table = Identity._meta.db_table
    ids = sorted(times)  # one lock order for concurrent writers
    widen = (
        "first_seen_at = CASE WHEN first_seen_at IS NULL OR first_seen_at > {first} "
        "THEN {first} ELSE first_seen_at END, "
        "last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < {last} "
        "THEN {last} ELSE last_seen_at END"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET "
                + widen.format(first="given.first", last="given.last")
                + " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
                f"AS given(id, first, last) WHERE {table}.id = given.id",
                [array_literal(ids), *(array_literal(times[i][n] for i in ids) for n in (0, 1))],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"UPDATE {table} SET " + widen.format(first="%s", last="%s") + " WHERE id = %s",
            [(adapt(times[i][0]),) * 2 + (adapt(times[i][1]),) * 2 + (i,) for i in ids],
        )
