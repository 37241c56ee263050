"""Reads for a person's page: their events, downloads and totals."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Sum

from activity.models import ActivityEvent, ActorCategory, DailyActor, Download
from dashboard.selectors.activity import event_list
from dashboard.selectors.downloads import download_list


def person_events(key: str) -> QuerySet[ActivityEvent]:
    return event_list().filter(_person_match(key))


def _person_match(key: str) -> Q:
    return Q(actor_id=key[3:]) if key.startswith("id:") else Q(actor_email=key.lower())


def person_downloads(key: str) -> QuerySet[Download]:
    """Downloads by the person's own Lightdash id. Lightdash's download rows carry a user UUID
    and names, never an email: a person known by email has none to show here (reading every
    download to join it to its event found none either, in seconds)."""
    if key.startswith("id:"):
        return download_list().filter(user_uuid=key[3:])
    return download_list().none()


def person_by_vendor(key: str) -> list[tuple[str, int]]:
    return list(
        DailyActor.objects.filter(actor_key=_rollup_key(key))
        .values_list("source__vendor")
        .annotate(events=Sum("events"))
        .order_by("-events")
    )


def person_by_category(key: str) -> list[tuple[str, int]]:
    return list(
        ActorCategory.objects.filter(actor_key=_rollup_key(key))
        .order_by("-events", "category")
        .values_list("category", "events")
    )


def _rollup_key(key: str) -> str:
    return key if key.startswith("id:") else key.lower()


def person_label(key: str) -> str:
    event = (
        ActivityEvent.objects.filter(_person_match(key))
        .order_by("-occurred_at")
        .only("actor_name")
        .first()
    )
    if event and event.actor_name:
        return event.actor_name
    return key.removeprefix("id:")
