"""Identities as events and directories name them, linked to persons, strongest evidence
first: the same email in any two sources; a vendor directory's user id to email. A name
alone never links (see ``selectors.merge_suggestions``); staff decisions are pinned."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from activity.models import ActivityEvent, Identity, Person
from activity.rollups import person_rollups_add
from activity.sql import array_literal

if TYPE_CHECKING:
    from activity.people.seen import SyncIdentities

Kind = Person.Kind
Rule = Identity.Rule
_IDENTITY_TABLE = Identity._meta.db_table
_CHUNK = 200
# The identity upsert's columns as PostgreSQL array types, in its column order.
_UPSERT_TYPES = (
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "boolean",
    "timestamptz",
    "timestamptz",
)
# Kinds that are never linked by email to a person of another kind: a vendor's support
# staff is not the customer whose address they happen to share, an embed viewer is nobody.
_SEPARATE_KINDS = (Kind.VENDOR_SUPPORT, Kind.ANONYMOUS)


def identity_key(actor_id: str, email: str) -> str:
    """How a source names an identity: its vendor user id, else its email, else nothing."""
    if actor_id:
        return f"id:{actor_id}"
    if email:
        return f"email:{email}"
    return Identity.ANONYMOUS_KEY


def identity_events(identity: Identity) -> Q:
    """The identity's events, from the event columns its key was made of."""
    match = Q(source_id=identity.source_id)
    if identity.key.startswith("id:"):
        return match & Q(actor_id=identity.key[3:])
    if identity.key.startswith("email:"):
        return match & Q(actor_id="", actor_email=identity.key[6:])
    return match & Q(actor_id="", actor_email="")


@dataclass(slots=True)
class _Seen:
    vendor_user_id: str
    email: str
    name: str
    kind: str
    first: datetime
    last: datetime


def page_persons(
    source_id: int,
    actors: Iterable[tuple[str, str, str, str, datetime]],
    identities: SyncIdentities | None = None,
) -> list[int]:
    """The person of each of a page's ``(actor_id, email, name, kind hint, occurred_at)``, in
    their order: records the identities (first and last seen, name) and links the new ones.
    With a sync run's ``identities``, those it linked already are taken from it and their
    seen-times written later (see ``seen``). Call inside the page's transaction."""
    seen: dict[str, _Seen] = {}
    keys = []
    for actor_id, email, name, kind, occurred_at in actors:
        key = identity_key(actor_id, email)
        keys.append(key)
        known = seen.get(key)
        if known is None:
            kind = Kind.ANONYMOUS if key == Identity.ANONYMOUS_KEY else kind or Kind.HUMAN
            seen[key] = _Seen(actor_id, email, name, kind, occurred_at, occurred_at)
            continue
        known.first, known.last = min(known.first, occurred_at), max(known.last, occurred_at)
        known.name = name or known.name
        known.email = known.email or email
    persons: dict[str, int] = {}
    if identities is not None:
        for key, one in list(seen.items()):
            linked = identities.known(key, one.name, one.email)
            if linked is not None:
                persons[key] = identities.seen(linked, one.first, one.last)
                del seen[key]
    if seen:
        persons.update(_identities_write(source_id, seen, identities))
    return [persons[key] for key in keys]


def _identities_write(
    source_id: int, seen: dict[str, _Seen], identities: SyncIdentities | None
) -> dict[str, int]:
    """Upsert the identities, link the new ones; ``key -> person id``."""
    returned = _identities_upsert(source_id, seen)
    unlinked = [row[0] for row in returned if row[2] is None]
    if unlinked:
        linked = identities_link(unlinked)
        returned = [(row[0], row[1], row[2] or linked[row[0]], *row[3:]) for row in returned]
    persons = {key: person_id for _, key, person_id, _, _ in returned}
    # A record that gives the email of an identity first seen without one (its person has
    # no email yet): the identity joins whoever already holds the address.
    relink = [identity_id for identity_id, _, _, _, emailless in returned if emailless]
    if relink:
        identities_relink(relink, rule=Rule.EMAIL)
        persons.update(Identity.objects.filter(id__in=relink).values_list("key", "person_id"))
    if identities is not None and (unlinked or relink):
        # Found by email, unlocked: a merge may take them away before the page locks them.
        moved = set(unlinked) | set(relink)
        identities.page_linked.update(persons[key] for i, key, *_ in returned if i in moved)
    if identities is not None:
        for identity_id, key, _, _, _ in returned:
            one = seen[key]
            identities.remember(key, identity_id, persons[key], one.name, bool(one.email))
    return persons


def _identities_upsert(source_id: int, seen: dict[str, _Seen]) -> list[tuple]:
    """Insert or refresh the identities; ``(id, key, person_id, kind, emailless)`` of each,
    ``emailless`` when the identity has an email that its person does not (it was first seen
    without one)."""
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            source_id,
            key,
            one.vendor_user_id,
            one.email,
            one.name[:255],
            Person.Status.UNKNOWN,
            one.kind,
            Rule.OWN,
            False,
            adapt(one.first),
            adapt(one.last),
        )
        for key, one in sorted(seen.items())  # one lock order for concurrent syncs
    ]
    table = _IDENTITY_TABLE
    if connection.vendor == "postgresql":
        # The rows as column arrays: one statement text whatever the page holds (parsed once).
        values = "SELECT * FROM unnest(" + ", ".join(f"%s::{t}[]" for t in _UPSERT_TYPES) + ")"
    else:
        values = "VALUES {values}"
    statement = (
        f"INSERT INTO {table} (source_id, key, vendor_user_id, email, name, status, kind, "
        f"rule, pinned, first_seen_at, last_seen_at) {values} "
        "ON CONFLICT (source_id, key) DO UPDATE SET "
        f"first_seen_at = CASE WHEN {table}.first_seen_at IS NULL "
        f"OR excluded.first_seen_at < {table}.first_seen_at "
        f"THEN excluded.first_seen_at ELSE {table}.first_seen_at END, "
        f"last_seen_at = CASE WHEN {table}.last_seen_at IS NULL "
        f"OR excluded.last_seen_at > {table}.last_seen_at "
        f"THEN excluded.last_seen_at ELSE {table}.last_seen_at END, "
        f"name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE {table}.name END, "
        f"email = CASE WHEN {table}.email = '' THEN excluded.email ELSE {table}.email END "
        "RETURNING id, key, person_id, kind, email, last_seen_at"
    )
    if connection.vendor == "postgresql":
        # One statement: the identities, and which of them bring an email their person
        # lacks. (Persons' last seen moves with the rollups, where person rows are locked.)
        person = Person._meta.db_table
        statement = (
            f"WITH up AS ({statement}) "
            "SELECT up.id, up.key, up.person_id, up.kind, up.email <> '' AND EXISTS "
            f"(SELECT FROM {person} p WHERE p.id = up.person_id AND p.primary_email = '') "
            "FROM up"
        )
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(statement, [array_literal(column) for column in zip(*rows, strict=True)])
            return cursor.fetchall()
        placeholders = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            cursor.execute(
                statement.format(values=", ".join([placeholders] * len(chunk))),
                [value for row in chunk for value in row],
            )
            returned += cursor.fetchall()
    # Elsewhere (SQLite: one writer at a time), the same in plain statements.
    linked = [row[2] for row in returned if row[2] is not None and row[4]]
    emailless = set(
        Person.objects.filter(id__in=linked, primary_email="").values_list("id", flat=True)
    )
    return [
        (identity_id, key, person_id, kind, person_id in emailless and bool(email))
        for identity_id, key, person_id, kind, email, _ in returned
    ]


def identities_link(identity_ids: list[int], *, rule: str = Rule.EMAIL) -> dict[int, int]:
    """Link identities that have no person yet: to the person of the same email (``rule``
    says where the email came from), else to a new person of their own. Returns each
    identity's person id."""
    _serialize_linking()
    identities = list(
        Identity.objects.filter(id__in=identity_ids, person__isnull=True).select_related("source")
    )
    emails = {identity.email for identity in identities if identity.email}
    by_email = persons_by_email(emails)
    linked: dict[int, int] = {}
    for identity in sorted(identities, key=lambda one: one.id):
        person_id = by_email.get((identity.email, _email_class(identity.kind)))
        if identity.email and person_id:
            identity.person_id, identity.rule = person_id, rule
        else:
            person = Person.objects.create(
                display_name=_first_name_for(identity),
                primary_email=identity.email,
                kind=identity.kind,
                status=identity.status,
            )
            identity.person_id, identity.rule = person.pk, Rule.OWN
            if identity.email and identity.kind != Kind.ANONYMOUS:
                by_email[identity.email, _email_class(identity.kind)] = person.pk
        linked[identity.pk] = identity.person_id
    Identity.objects.bulk_update(identities, ["person", "rule"])
    return linked


def _first_name_for(identity: Identity) -> str:
    """What a new person is called, from the identity that made them."""
    if identity.key == Identity.ANONYMOUS_KEY:
        return f"Anonymous users of {identity.source.name}"
    return identity.name or identity.email or identity.vendor_user_id


def _email_class(kind: str) -> str:
    return kind if kind in _SEPARATE_KINDS else Kind.HUMAN


def persons_by_email(
    emails: set[str], *, excluding: Iterable[int] = ()
) -> dict[tuple[str, str], int]:
    """``(email, kind class) -> person id`` for the persons an email already belongs to (the
    oldest, if staff have split one address over several), through identities other than
    ``excluding``."""
    if not emails:
        return {}
    found: dict[tuple[str, str], int] = {}
    linked = (
        Identity.objects.filter(
            email__in=emails, person__isnull=False, person__merged_into__isnull=True
        )
        .exclude(id__in=list(excluding))
        .order_by("-person_id")
        .values_list("email", "kind", "person_id")
    )
    for email, kind, person_id in linked:
        if kind != Kind.ANONYMOUS:
            found[email, _email_class(kind)] = person_id
    return found


def _serialize_linking() -> None:
    """Two syncs linking the same new address at once must not make two persons of it: on
    PostgreSQL the linking step holds a transaction lock (rare: new identities only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('activity.people.linking'))")


def identity_move(identity: Identity, person_id: int, *, rule: str, pinned: bool) -> int:
    """Move an identity and its events to another person, the people rollups with them.
    Returns how many events moved. Call inside a transaction."""
    old = identity.person_id
    moved = 0
    if old and old != person_id:
        # Both persons locked, as a sync page locks its persons: a page that took this
        # identity's person from its run's memory sees the move, or is seen by it (``seen``).
        persons = Person.objects.select_for_update(no_key=True).filter(id__in=[old, person_id])
        list(persons.order_by("id").values_list("id"))
        events = ActivityEvent.objects.filter(identity_events(identity), person_id=old)
        by_day: Counter = Counter()
        by_category: Counter = Counter()
        by_hour: Counter = Counter()
        counts = (
            events.annotate(hour=TruncHour("occurred_at", tzinfo=UTC))
            .values_list("hour", "source_id", "category")
            .annotate(n=Count("id"))
            .order_by()
        )
        for hour, source_id, category, n in counts:
            day = hour.astimezone(UTC).date()
            by_day[day, source_id, old] -= n
            by_day[day, source_id, person_id] += n
            by_category[old, category] -= n
            by_category[person_id, category] += n
            by_hour[old, hour, category] -= n
            by_hour[person_id, hour, category] += n
        moved = events.update(person_id=person_id)
        # After the move: the days the old person lost have their active hours recounted.
        person_rollups_add(by_day, by_category, by_hour=by_hour)
    identity.person_id, identity.rule, identity.pinned = person_id, rule, pinned
    identity.save(update_fields=["person", "rule", "pinned"])
    return moved


def persons_refresh(person_ids: Iterable[int]) -> None:
    """A person's status from their identities' (active anywhere is active; deactivated
    where every directory that lists them says so), their last seen, and a name or email
    where it has none."""
    for person in Person.objects.filter(id__in=set(person_ids)):
        identities = list(person.identities.all())
        statuses = {identity.status for identity in identities} - {Person.Status.UNKNOWN}
        if Person.Status.ACTIVE in statuses:
            person.status = Person.Status.ACTIVE
        elif statuses:
            person.status = Person.Status.DEACTIVATED
        else:
            person.status = Person.Status.UNKNOWN
        emails = [identity.email for identity in identities if identity.email]
        names = [identity.name for identity in identities if identity.name]
        if not person.primary_email and emails:
            person.primary_email = emails[0]
        if (not person.display_name or person.display_name in emails) and names:
            person.display_name = names[0]
        seen = [identity.last_seen_at for identity in identities if identity.last_seen_at]
        person.last_seen_at = max(seen, default=None)
        person.save(update_fields=["status", "primary_email", "display_name", "last_seen_at"])


def identities_relink(identity_ids: Iterable[int], *, rule: str) -> None:
    """Identities first seen without an email made persons of their own; once their email
    is known (from a directory, or a later record) and someone else already holds it, they
    join that person. An emptied person points to where its identities went, so its links
    still lead somewhere. Staff-pinned identities stay."""
    candidates = list(
        Identity.objects.filter(
            id__in=list(identity_ids), rule=Rule.OWN, pinned=False, person__isnull=False
        ).exclude(email="")
    )
    if not candidates:
        return
    by_email = persons_by_email(
        {identity.email for identity in candidates},
        excluding=[identity.pk for identity in candidates],
    )
    # An address that only these identities hold joins them in the oldest of their persons.
    oldest: dict[str, int] = {}
    for identity in candidates:
        oldest[identity.email] = min(
            oldest.get(identity.email, identity.person_id), identity.person_id
        )
    touched = set()
    for identity in candidates:
        touched.add(identity.person_id)
        target = by_email.get((identity.email, Kind.HUMAN)) or oldest[identity.email]
        if identity.kind != Kind.HUMAN or target == identity.person_id:
            continue
        old = identity.person_id
        identity_move(identity, target, rule=rule, pinned=False)
        touched.add(target)
        if not Identity.objects.filter(person_id=old).exists():
            Person.objects.filter(pk=old).update(merged_into=target)
            touched.discard(old)
    persons_refresh(touched)
