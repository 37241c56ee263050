"""Syncing the simulated organisation: every real person's events reach that one person
(recall), no person holds two principals (precision), directories read with syncs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from activity.connectors import CONNECTORS
from activity.models import ActivityEvent, Identity, Person, Source, SyncRun
from activity.people import seen
from activity.people.decisions import people_merge
from activity.people.seen import SyncIdentities
from activity.people.selectors import merge_suggestions
from activity.rollups import rollups_rebuild
from activity.sync.engine import sync_source
from activity.sync.store import events_save
from dashboard.selectors import person_downloads
from tests.dashboard.people import rollup_rows

from .conftest import VENDORS, seen_times_astray

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


def test_identities_first_and_last_seen_are_their_events_whatever_the_flush_points(
    simulator, source_for, monkeypatch
):
    # Written every other page, and at the run's end: exact either way.
    monkeypatch.setattr(seen, "FLUSH_PAGES", 2)
    sources = sync_all(simulator, source_for)
    for source in sources.values():
        assert source.runs.first().pages > 4
        assert seen_times_astray(source) == {}
        assert Source.objects.get(pk=source.pk).identities_seen_to is not None


def test_a_run_killed_between_flushes_leaves_its_seen_times_to_the_next_run(simulator, source_for):
    source = source_for(simulator, "velt")
    connector = CONNECTORS["velt"](source, since=None, until=None, now=None)
    connector.prepare()
    with connector.client() as client:
        walked = list(connector.walk(client))
    assert len(walked) > 2
    # The pages as a killed run stored them: committed, their seen-times never written.
    identities = SyncIdentities.begin(source)
    for page in walked[:-1]:
        with transaction.atomic():
            events_save(source=source, events=page.events, identities=identities)
    assert identities.pending and seen_times_astray(source)
    # The next run folds in what the killed one stored after its mark.
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    assert seen_times_astray(source) == {}


def test_a_merge_between_two_pages_of_a_sync_is_seen_by_the_next_page(simulator, source_for):
    """The run remembers each identity's person; a page whose remembered person was merged
    away meanwhile is stored again from the database, so no event lands on a merged person."""
    others = sync_all(simulator, source_for)
    source = source_for(simulator, "velt", name="velt-again")
    merged = []

    def merge_after_the_first_page(run, page):
        if merged:
            return
        # The busiest person of the page, merged into someone who is not in this source.
        ids = Counter(
            ActivityEvent.objects.filter(source=source).values_list("person_id", flat=True)
        )
        gone = next(pk for pk, _ in ids.most_common() if Person.objects.get(pk=pk).kind == "human")
        keep = (
            Person.objects.filter(
                kind="human", merged_into__isnull=True, identities__source=others["domo"]
            )
            .exclude(identities__source=source)
            .first()
        )
        people_merge(keep_id=keep.pk, merge_id=gone, reason="test", by="test")
        merged.append((keep.pk, gone))

    assert (
        sync_source(source, on_page=merge_after_the_first_page).status == SyncRun.Status.SUCCEEDED
    )
    keep, gone = merged[0]
    assert source.runs.first().pages > 2
    assert not ActivityEvent.objects.filter(person_id=gone).exists()
    assert ActivityEvent.objects.filter(source=source, person_id=keep).count() > 1
    kept = rollup_rows()
    rollups_rebuild()
    assert rollup_rows() == kept
