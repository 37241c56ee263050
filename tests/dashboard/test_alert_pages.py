"""The alerts list, an alert's page with its evidence and triage, the person page's alerts and
the navigation's count of open alerts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.models import ActivityEvent, Alert, Identity
from dashboard.selectors import alerts as alert_selectors
from tests.dashboard.alerts import make_alert, person_named

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def source(make_source):
    return make_source("acme-df", vendor="datafold", params={}, secrets={"api_key": "k" * 8})


@pytest.fixture
def ada(db):
    return person_named("Ada Lovelace")


@pytest.fixture
def alerts(source, ada):
    """Five alerts of every state and three rules, the newest first by their last event."""
    grace = person_named("Grace Hopper")
    return {
        "export": make_alert(source, ada, at=NOW - timedelta(hours=1)),
        "signins": make_alert(
            source,
            None,
            at=NOW - timedelta(hours=2),
            rule="failed_signin_burst",
            subject="203.0.113.9",
            events=3,
        ),
        "support": make_alert(
            source,
            grace,
            at=NOW - timedelta(days=3),
            rule="vendor_support_access",
            severity="medium",
            state=Alert.State.ACKNOWLEDGED,
        ),
        "resolved": make_alert(source, ada, at=NOW - timedelta(days=10), state="resolved"),
        "false": make_alert(
            source,
            grace,
            at=NOW - timedelta(days=40),
            rule="sensitive_change",
            severity="low",
            state=Alert.State.FALSE_POSITIVE,
        ),
    }


def listed(response) -> list[int]:
    return [alert.pk for alert in response.context["page"].rows]


def counts(response) -> dict[str, int]:
    return {row.rule: row.alerts.value for row in response.context["rule_counts"]}


def triager(*, staff: bool = True) -> Client:
    name = "triager" if staff else "analyst"
    user = User.objects.create_user(name, password="pw", is_staff=staff)
    user.user_permissions.add(
        Permission.objects.get(codename="view_activityevent"),
        Permission.objects.get(codename="change_alert"),
    )
    client = Client()
    client.force_login(user)
    return client


# The list


def test_the_list_opens_on_open_and_acknowledged_alerts_newest_first(viewer, alerts):
    response = viewer.get(reverse("alerts"))
    assert response.status_code == 200
    assert listed(response) == [alerts[k].pk for k in ("export", "signins", "support")]
    page = response.content.decode()
    assert "3 alerts, open or acknowledged" in page
    assert f'href="/people/{alerts["export"].person_id}/"' in page
    assert "203.0.113.9" in page and "Acknowledged" in page
    assert counts(response) == {"bulk_export": 1, "failed_signin_burst": 1,
                                "vendor_support_access": 1}  # fmt: skip


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"state": "any"}, ["export", "signins", "support", "resolved", "false"]),
        ({"state": "resolved"}, ["resolved"]),
        ({"state": "false_positive"}, ["false"]),
        ({"rule": "bulk_export", "state": "any"}, ["export", "resolved"]),
        ({"severity": "medium"}, ["support"]),
        ({"person": "ada.lovelace@example.com", "state": "any"}, ["export", "resolved"]),
        ({"person": "ADA.LOVELACE@example.com"}, ["export"]),
        ({"person": "Grace Hopper", "state": "any"}, ["support", "false"]),
        ({"person": "u-4711", "state": "any"}, ["export", "resolved"]),  # a vendor user id
        ({"person": "203.0.113.9"}, ["signins"]),  # an IP address, the subject
        ({"person": "nobody@example.com"}, []),
        ({"range": "24h"}, ["export", "signins"]),
        ({"range": "7d", "state": "any"}, ["export", "signins", "support"]),
    ],
)
def test_filters(viewer, alerts, source, ada, query, expected):
    Identity.objects.create(source=source, key="id:u-4711", vendor_user_id="u-4711", person=ada)
    response = viewer.get(reverse("alerts"), query)
    assert response.status_code == 200
    assert listed(response) == [alerts[name].pk for name in expected]


def test_a_date_range_keeps_the_alerts_whose_events_reach_into_it(viewer, source, ada):
    # Events from 3 days ago to 1 day ago: in a range that ends 2 days ago, and one that
    # starts 2 days ago, but not in one that ends 4 days ago.
    long = make_alert(source, ada, at=NOW - timedelta(days=1), events=3)
    ActivityEvent.objects.filter(pk__in=long.evidence.values("event_id"))
    Alert.objects.filter(pk=long.pk).update(first_event_at=NOW - timedelta(days=3))
    day = lambda n: (NOW - timedelta(days=n)).date().isoformat()  # noqa: E731
    assert listed(viewer.get(reverse("alerts"), {"date_to": day(2)})) == [long.pk]
    assert listed(viewer.get(reverse("alerts"), {"date_from": day(2)})) == [long.pk]
    assert listed(viewer.get(reverse("alerts"), {"date_to": day(4)})) == []


def test_counts_per_rule_follow_every_filter_but_the_rule(viewer, alerts):
    response = viewer.get(reverse("alerts"), {"rule": "bulk_export", "state": "any"})
    assert listed(response) == [alerts["export"].pk, alerts["resolved"].pk]
    assert counts(response) == {
        "bulk_export": 2,
        "failed_signin_burst": 1,
        "vendor_support_access": 1,
        "sensitive_change": 1,
    }
    assert counts(viewer.get(reverse("alerts"), {"person": "Grace Hopper", "state": "any"})) == {
        "vendor_support_access": 1,
        "sensitive_change": 1,
    }
    page = response.content.decode()
    # Each count is a link that sets the rule and keeps the other filters.
    assert re.search(r'href="\?rule=sensitive_change&amp;state=any"', page)


def test_counts_per_rule_stop_at_the_cap(viewer, alerts, monkeypatch):
    monkeypatch.setattr(alert_selectors, "RULE_COUNT_LIMIT", 1)
    response = viewer.get(reverse("alerts"), {"state": "any"})
    row = next(row for row in response.context["rule_counts"] if row.rule == "bulk_export")
    assert (row.alerts.value, row.alerts.capped) == (1, True)
    assert "Bulk export <span>1+</span>" in response.content.decode()


def test_keyset_pages_go_older_and_back_newer(viewer, source, ada):
    made = [make_alert(source, ada, at=NOW - timedelta(minutes=n), events=1) for n in range(55)]
    first = viewer.get(reverse("alerts"))
    assert listed(first) == [alert.pk for alert in made[:50]]
    assert first.context["count"].value == 55
    older = viewer.get(reverse("alerts"), {"cursor": first.context["page"].older})
    assert listed(older) == [alert.pk for alert in made[50:]]
    assert older.context["page"].older is None
    newer = viewer.get(reverse("alerts"), {"cursor": older.context["page"].newer})
    assert listed(newer) == listed(first)


def test_htmx_gets_only_the_results(viewer, alerts):
    response = viewer.get(reverse("alerts"), {"rule": "bulk_export"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="results">') and "<html" not in page
    assert response["Vary"] and "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "query",
    [{"state": "closed"}, {"rule": "made_up"}, {"severity": "huge"}, {"cursor": "forged"}],
)
def test_bad_filters_and_forged_cursors_are_a_400(viewer, alerts, query):
    response = viewer.get(reverse("alerts"), query)
    assert response.status_code == 400
    assert response.context["page"] is None


def test_the_pages_need_the_view_permission(client, alerts):
    assert client.get(reverse("alerts")).status_code == 302  # to the login
    client.force_login(User.objects.create_user("nobody", password="pw"))
    assert client.get(reverse("alerts")).status_code == 403
    assert client.get(reverse("alert", args=[alerts["export"].pk])).status_code == 403


# An alert's page


def test_the_alert_page_shows_the_alert_and_its_evidence(viewer, alerts):
    alert = alerts["signins"]
    response = viewer.get(reverse("alert", args=[alert.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Failed sign-in burst" in page and alert.explanation in page and "203.0.113.9" in page
    rows = response.context["page"].rows
    assert [row.evidence.event_id for row in rows] == list(
        ActivityEvent.objects.filter(external_id__startswith=rows[0].evidence.external_id[:-1])
        .order_by("-occurred_at", "-id")
        .values_list("id", flat=True)
    )
    for row in rows:
        assert f'href="/activity/{row.event.pk}/"' in page and row.evidence.external_id in page
    assert "export_diff" in page and "acme-df" in page
    assert "Save triage" not in page  # a viewer reads, does not triage


def test_the_alert_page_links_to_the_persons_activity_on_those_days(viewer, alerts):
    alert = alerts["export"]
    page = viewer.get(reverse("alert", args=[alert.pk])).content.decode()
    day = alert.last_event_at.date().isoformat()
    assert f"/activity/?person=ada.lovelace%40example.com&amp;date_from={day}" in page


def test_evidence_is_paged_and_outlives_its_events(viewer, source, ada):
    alert = make_alert(source, ada, at=NOW, events=60)
    first = viewer.get(reverse("alert", args=[alert.pk]))
    assert len(first.context["page"].rows) == 50
    rest = viewer.get(reverse("alert", args=[alert.pk]), {"cursor": first.context["page"].older})
    assert len(rest.context["page"].rows) == 10
    seen = {row.evidence.pk for row in first.context["page"].rows + rest.context["page"].rows}
    assert seen == set(alert.evidence.values_list("pk", flat=True))
    # Retention purges the events; the evidence keeps its source and external id.
    ActivityEvent.objects.filter(source=source).delete()
    page = viewer.get(reverse("alert", args=[alert.pk])).content.decode()
    assert "no longer stored" in page and alert.evidence.first().external_id in page


def test_htmx_pages_through_the_evidence_only(viewer, source, ada):
    alert = make_alert(source, ada, at=NOW, events=51)
    first = viewer.get(reverse("alert", args=[alert.pk]))
    older = {"cursor": first.context["page"].older}
    response = viewer.get(reverse("alert", args=[alert.pk]), older, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="results">') and "Triage" not in page
    assert len(response.context["page"].rows) == 1
    forged = viewer.get(reverse("alert", args=[alert.pk]), {"cursor": "forged"})
    assert forged.status_code == 400


def test_an_unknown_alert_is_a_404(viewer):
    assert viewer.get(reverse("alert", args=[999999])).status_code == 404


# Triage


def triage_fields(alert: Alert) -> tuple:
    alert.refresh_from_db()
    return (alert.state, alert.triage_note, alert.triaged_by, alert.triaged_at)


def test_staff_triage_records_who_when_and_the_note(alerts):
    client = triager()
    alert = alerts["export"]
    assert "Save triage" in client.get(reverse("alert", args=[alert.pk])).content.decode()
    response = client.post(
        reverse("alert_triage", args=[alert.pk]),
        {"state": "acknowledged", "note": "asked Ada about the exports"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("alert", args=[alert.pk])
    state, note, by, at = triage_fields(alert)
    assert (state, note, by) == ("acknowledged", "asked Ada about the exports", "triager")
    assert at is not None and abs(at - datetime.now(UTC)) < timedelta(minutes=1)
    page = client.get(response["Location"]).content.decode()
    assert "Marked acknowledged." in page and "asked Ada about the exports" in page
    assert Alert.objects.count() == 5  # nothing deleted


@pytest.mark.parametrize(
    "form, message",
    [
        ({"state": "closed", "note": "x"}, "Unknown state"),
        ({"state": "false_positive", "note": "  "}, "false positive"),
        ({"note": "no state"}, "Choose a state"),
        ({"state": "resolved", "note": "x" * 2001}, "2,000 characters"),
    ],
)
def test_bad_triage_is_a_400_and_changes_nothing(alerts, form, message):
    alert = alerts["support"]
    before = triage_fields(alert)
    response = triager().post(reverse("alert_triage", args=[alert.pk]), form)
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert message in response.content.decode()
    assert triage_fields(alert) == before


def test_triage_needs_staff_with_the_change_alert_permission(viewer, alerts):
    alert = alerts["export"]
    before = triage_fields(alert)
    url = reverse("alert_triage", args=[alert.pk])
    assert viewer.post(url, {"state": "resolved", "note": "x"}).status_code == 403
    not_staff = triager(staff=False)
    assert "Save triage" not in not_staff.get(reverse("alert", args=[alert.pk])).content.decode()
    assert not_staff.post(url, {"state": "resolved", "note": "x"}).status_code == 403
    assert triage_fields(alert) == before
    assert triager().get(url).status_code == 405  # POST only


# The person page and the navigation


def test_the_person_page_lists_their_newest_alerts_with_a_link_to_all(viewer, source, ada):
    made = [make_alert(source, ada, at=NOW - timedelta(hours=n), events=1) for n in range(7)]
    page = viewer.get(reverse("person", args=[ada.pk])).content.decode()
    section = page.split('id="alerts"')[1].split("</section>")[0]
    shown = [int(pk) for pk in re.findall(r'href="/alerts/(\d+)/"', section)]
    assert shown == [alert.pk for alert in made[:5]]
    assert 'href="/alerts/?person=ada.lovelace%40example.com&amp;state=any"' in section


def test_alerts_about_a_person_merged_away_stay_with_the_person_they_joined(viewer, source, ada):
    twin = person_named("Ada Twin")
    alert = make_alert(source, twin, at=NOW)
    twin.merged_into = ada
    twin.save()
    page = viewer.get(reverse("person", args=[ada.pk])).content.decode()
    assert f'href="/alerts/{alert.pk}/"' in page
    found = viewer.get(reverse("alerts"), {"person": "ada.lovelace@example.com"})
    assert listed(found) == [alert.pk]


def test_a_person_without_alerts_says_so(viewer, ada):
    page = viewer.get(reverse("person", args=[ada.pk])).content.decode()
    assert "No alerts about this person." in page


def test_the_navigation_counts_open_alerts(viewer, alerts, source, ada):
    page = viewer.get(reverse("people")).content.decode()
    assert re.search(r'Alerts <span class="badge"[^>]*>2<', page)  # open only
    Alert.objects.bulk_create(
        Alert(
            rule="bulk_export",
            severity="high",
            person=ada,
            group_key=f"bulk:{n}",
            first_event_at=NOW,
            last_event_at=NOW,
            explanation="x",
        )
        for n in range(120)
    )
    page = viewer.get(reverse("people")).content.decode()
    assert re.search(r'Alerts <span class="badge"[^>]*>99\+<', page)


def test_the_navigation_count_is_one_capped_query_and_not_read_for_an_htmx_fragment(viewer, alerts):
    def nav_counts(**headers) -> list[str]:
        with CaptureQueriesContext(connection) as context:
            assert viewer.get(reverse("alerts"), **headers).status_code == 200
        return [q["sql"] for q in context.captured_queries if "LIMIT 100)" in q["sql"]]

    assert len(nav_counts()) == 1
    assert nav_counts(HTTP_HX_REQUEST="true") == []
