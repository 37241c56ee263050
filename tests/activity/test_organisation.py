"""The simulator's one organisation: the same people across the four vendors, and the
awkward cases identity linking must get right, with the ground truth to score it."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from activity.connectors import CONNECTORS
from activity.simulator.organisation import LIGHTDASH_SERVICE_FIRST_NAME, organisation
from tests.activity.conftest import VENDORS


@pytest.fixture(scope="module")
def sim():
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=600, seed=7) as simulator:
        yield simulator


def actors(sim, vendor: str) -> list:
    return [sim.organisation.actor_of(vendor, record) for record in sim.truth(vendor)]


def test_radia_thompson_acts_in_all_four_vendors_as_one_person(sim):
    radia = next(p for p in sim.organisation.people() if p.key == "radia.thompson@example.com")
    assert {vendor for vendor, _ in radia.vendor_ids} == set(VENDORS)
    for vendor in VENDORS:
        assert radia in actors(sim, vendor)


def test_every_record_is_someones_but_embed_viewers_and_anonymous_logs(sim):
    for vendor in VENDORS:
        records = sim.truth(vendor)
        nobody = [r for r, a in zip(records, actors(sim, vendor), strict=True) if a is None]
        if vendor == "lightdash":
            assert nobody and all(r["userUuid"] is None for r in nobody)
        elif vendor == "datafold":
            assert nobody and all(r["user_id"] is None for r in nobody)
        else:
            assert nobody == []


def test_people_in_one_vendor_only_act_in_each_vendor(sim):
    for vendor in VENDORS:
        only_here = {
            a
            for a in actors(sim, vendor)
            if a and a.kind == "person" and {v for v, _ in a.vendor_ids} == {vendor}
        }
        assert len(only_here) >= 20


def test_two_people_share_a_name_and_act_apart(sim):
    names = Counter(person.name for person in sim.organisation.people())
    assert [name for name, count in names.items() if count > 1] == ["Grace Thompson"]
    twins = {a.key for a in actors(sim, "lightdash") if a and a.name == "Grace Thompson"}
    assert twins == {"grace.thompson@example.com", "grace.thompson@partner.example.org"}


def test_a_member_deactivated_in_lightdash_is_active_elsewhere(sim):
    ken = next(p for p in sim.organisation.people() if p.key == "ken.hopper@example.com")
    states = {account.vendor: account.active for account in ken.accounts}
    assert states == {"lightdash": False, "datafold": True, "domo": True, "velt": True}
    assert ken in actors(sim, "domo") and ken in actors(sim, "lightdash")


def test_service_accounts_and_support_staff_are_not_people(sim):
    kinds = {a.key: a.kind for vendor in VENDORS for a in actors(sim, vendor) if a}
    assert {key for key, kind in kinds.items() if kind != "person"} == {
        "service:lightdash",
        "service:domo",
        "service:datafold",
        "support:datafold",
    }
    # Lightdash's service account acts under the admin's uuid, named "service account".
    service_rows = [
        r for r in sim.truth("lightdash") if r["userFirstName"] == LIGHTDASH_SERVICE_FIRST_NAME
    ]
    admin = sim.organisation.principal("lightdash", service_rows[0]["userUuid"])
    assert admin.key == "ada.lovelace@example.com"
    support = [r for r in sim.truth("datafold") if r["is_support_user"]]
    assert support and {r["user_email"] for r in support} == {"support@datafold.com"}


def test_the_organisation_depends_only_on_the_seed():
    assert organisation(7) is organisation(7)
    first = organisation(7).directory("lightdash")[0].user_id
    assert first != organisation(8).directory("lightdash")[0].user_id


@pytest.mark.django_db
def test_every_persons_events_reach_their_address_through_directories_and_records(sim, source_for):
    """The ground truth is consistent: each real person's events lead, through the vendor's
    directory (Lightdash, Domo) or the records' own addresses (Datafold, Velt), to an
    address of that person and of nobody else."""
    directory = {}
    for vendor in ("lightdash", "domo"):
        connector = CONNECTORS[vendor](source_for(sim, vendor))
        with connector.client() as client:
            directory |= {(vendor, m.vendor_user_id): m.email for m in connector.directory(client)}
    for record in sim.truth("datafold"):
        if record["user_id"] is not None:
            directory[("datafold", str(record["user_id"]))] = record["user_email"]
    for record in sim.truth("velt"):
        if record["actionUser"].get("email"):
            directory[("velt", record["actionUser"]["userId"])] = record["actionUser"]["email"]
    ids = {"lightdash": "userUuid", "datafold": "user_id", "domo": "userId"}
    reached = defaultdict(set)
    for vendor in VENDORS:
        for record, actor in zip(sim.truth(vendor), actors(sim, vendor), strict=True):
            if actor is None or actor.kind != "person":
                continue
            user_id = record[ids[vendor]] if vendor in ids else record["actionUser"]["userId"]
            email = directory[(vendor, str(user_id))].lower()
            assert email in actor.emails
            reached[email].add(actor.key)
    assert all(len(keys) == 1 for keys in reached.values())
