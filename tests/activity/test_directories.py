"""Each vendor's user directory, read over real HTTP from the simulator's organisation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from activity.connectors import CONNECTORS, domo, lightdash
from activity.connectors.directory import DirectoryMember, MemberStatus
from activity.models import SyncRun
from activity.sync.engine import sync_source
from activity.sync.errors import DirectoryUnavailable, VendorAuthError

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim():
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=0, seed=7) as simulator:
        yield simulator


@pytest.fixture
def read_directory(source_for):
    def read(sim, vendor: str) -> list[DirectoryMember]:
        connector = CONNECTORS[vendor](source_for(sim, vendor))
        with connector.client() as client:
            return list(connector.directory(client))

    return read


def calls(sim, vendor: str, path: str) -> list[dict]:
    return [query for _m, called, query, _b in sim.request_log(vendor) if called == path]


def expected(sim, vendor: str) -> dict[str, str | None]:
    return {a.user_id: a.email for a in sim.organisation.directory(vendor)}


def assert_no_secret(sim, vendor: str, message: str) -> None:
    for secret in sim.secrets[vendor].values():
        assert secret not in message


# -- Lightdash ---------------------------------------------------------------------------------
def test_lightdash_lists_each_member_once_with_its_state(sim, read_directory):
    members = read_directory(sim, "lightdash")
    by_id = {member.vendor_user_id: member for member in members}
    assert len(by_id) == len(members) == 61
    assert {uid: m.email for uid, m in by_id.items()} == expected(sim, "lightdash")
    by_email = {m.email: m for m in members}
    assert by_email["ken.hopper@example.com"].status == MemberStatus.DEACTIVATED
    assert by_email["radia.thompson@example.com"].status == MemberStatus.ACTIVE
    assert by_email["ada.lovelace@example.com"].role == "admin"
    pending = [m for m in members if m.pending]
    assert len(pending) == 2 and all(m.status == MemberStatus.ACTIVE for m in pending)
    twins = [m for m in members if m.name == "Grace Thompson"]
    assert {m.email for m in twins} == {
        "grace.thompson@example.com",
        "grace.thompson@partner.example.org",
    }
    # Lightdash hides service accounts: nobody is called "service account".
    assert not [m for m in members if "service account" in m.name]


def test_lightdash_asks_for_pages_and_never_for_groups(sim, read_directory):
    read_directory(sim, "lightdash")
    assert calls(sim, "lightdash", "/api/v1/org/users") == [{"page": "1", "pageSize": "500"}]


def test_lightdash_pages_until_past_the_total_page_count(sim, read_directory, monkeypatch):
    monkeypatch.setattr(lightdash, "DIRECTORY_PAGE_SIZE", 20)
    members = read_directory(sim, "lightdash")
    assert [q["page"] for q in calls(sim, "lightdash", "/api/v1/org/users")] == list("1234")
    assert {m.vendor_user_id for m in members} == set(expected(sim, "lightdash"))


def test_lightdash_a_short_page_mid_listing_does_not_end_the_walk(sim, read_directory, monkeypatch):
    monkeypatch.setattr(lightdash, "DIRECTORY_PAGE_SIZE", 20)
    hidden = [a.user_id for a in sim.organisation.directory("lightdash")[3:8]]
    sim.lightdash_directory_hidden = hidden  # filtered by permission after the cut
    members = read_directory(sim, "lightdash")
    assert len(calls(sim, "lightdash", "/api/v1/org/users")) == 4
    assert {m.vendor_user_id for m in members} == set(expected(sim, "lightdash")) - set(hidden)


def test_lightdash_a_member_seen_on_two_pages_is_listed_once(sim, read_directory, monkeypatch):
    monkeypatch.setattr(lightdash, "DIRECTORY_PAGE_SIZE", 20)
    sim.inject("lightdash", "duplicates", times=3, after=1)
    members = read_directory(sim, "lightdash")
    assert max(Counter(m.vendor_user_id for m in members).values()) == 1
    assert {m.vendor_user_id for m in members} == set(expected(sim, "lightdash"))


@pytest.mark.parametrize("shape", ["no_total", "bare"])
def test_lightdash_older_servers_answers_are_read(sim, read_directory, monkeypatch, shape):
    monkeypatch.setattr(lightdash, "DIRECTORY_PAGE_SIZE", 20)
    sim.lightdash_directory_shape = shape
    members = read_directory(sim, "lightdash")
    assert {m.vendor_user_id: m.email for m in members} == expected(sim, "lightdash")
    by_email = {m.email: m for m in members}
    assert by_email["ken.hopper@example.com"].status == MemberStatus.DEACTIVATED
    assert not any(m.pending for m in members)  # older servers do not say
    pages = len(calls(sim, "lightdash", "/api/v1/org/users"))
    assert pages == (1 if shape == "bare" else 4)


def test_lightdash_a_service_account_token_reads_the_directory(sim, source_for):
    source = source_for(sim, "lightdash")
    source.secrets = {"token": sim.lightdash_service_token}
    source.save()
    connector = CONNECTORS["lightdash"](source)
    assert len(list(connector.directory(connector.client()))) == 61


def test_lightdash_forbidden_directory_says_what_permission_to_grant(sim, read_directory):
    sim.lightdash_directory_forbidden = True
    with pytest.raises(DirectoryUnavailable) as refused:
        read_directory(sim, "lightdash")
    assert "view:OrganizationMemberProfile" in str(refused.value)
    assert refused.value.permission in str(refused.value)
    assert_no_secret(sim, "lightdash", str(refused.value))


def test_lightdash_a_refused_token_is_not_a_missing_permission(sim, source_for):
    connector = CONNECTORS["lightdash"](source_for(sim, "lightdash"))
    sim.secrets["lightdash"]["token"] = "ldpat_another"
    with pytest.raises(VendorAuthError) as refused:
        list(connector.directory(connector.client()))
    assert not isinstance(refused.value, DirectoryUnavailable)


# -- Domo --------------------------------------------------------------------------------------
def test_domo_lists_users_until_an_empty_page_with_string_ids(sim, read_directory):
    members = read_directory(sim, "domo")
    assert {m.vendor_user_id: m.email for m in members} == expected(sim, "domo")
    assert all(isinstance(m.vendor_user_id, str) for m in members)
    assert all(m.status == MemberStatus.UNKNOWN for m in members)  # Domo does not say
    pages = [(q["limit"], q["offset"]) for q in calls(sim, "domo", "/v1/users")]
    assert pages == [("500", "0"), ("500", "60")]
    assert calls(sim, "domo", "/oauth/token")[0]["scope"] == "audit user"


def test_domo_pages_by_the_rows_received(sim, read_directory, monkeypatch):
    monkeypatch.setattr(domo, "USERS_LIMIT", 25)
    members = read_directory(sim, "domo")
    assert [q["offset"] for q in calls(sim, "domo", "/v1/users")] == ["0", "25", "50", "60"]
    assert len(members) == len({m.vendor_user_id for m in members}) == 60


def test_domo_writes_addresses_as_domo_has_them(sim, read_directory):
    emails = {m.email for m in read_directory(sim, "domo")}
    assert "Radia.Thompson@Example.Com" in emails  # matched case-blind by whoever links


@pytest.mark.parametrize("strict", [False, True])
def test_domo_an_audit_only_client_has_no_directory_but_still_syncs(
    source_for, read_directory, strict
):
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=0, seed=7) as sim:
        sim.domo_client_scopes = ("audit",)
        sim.domo_strict_scopes = strict
        with pytest.raises(DirectoryUnavailable) as refused:
            read_directory(sim, "domo")
        message = str(refused.value)
        assert "`user` scope" in message and refused.value.permission.startswith("create")
        assert_no_secret(sim, "domo", message)
        sim.add_events("domo", 20, at=datetime.now(UTC) - timedelta(hours=3))
        run = sync_source(source_for(sim, "domo", name="domo-audit-only"))
        assert run.status == SyncRun.Status.SUCCEEDED and run.events_new == 20
        scopes = [q["scope"] for q in calls(sim, "domo", "/oauth/token")]
        assert scopes == (["audit user", "audit"] * 2 if strict else ["audit user"] * 2)


def test_domo_a_token_granted_no_user_scope_has_no_directory(sim, read_directory):
    sim.domo_client_scopes = ("audit",)
    sim.domo_users_unchecked = True  # the list answers anyway: the token's scope tells
    with pytest.raises(DirectoryUnavailable) as refused:
        read_directory(sim, "domo")
    assert "no user scope" in str(refused.value) and "`user` scope" in str(refused.value)


def test_domo_a_refused_client_is_not_a_missing_permission(sim, source_for):
    connector = CONNECTORS["domo"](source_for(sim, "domo"))
    sim.secrets["domo"]["client_id"] = "another-client"
    with pytest.raises(VendorAuthError) as refused:
        list(connector.directory(connector.client()))
    assert not isinstance(refused.value, DirectoryUnavailable)


# -- Vendors whose records carry the addresses ------------------------------------------------
@pytest.mark.parametrize("vendor", ["datafold", "velt"])
def test_vendors_without_a_directory_list_nobody(sim, read_directory, vendor):
    assert read_directory(sim, vendor) == []
    assert sim.request_log(vendor) == []
