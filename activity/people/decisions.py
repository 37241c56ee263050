"""Staff decisions about people: merge two persons, split an identity off a person, undo
either. Each is recorded (who, when, why, what moved) and pins the identities it moved, so
re-syncs and re-linking leave them where staff put them."""

from __future__ import annotations

from collections import Counter

from django.utils import timezone

from activity.models import (
    ActiveHours,
    ActivityEvent,
    ActorCategory,
    DailyActor,
    HourlyActor,
    Identity,
    Person,
    PersonDecision,
)
from activity.people.linking import identity_move, persons_refresh
from activity.rollups import person_rollups_add
from activity.transactions import atomic_retried

Rule = Identity.Rule


class DecisionError(ValueError):
    """A decision that cannot be taken as asked; nothing was changed."""


def _locked(*person_ids: int) -> dict[int, Person]:
    """The persons, locked in id order (concurrent decisions over the same persons wait for
    each other instead of each moving half the identities)."""
    # No-key locks: syncs inserting events of these persons (key-share locks) go on.
    persons = Person.objects.select_for_update(no_key=True).filter(id__in=person_ids).order_by("id")
    found = {person.pk: person for person in persons}
    missing = sorted(set(person_ids) - set(found))
    if missing:
        raise DecisionError(f"No person with id {missing[0]}.")
    return found


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DecisionError("Give a reason: it is kept with the decision.")
    return reason


@atomic_retried
def people_merge(*, keep_id: int, merge_id: int, reason: str, by: str) -> PersonDecision:
    """Merge person ``merge_id`` into ``keep_id``: every identity and event moves, the people
    rollups with them (read from the rollups, not from the events), and the merged person
    points to the one kept."""
    reason = _reason(reason)
    if keep_id == merge_id:
        raise DecisionError("A person cannot be merged into itself.")
    persons = _locked(keep_id, merge_id)
    keep, gone = persons[keep_id], persons[merge_id]
    for person in (keep, gone):
        if person.merged_into_id:
            raise DecisionError(
                f"Person {person.pk} was merged into person {person.merged_into_id} already."
            )
        if person.kind == Person.Kind.ANONYMOUS:
            raise DecisionError("Anonymous users (no id, no email) cannot be merged.")
    by_day: Counter = Counter()
    by_category: Counter = Counter()
    for day, source_id, events in DailyActor.objects.filter(person=gone).values_list(
        "day", "source_id", "events"
    ):
        by_day[day, source_id, gone.pk] -= events
        by_day[day, source_id, keep.pk] += events
    for category, events in ActorCategory.objects.filter(person=gone).values_list(
        "category", "events"
    ):
        by_category[gone.pk, category] -= events
        by_category[keep.pk, category] += events
    by_hour: Counter = Counter()
    for hour, category, events in HourlyActor.objects.filter(person=gone).values_list(
        "hour", "category", "events"
    ):
        by_hour[gone.pk, hour, category] -= events
        by_hour[keep.pk, hour, category] += events
    active: Counter = Counter()
    for day, hours in ActiveHours.objects.filter(person=gone).values_list("day", "hours"):
        active[keep.pk, day] |= hours
    moved = ActivityEvent.objects.filter(person=gone).update(person=keep)
    person_rollups_add(by_day, by_category, by_hour=by_hour, active=active)
    identities = list(gone.identities.order_by("id").values_list("id", flat=True))
    Identity.objects.filter(id__in=identities).update(person=keep, rule=Rule.STAFF, pinned=True)
    gone.merged_into = keep
    gone.save(update_fields=["merged_into"])
    persons_refresh([keep.pk])
    return PersonDecision.objects.create(
        action=PersonDecision.Action.MERGE,
        person=keep,
        other=gone,
        identities=identities,
        events_moved=moved,
        reason=reason,
        decided_by=by,
    )


@atomic_retried
def identity_split(*, identity_id: int, reason: str, by: str) -> PersonDecision:
    """Split an identity off its person into a new person of its own, with its events."""
    reason = _reason(reason)
    identity = Identity.objects.filter(pk=identity_id).first()
    if identity is None or identity.person_id is None:
        raise DecisionError(f"No linked identity with id {identity_id}.")
    old = _locked(identity.person_id)[identity.person_id]
    identity.refresh_from_db()
    if identity.person_id != old.pk:
        raise DecisionError("The identity moved while this was asked: look again.")
    if old.identities.count() < 2:
        raise DecisionError("This is the person's last identity: there is nothing to split.")
    new = Person.objects.create(
        display_name=identity.name or identity.email or identity.vendor_user_id,
        primary_email=identity.email,
        kind=identity.kind,
        status=identity.status,
    )
    moved = identity_move(identity, new.pk, rule=Rule.STAFF, pinned=True)
    if old.primary_email and old.primary_email == identity.email:
        emails = old.identities.exclude(email="").values_list("email", flat=True)
        old.primary_email = next(iter(emails), "")
        old.save(update_fields=["primary_email"])
    persons_refresh([old.pk, new.pk])
    return PersonDecision.objects.create(
        action=PersonDecision.Action.SPLIT,
        person=new,
        other=old,
        identities=[identity.pk],
        events_moved=moved,
        reason=reason,
        decided_by=by,
    )


@atomic_retried
def decision_undo(*, decision_id: int, reason: str, by: str) -> PersonDecision:
    """Put back what a decision moved: a merge's identities (and their events) go back to
    the person merged away, which is current again; a split identity goes back to the
    person it was split from. The decision is kept, marked undone."""
    reason = _reason(reason)
    decision = PersonDecision.objects.select_for_update().filter(pk=decision_id).first()
    if decision is None:
        raise DecisionError(f"No decision with id {decision_id}.")
    if decision.undone_at:
        raise DecisionError(f"Decision {decision_id} was undone already.")
    persons = _locked(decision.person_id, decision.other_id)
    back_to, away_from = persons[decision.other_id], persons[decision.person_id]
    for identity in Identity.objects.filter(id__in=decision.identities, person=away_from):
        identity_move(identity, back_to.pk, rule=Rule.STAFF, pinned=True)
    if decision.action == PersonDecision.Action.MERGE:
        back_to.merged_into = None
        back_to.save(update_fields=["merged_into"])
    elif not away_from.identities.exists():
        away_from.merged_into = back_to
        away_from.save(update_fields=["merged_into"])
    persons_refresh([back_to.pk, away_from.pk])
    decision.undone_at, decision.undone_by, decision.undo_reason = timezone.now(), by, reason
    decision.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    return decision
