"""Reads about persons, for the pages and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.functions import Lower

from activity.models import ActorTotal, Identity, Person, PersonDecision

# Followed at most this far along merges: a chain longer than this is a loop.
_MERGE_HOPS = 50


def current_person(person: Person) -> Person:
    """The person ``person`` has been merged into, however many merges ago (itself if none)."""
    for _ in range(_MERGE_HOPS):
        if person.merged_into_id is None:
            return person
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def persons_named(value: str) -> list[int]:
    """The current persons an email (any case), a vendor user id or an exact name names:
    every identity's and every person's."""
    value = value.strip()
    if not value:
        return []
    identities = Identity.objects.filter(
        Q(email=value.lower()) | Q(vendor_user_id=value) | Q(name=value), person__isnull=False
    ).values_list("person_id", flat=True)
    persons = Person.objects.filter(
        Q(id__in=identities) | Q(primary_email=value.lower()) | Q(display_name=value)
    )
    found = set()
    for person in persons:
        found.add(current_person(person).pk)
    return sorted(found)


def person_identities(person_id: int) -> QuerySet[Identity]:
    return (
        Identity.objects.filter(person_id=person_id)
        .select_related("source")
        .order_by("source__vendor", "source__name", "key")
    )


def person_decisions(person_id: int) -> QuerySet[PersonDecision]:
    return PersonDecision.objects.filter(Q(person_id=person_id) | Q(other_id=person_id))


@dataclass(frozen=True)
class PeopleRow:
    person: Person
    identities: int
    vendors: list[str]
    last_seen: datetime | None


def people_list(
    *, search: str = "", kind: str = "", status: str = "", suggested: bool = False
) -> QuerySet[Person]:
    """Current persons, most recently active first, matching part of a name or email (or a
    whole vendor id, or any of their identities' emails), a kind and a status;
    ``suggested``: only those with a suggested merge."""
    persons = Person.objects.filter(merged_into__isnull=True)
    if search := search.strip():
        # Part of a person's name or email; any identity's whole email or vendor id (indexed).
        identities = Identity.objects.filter(
            Q(email=search.lower()) | Q(vendor_user_id=search)
        ).values("person_id")
        persons = persons.filter(
            Q(id__in=identities)
            | Q(display_name__icontains=search)
            | Q(primary_email__icontains=search)
        )
    if kind:
        persons = persons.filter(kind=kind)
    if status:
        persons = persons.filter(status=status)
    if suggested:
        persons = persons.filter(id__in=[pk for group in merge_suggestions() for pk in group])
    # Never seen sorts last on every database (and the index is in that order).
    return persons.order_by(F("last_seen_at").desc(nulls_last=True), "id")


def people_rows(persons: list[Person]) -> list[PeopleRow]:
    """Each listed person with the vendors and number of their identities (one query)."""
    identities = (
        Identity.objects.filter(person__in=persons)
        .values_list("person_id", "source__vendor")
        .order_by("person_id")
    )
    vendors: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    for person_id, vendor in identities:
        counts[person_id] = counts.get(person_id, 0) + 1
        if vendor not in vendors.setdefault(person_id, []):
            vendors[person_id].append(vendor)
    return [
        PeopleRow(
            person,
            counts.get(person.pk, 0),
            sorted(vendors.get(person.pk, [])),
            person.last_seen_at,
        )
        for person in persons
    ]


def merge_suggestions(limit: int = 200) -> list[list[int]]:
    """Groups of current persons who share a full name (any case) and nothing else: the
    same name is evidence for staff to weigh, never a reason to merge by itself."""
    names = (
        Person.objects.filter(merged_into__isnull=True, kind=Person.Kind.HUMAN)
        .exclude(display_name="")
        .annotate(folded=Lower("display_name"))
        .values("folded")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("folded")
        .values_list("folded", flat=True)[:limit]
    )
    groups: dict[str, list[int]] = {}
    persons = (
        Person.objects.filter(merged_into__isnull=True, kind=Person.Kind.HUMAN)
        .annotate(folded=Lower("display_name"))
        .filter(folded__in=list(names))
        .order_by("id")
    )
    for person in persons:
        groups.setdefault(person.folded, []).append(person.pk)
    return [group for group in groups.values() if len(group) > 1]


@dataclass(frozen=True)
class Evidence:
    """What staff weigh before merging a suggestion: each person's identities and events."""

    person: Person
    identities: list[Identity]
    first_seen: datetime | None
    last_seen: datetime | None
    events: int = 0


def suggestion_evidence(person_ids: list[int]) -> list[Evidence]:
    """Each person's identities (sources, ids), events (all time, from the rollups) and first
    and last seen, by person id."""
    totals = dict(
        ActorTotal.objects.filter(person_id__in=person_ids).values_list("person_id", "events")
    )
    evidence = []
    for person in Person.objects.filter(id__in=person_ids).order_by("id"):
        identities = list(person_identities(person.pk))
        seen = Identity.objects.filter(person=person).aggregate(
            first=Min("first_seen_at"), last=Max("last_seen_at")
        )
        evidence.append(
            Evidence(person, identities, seen["first"], seen["last"], totals.get(person.pk, 0))
        )
    return evidence


def suggestions_for(person_id: int) -> list[int]:
    """The other persons staff may want to merge with this one (same name)."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return []
    return [pk for pk in _namesakes([person]).get(person.pk, [])]


def suggested_among(persons: list[Person]) -> set[int]:
    """Those of ``persons`` who have a suggested merge (a namesake), by the name index."""
    return {pk for pk, others in _namesakes(persons).items() if others}


def _namesakes(persons: list[Person]) -> dict[int, list[int]]:
    """Each human person's current namesakes (same full name, any case)."""
    names = {
        person.display_name.lower()
        for person in persons
        if person.display_name and person.kind == Person.Kind.HUMAN
    }
    if not names:
        return {}
    holders: dict[str, list[int]] = {}
    for pk, folded in (
        Person.objects.filter(merged_into__isnull=True, kind=Person.Kind.HUMAN)
        .annotate(folded=Lower("display_name"))
        .filter(folded__in=names)
        .order_by("id")
        .values_list("id", "folded")
    ):
        holders.setdefault(folded, []).append(pk)
    return {
        person.pk: [pk for pk in holders.get(person.display_name.lower(), []) if pk != person.pk]
        for person in persons
        if person.display_name and person.kind == Person.Kind.HUMAN
    }
