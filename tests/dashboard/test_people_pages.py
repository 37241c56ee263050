"""The people list, the person page and the staff decisions taken from it."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from activity.models import (
    ActivityEvent,
    ActorTotal,
    Identity,
    Person,
    PersonDecision,
)
from activity.rollups import rollups_rebuild
from activity.sync.store import events_upsert
from tests.dashboard.people import ADA, actor_events, make_people, rollup_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def listed(response) -> list[int]:
    return [row.person.pk for row in response.context["rows"]]


def assert_rollups_match_the_events():
    kept = rollup_rows()
    rollups_rebuild()
    assert kept == rollup_rows()


def snapshot() -> tuple:
    return (
        sorted(Identity.objects.values_list("id", "person_id", "rule", "pinned")),
        sorted(ActivityEvent.objects.values_list("id", "person_id")),
        sorted(Person.objects.values_list("id", "merged_into_id", "primary_email")),
        PersonDecision.objects.count(),
        rollup_rows(),
    )


# The people list


def test_the_list_shows_every_current_person_with_vendors_and_last_seen(viewer, people):
    response = viewer.get(reverse("people"))
    assert response.status_code == 200
    rows = {row.person.pk: row for row in response.context["rows"]}
    assert set(rows) == {people.ada.pk, people.grace.pk, people.grace_twin.pk, people.bot.pk}
    ada = rows[people.ada.pk]
    assert ada.vendors == ["datafold", "domo", "lightdash", "velt"] and ada.identities == 4
    assert ada.last_seen is not None
    # Most recently active first, ties by id.
    seen = [(row.last_seen, row.person.pk) for row in response.context["rows"]]
    assert seen == sorted(seen, key=lambda pair: (-pair[0].timestamp(), pair[1]))
    assert b"Ada Lovelace" in response.content and b'data-label="Last seen"' in response.content


@pytest.mark.parametrize(
    "query, who",
    [
        ({"q": "lovel"}, ["ada"]),
        ({"q": "ADA@example"}, ["ada"]),
        ({"q": "52002"}, ["grace_twin"]),  # a vendor id, whole
        ({"q": "hopper"}, ["grace", "grace_twin"]),
        ({"kind": "service"}, ["bot"]),
        ({"kind": "human", "q": "grace"}, ["grace", "grace_twin"]),
        ({"status": "deactivated"}, []),
    ],
)
def test_search_and_filters(viewer, people, query, who):
    response = viewer.get(reverse("people"), query)
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(getattr(people, name).pk for name in who)


@pytest.mark.parametrize(
    "query, field", [({"kind": "robot"}, "kind"), ({"status": "retired"}, "status")]
)
def test_a_bad_filter_value_is_a_400_with_the_error_by_its_field(viewer, people, query, field):
    response = viewer.get(reverse("people"), query)
    assert response.status_code == 400
    assert response.context["filter"].form.errors[field]
    assert b'role="alert"' in response.content
    htmx = viewer.get(reverse("people"), query, headers={"HX-Request": "true"})
    assert htmx.status_code == 400
    assert f'id="error-{field}" hx-swap-oob="true">Select a valid choice'.encode() in htmx.content


def test_a_page_past_the_end_is_a_400(viewer, people):
    assert viewer.get(reverse("people"), {"page": "9"}).status_code == 400
    assert viewer.get(reverse("people"), {"page": "x"}).status_code == 400


def test_htmx_gets_only_the_results(viewer, people):
    response = viewer.get(reverse("people"), {"q": "ada"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results">') and "<html" not in body


def test_suggested_merges_are_for_staff_only(viewer, staff, people):
    staff_list = staff.get(reverse("people"), {"suggested": "on"})
    assert sorted(listed(staff_list)) == sorted([people.grace.pk, people.grace_twin.pk])
    assert b"suggested merge" in staff_list.content
    assert b'name="suggested"' in staff.get(reverse("people")).content
    viewer_list = viewer.get(reverse("people"), {"suggested": "on"})
    assert len(listed(viewer_list)) == 4  # no such filter for viewers
    assert b'name="suggested"' not in viewer_list.content
    assert b"suggested merge" not in viewer_list.content


def test_the_navigation_leads_to_people(viewer, people):
    body = viewer.get(reverse("activity")).content.decode()
    assert f'href="{reverse("people")}"' in body
    page = viewer.get(reverse("person", args=[people.ada.pk])).content.decode()
    assert f'<a href="{reverse("people")}" aria-current="page">People</a>' in page


def test_the_same_name_is_never_merged_by_itself(people):
    assert people.grace.pk != people.grace_twin.pk
    assert Person.objects.get(pk=people.grace_twin.pk).merged_into_id is None


# The person page


def test_the_person_page_shows_every_vendor_a_chart_and_the_timeline(viewer, people):
    response = viewer.get(reverse("person", args=[people.ada.pk]))
    assert response.status_code == 200
    vendors = {identity.source.vendor for identity in response.context["identities"]}
    assert vendors == {"lightdash", "datafold", "domo", "velt"}
    assert {row.source.vendor for row in response.context["page"].rows} == vendors
    figure = json.loads(response.context["per_day"])
    assert {trace["name"] for trace in figure["data"]} == {"Lightdash", "Datafold", "Domo", "Velt"}
    assert figure["data"][0]["meta"].startswith(f"/activity/?person={ADA.replace('@', '%40')}")
    assert figure["layout"]["shapes"][0]["type"] == "rect"  # today veiled: not a drop
    body = response.content.decode()
    assert "Split off" not in body and "Merge into this one" not in body and "Undo" not in body


def test_one_day_of_activity_is_a_number_not_a_one_bar_chart(viewer, people):
    figure = json.loads(viewer.get(reverse("person", args=[people.bot.pk])).context["per_day"])
    assert [trace["type"] for trace in figure["data"]] == ["indicator"]
    assert figure["data"][0]["value"] == 1


def test_old_links_by_email_and_merged_persons_redirect(viewer, staff, people):
    response = viewer.get(reverse("person_by_key", args=[ADA]))
    assert response.status_code == 302
    assert response["Location"] == reverse("person", args=[people.ada.pk])
    merge(staff, people.grace, people.grace_twin)
    moved = viewer.get(reverse("person", args=[people.grace_twin.pk]))
    assert moved["Location"] == reverse("person", args=[people.grace.pk])


def test_staff_see_the_suggestion_with_its_evidence(staff, people):
    response = staff.get(reverse("person", args=[people.grace.pk]))
    evidence = {one.person.pk: one for one in response.context["evidence"]}
    assert set(evidence) == {people.grace.pk, people.grace_twin.pk}
    twin = evidence[people.grace_twin.pk]
    assert twin.events == 4 and twin.first_seen and twin.last_seen
    assert [(i.source.name, i.vendor_user_id) for i in twin.identities] == [("domo-one", "52002")]
    body = response.content.decode()
    assert f"Merge person {people.grace_twin.pk} into this one" in body
    assert "ghopper@other.example" in body
    # One identity left: nothing to split off.
    assert "Split off" not in body


# Decisions from the page


def merge(client: Client, keep: Person, gone: Person, reason: str = "same badge number"):
    return client.post(
        reverse("person_merge", args=[keep.pk]), {"other": gone.pk, "reason": reason}
    )


@pytest.mark.parametrize("name", ["person_merge", "person_split", "person_undo"])
def test_decisions_are_staff_only(viewer, people, name):
    before = snapshot()
    data = {"other": people.grace_twin.pk, "identity": 1, "decision": 1, "reason": "x"}
    assert viewer.post(reverse(name, args=[people.grace.pk]), data).status_code == 403
    assert viewer.get(reverse(name, args=[people.grace.pk])).status_code == 405
    assert snapshot() == before


def test_staff_without_the_change_person_right_are_refused(people):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_activityevent"))
    client = Client()
    client.force_login(user)
    assert merge(client, people.grace, people.grace_twin).status_code == 403


def test_decisions_need_the_csrf_token(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("boss2", password="pw"))
    assert merge(client, people.grace, people.grace_twin).status_code == 403
    assert not PersonDecision.objects.exists()


def test_a_merge_moves_identities_events_and_rollups_and_undo_puts_them_back(staff, people):
    before = snapshot()
    response = merge(staff, people.grace, people.grace_twin)
    assert response.status_code == 302
    assert response["Location"] == reverse("person", args=[people.grace.pk])
    page = staff.get(response["Location"])
    assert "Merged Grace Hopper (person" in page.content.decode()  # the note
    assert ActivityEvent.objects.filter(person=people.grace).count() == 6
    assert not ActivityEvent.objects.filter(person=people.grace_twin).exists()
    assert Identity.objects.filter(person=people.grace).count() == 2
    assert ActorTotal.objects.get(person=people.grace).events == 6
    assert_rollups_match_the_events()
    decision = PersonDecision.objects.get()
    assert (decision.decided_by, decision.reason, decision.events_moved) == (
        "boss",
        "same badge number",
        4,
    )
    assert "same badge number" in page.content.decode()
    undo = staff.post(
        reverse("person_undo", args=[people.grace.pk]),
        {"decision": decision.pk, "reason": "different people after all"},
    )
    assert undo.status_code == 302
    decision.refresh_from_db()
    assert decision.undone_by == "boss" and decision.undo_reason == "different people after all"
    identities, events, persons, _, rollups = snapshot()
    assert events == before[1] and rollups == before[4] and persons == before[2]
    assert [pid for _, pid, *_ in identities] == [pid for _, pid, *_ in before[0]]
    assert_rollups_match_the_events()
    assert (
        "Undo</button>" not in staff.get(reverse("person", args=[people.grace.pk])).content.decode()
    )


def test_a_split_moves_the_identity_and_its_events_to_a_new_person(staff, people):
    velt = Identity.objects.get(person=people.ada, source=people.sources["velt"])
    response = staff.post(
        reverse("person_split", args=[people.ada.pk]),
        {"identity": velt.pk, "reason": "a shared mailbox"},
    )
    assert response.status_code == 302
    velt.refresh_from_db()
    assert velt.person_id != people.ada.pk and velt.pinned
    assert ActivityEvent.objects.filter(person_id=velt.person_id).count() == 3
    assert ActivityEvent.objects.filter(person=people.ada).count() == 9
    assert_rollups_match_the_events()
    decision = PersonDecision.objects.get()
    undo = staff.post(
        reverse("person_undo", args=[people.ada.pk]), {"decision": decision.pk, "reason": "no"}
    )
    assert undo.status_code == 302
    assert ActivityEvent.objects.filter(person=people.ada).count() == 12
    assert_rollups_match_the_events()


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("person_merge", {"other": "self", "reason": "x"}, "cannot be merged into itself"),
        ("person_merge", {"other": 999999, "reason": "x"}, "No person with id 999999"),
        ("person_merge", {"other": "twin", "reason": "  "}, "Give a reason"),
        ("person_merge", {"other": "abc", "reason": "x"}, "Enter a whole number"),
        ("person_split", {"identity": "last", "reason": "x"}, "last identity"),
        ("person_split", {"identity": "ada", "reason": "x"}, "not this person"),
        ("person_undo", {"decision": 999999, "reason": "x"}, "No decision with id 999999"),
    ],
)
def test_a_refused_decision_is_a_400_with_its_message_and_changes_nothing(
    staff, people, name, data, message
):
    values = {
        "self": people.grace.pk,
        "twin": people.grace_twin.pk,
        "last": Identity.objects.get(person=people.grace).pk,
        "ada": Identity.objects.filter(person=people.ada).first().pk,
    }
    data = {key: values.get(value, value) for key, value in data.items()}
    before = snapshot()
    response = staff.post(reverse(name, args=[people.grace.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert b'role="alert"' in response.content
    assert snapshot() == before


def test_an_unknown_person_is_a_404(staff, people):
    assert merge(staff, Person(pk=999999), people.grace).status_code == 404
    assert staff.get(reverse("person", args=[999999])).status_code == 404


def test_a_merged_person_cannot_be_merged_again(staff, people):
    merge(staff, people.grace, people.grace_twin)
    response = merge(staff, people.ada, people.grace_twin)
    assert response.status_code == 400
    assert "was merged into person" in response.content.decode()


def test_decisions_survive_relinking_and_new_events(staff, people):
    merge(staff, people.grace, people.grace_twin)
    twin = {"actor_id": "52002", "actor_email": "ghopper@other.example", "actor_name": "G H"}
    events_upsert(source=people.sources["domo"], events=actor_events("twin-later", twin, 2))
    call_command("link_people", stdout=io.StringIO())
    assert not ActivityEvent.objects.filter(person=people.grace_twin).exists()
    assert ActivityEvent.objects.filter(person=people.grace).count() == 8
