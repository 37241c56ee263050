"""People in the admin: read-only records, changed only by decisions with a reason."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from activity.models import ActivityEvent, Identity, Person, PersonDecision
from tests.dashboard.people import make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def act(client, model: str, action: str, ids: list[int], reason: str = "same badge"):
    return client.post(
        reverse(f"admin:activity_{model}_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: ids, "reason": reason},
        follow=True,
    )


def notes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_persons_are_searched_by_name_email_identity_and_vendor_id(admin_client, people):
    url = reverse("admin:activity_person_changelist")
    for term, expected in [
        ("Lovelace", people.ada),
        ("ghopper@other", people.grace_twin),
        ("52001", people.ada),
        ("ci-bot", people.bot),
    ]:
        shown = list(admin_client.get(url, {"q": term}).context["cl"].result_list)
        assert shown == [expected], term
    kinds = admin_client.get(url, {"kind__exact": "service"}).context["cl"].result_list
    assert list(kinds) == [people.bot]


def test_the_person_page_lists_identities_read_only(admin_client, people):
    response = admin_client.get(reverse("admin:activity_person_change", args=[people.ada.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "52001" in body and "velt-ada" in body
    assert 'name="identities-0-email"' not in body  # shown, not editable
    assert admin_client.get(reverse("admin:activity_identity_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:activity_persondecision_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:activity_person_add")).status_code == 403


def test_merge_selected_keeps_the_older_and_records_the_reason(admin_client, people):
    response = act(
        admin_client, "person", "merge_selected", [people.grace_twin.pk, people.grace.pk]
    )
    assert any("Merged" in note for note in notes(response))
    decision = PersonDecision.objects.get()
    assert (decision.person_id, decision.other_id, decision.reason, decision.decided_by) == (
        people.grace.pk,
        people.grace_twin.pk,
        "same badge",
        "admin",
    )
    assert ActivityEvent.objects.filter(person=people.grace).count() == 6


@pytest.mark.parametrize("count, reason", [(1, "x"), (3, "x"), (2, "")])
def test_merge_needs_two_persons_and_a_reason(admin_client, people, count, reason):
    ids = [people.grace.pk, people.grace_twin.pk, people.ada.pk][:count]
    response = act(admin_client, "person", "merge_selected", ids, reason=reason)
    assert any("two persons" in note or "reason" in note for note in notes(response))
    assert not PersonDecision.objects.exists()


def test_split_and_undo_from_the_admin(admin_client, people):
    velt = Identity.objects.get(person=people.ada, source=people.sources["velt"])
    act(admin_client, "identity", "split_selected", [velt.pk], reason="shared mailbox")
    velt.refresh_from_db()
    assert velt.person_id != people.ada.pk
    decision = PersonDecision.objects.get()
    response = act(admin_client, "persondecision", "undo_selected", [decision.pk], reason="oops")
    assert any("Undid decision" in note for note in notes(response))
    velt.refresh_from_db()
    assert velt.person_id == people.ada.pk
    last = Identity.objects.get(person=people.grace)
    refused = act(admin_client, "identity", "split_selected", [last.pk], reason="x")
    assert any("last identity" in note for note in notes(refused))
    assert PersonDecision.objects.count() == 1


def test_the_actions_need_the_right_to_change_persons(client, people):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_person"))
    client.force_login(user)
    response = client.get(reverse("admin:activity_person_changelist"))
    assert response.status_code == 200
    assert b"merge_selected" not in response.content
    act(client, "person", "merge_selected", [people.grace.pk, people.grace_twin.pk])
    assert not PersonDecision.objects.exists()
    assert Person.objects.get(pk=people.grace_twin.pk).merged_into_id is None
