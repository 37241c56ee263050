"""Syncing the simulated organisation: every real person's events reach that one person
(recall), no person holds two principals (precision), directories read with syncs."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import pytest
from django.urls import reverse

from activity.models import ActivityEvent, Identity, Person, Source, SyncRun
from activity.people.selectors import merge_suggestions
from activity.sync.engine import sync_source
from dashboard.selectors import person_downloads

from .conftest import VENDORS

pytestmark = pytest.mark.django_db


def sync_all(sim, source_for) -> dict[str, Source]:
    sources = {vendor: source_for(sim, vendor) for vendor in VENDORS}
    for source in sources.values():
        assert sync_source(source).status == SyncRun.Status.SUCCEEDED, source.runs.first().error
    return sources


def principals_by_person(sim) -> dict[int, set[str]]:
    """Each person's principals, from the ground truth of each stored record."""
    held: dict[int, set[str]] = defaultdict(set)
    for vendor, raw, person_id in ActivityEvent.objects.values_list(
        "source__vendor", "raw", "person_id"
    ):
        principal = sim.organisation.actor_of(vendor, json.loads(raw))
        held[person_id].add(principal.key if principal else None)
    return held


def test_every_principal_is_one_person_and_every_person_one_principal(simulator, source_for):
    sync_all(simulator, source_for)
    held = principals_by_person(simulator)
    # Precision: a person's events are one principal's (embedded viewers and user-less logs
    # are nobody's, and sit with anonymous persons only).
    anonymous = set(Person.objects.filter(kind=Person.Kind.ANONYMOUS).values_list("pk", flat=True))
    for person_id, principals in held.items():
        if person_id in anonymous:
            assert principals == {None}, principals
        else:
            assert len(principals) == 1 and None not in principals, (person_id, principals)
    # Recall: a principal's events all reach one person.
    persons_of: dict[str, set[int]] = defaultdict(set)
    for person_id, principals in held.items():
        for key in principals - {None}:
            persons_of[key].add(person_id)
    split = {key: persons for key, persons in persons_of.items() if len(persons) > 1}
    assert split == {}
    radia = Person.objects.get(primary_email="radia.thompson@example.com")
    vendors = set(
        ActivityEvent.objects.filter(person=radia).values_list("source__vendor", flat=True)
    )
    assert vendors == set(VENDORS)
    assert Identity.objects.filter(person=radia, rule=Identity.Rule.DIRECTORY).exists()


def test_name_twins_stay_apart_and_are_suggested(simulator, source_for):
    sync_all(simulator, source_for)
    graces = Person.objects.filter(display_name="Grace Thompson", merged_into__isnull=True)
    assert graces.count() == 2
    assert sorted(graces.values_list("pk", flat=True)) in [sorted(g) for g in merge_suggestions()]


def test_support_staff_and_service_accounts_are_their_own_kinds(simulator, source_for):
    sync_all(simulator, source_for)
    kinds = set(Person.objects.values_list("kind", flat=True))
    assert {Person.Kind.VENDOR_SUPPORT, Person.Kind.SERVICE, Person.Kind.ANONYMOUS} <= kinds
    service = Identity.objects.get(source__vendor="lightdash", kind=Person.Kind.SERVICE)
    assert ActivityEvent.objects.filter(person=service.person).exists()
    # Its downloads carry the creating admin's uuid: on its own page, not on the admin's.
    admin = Identity.objects.get(
        source=service.source, vendor_user_id=service.vendor_user_id.split(":", 1)[1]
    )
    theirs = list(person_downloads(service.person_id))
    assert theirs and all(d.user_name.lower().startswith("service account") for d in theirs)
    assert not {d.pk for d in theirs} & {d.pk for d in person_downloads(admin.person_id)}
    anonymous = Person.objects.filter(kind=Person.Kind.ANONYMOUS)
    assert anonymous and all(p.display_name.startswith("Anonymous users of ") for p in anonymous)


def test_a_member_deactivated_in_one_directory_but_active_elsewhere(simulator, source_for):
    sync_all(simulator, source_for)
    ken = Identity.objects.get(source__vendor="lightdash", name="Ken Hopper")
    assert ken.status == Person.Status.DEACTIVATED
    elsewhere = ken.person.identities.exclude(pk=ken.pk)
    assert elsewhere.count() >= 3
    assert not elsewhere.filter(status=Person.Status.DEACTIVATED).exists()
    # The only directory that says anything of him says deactivated; the person page shows
    # it per identity, and his events elsewhere go on arriving on the same person.
    assert ken.person.status == Person.Status.DEACTIVATED
    assert ActivityEvent.objects.filter(person=ken.person).exclude(source=ken.source).exists()


def test_a_directory_the_token_may_not_read_never_fails_the_sync(
    simulator, source_for, client, admin_user
):
    simulator.lightdash_directory_forbidden = True
    source = source_for(simulator, "lightdash")
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED and run.events_new > 0
    source.refresh_from_db()
    assert "view:OrganizationMemberProfile" in source.directory_error
    client.force_login(admin_user)
    page = client.get(reverse("sources")).content.decode()
    assert "directory unavailable" in page and "view:OrganizationMemberProfile" in page
    # Read again once the hour is over: granted now, it links.
    simulator.lightdash_directory_forbidden = False
    Source.objects.filter(pk=source.pk).update(
        directory_read_at=source.directory_read_at - timedelta(hours=1)
    )
    source.refresh_from_db()
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    source.refresh_from_db()
    assert source.directory_error == ""
    # Alone in the database, its people keep their persons, which now carry their emails.
    radia = Identity.objects.get(source=source, email="radia.thompson@example.com")
    assert radia.status == Person.Status.ACTIVE
    assert radia.person.primary_email == "radia.thompson@example.com"


def test_the_directory_is_read_at_most_hourly(simulator, source_for):
    source = source_for(simulator, "domo")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    source.refresh_from_db()
    first_read = source.directory_read_at
    assert first_read and source.directory_error == ""
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    source.refresh_from_db()
    assert source.directory_read_at == first_read


def test_an_audit_only_domo_client_syncs_and_says_which_scope_to_grant(simulator, source_for):
    simulator.domo_client_scopes = ("audit",)
    source = source_for(simulator, "domo")
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    source.refresh_from_db()
    assert "user" in source.directory_error and "scope" in source.directory_error
    assert not Identity.objects.filter(source=source, rule=Identity.Rule.DIRECTORY).exists()
