"""Reads for a person's page: their timeline across vendors, downloads and totals."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet, Sum

from activity.connectors.lightdash import SERVICE_ACCOUNT_NAME, SERVICE_ACCOUNT_PREFIX
from activity.models import (
    ActivityEvent,
    ActorCategory,
    DailyActor,
    Download,
    Identity,
    Person,
    Vendor,
)
from dashboard.selectors.activity import event_list
from dashboard.selectors.downloads import download_list


def person_events(person_id: int) -> QuerySet[ActivityEvent]:
    """The person's events in every source (the (person, time) index, newest first)."""
    return event_list().filter(person_id=person_id)


def person_downloads(person_id: int) -> QuerySet[Download]:
    """Downloads by the person's Lightdash identities, by each one's own user id (Lightdash's
    download rows carry a user UUID and names, never an email)."""
    lightdash = Identity.objects.filter(
        person_id=person_id, source__vendor=Vendor.LIGHTDASH, key__startswith="id:"
    ).values_list("source_id", "vendor_user_id")
    match = Q()
    for source_id, user_id in lightdash:
        # A service account's downloads carry the uuid of the admin who created it.
        service = Q(user_name__istartswith=SERVICE_ACCOUNT_NAME)
        if user_id.startswith(SERVICE_ACCOUNT_PREFIX):
            user_uuid = user_id.removeprefix(SERVICE_ACCOUNT_PREFIX)
            match |= Q(source_id=source_id, user_uuid=user_uuid) & service
        else:
            match |= Q(source_id=source_id, user_uuid=user_id) & ~service
    if not match:
        return download_list().none()
    return download_list().filter(match)


def person_by_vendor(person_id: int) -> list[tuple[str, int]]:
    return list(
        DailyActor.objects.filter(person_id=person_id)
        .values_list("source__vendor")
        .annotate(events=Sum("events"))
        .order_by("-events")
    )


def person_by_day(person_id: int, *, since: date) -> list[tuple[date, str, int]]:
    """``(UTC day, vendor, events)`` since ``since``."""
    return list(
        DailyActor.objects.filter(person_id=person_id, day__gte=since)
        .values_list("day", "source__vendor")
        .annotate(events=Sum("events"))
        .order_by("day", "source__vendor")
    )


def person_by_category(person_id: int) -> list[tuple[str, int]]:
    return list(
        ActorCategory.objects.filter(person_id=person_id)
        .order_by("-events", "category")
        .values_list("category", "events")
    )


def person_key(person: Person) -> str:
    """What the log's person filter finds this person by: their email, else a vendor id."""
    if person.primary_email:
        return person.primary_email
    ids = Identity.objects.filter(person=person).exclude(vendor_user_id="")
    return ids.order_by("id").values_list("vendor_user_id", flat=True).first() or ""
