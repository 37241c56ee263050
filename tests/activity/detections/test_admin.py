"""The admin: rules' thresholds validated, alerts triaged with who and when, evidence read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from activity.detections.engine import detections_evaluate
from activity.models import Alert, Rule
from activity.vocabulary import Category
from tests.activity.detections.conftest import NOW, every

pytestmark = pytest.mark.django_db


def rule_form(rule: Rule, thresholds: str, enabled: bool = True) -> dict:
    return {"enabled": "on" if enabled else "", "thresholds": thresholds}


def test_a_threshold_that_makes_no_sense_is_refused(admin_client):
    rule = Rule.objects.get(name="failed_signin_burst")
    url = reverse("admin:activity_rule_change", args=[rule.pk])
    response = admin_client.post(url, rule_form(rule, '{"window_minutes": 0}'))
    assert response.status_code == 200
    assert "window_minutes must be at least 1 (got 0)" in response.content.decode()
    response = admin_client.post(url, rule_form(rule, '{"window_minutes": 5}', enabled=False))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.thresholds == {"window_minutes": 5} and not rule.enabled


def test_the_rule_page_lists_the_thresholds_and_their_defaults(admin_client):
    rule = Rule.objects.get(name="bulk_export")
    page = admin_client.get(reverse("admin:activity_rule_change", args=[rule.pk])).content
    assert b"<code>floor</code> = 20" in page


def test_triage_records_who_and_when_and_shows_the_evidence(admin_client, source, person, events):
    ada = person()
    rows = events(ada, every(NOW, 2, timedelta(minutes=1)), category=Category.PERMISSION)
    detections_evaluate(source_id=source.pk)
    alert = Alert.objects.get()
    url = reverse("admin:activity_alert_change", args=[alert.pk])
    page = admin_client.get(url).content.decode()
    assert rows[0].external_id in page and f"event {rows[0].pk}" in page
    response = admin_client.post(
        url,
        {
            "state": "false_positive",
            "triage_note": "planned role change",
            "evidence-TOTAL_FORMS": "0",
            "evidence-INITIAL_FORMS": "2",
            "evidence-MIN_NUM_FORMS": "0",
            "evidence-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    alert.refresh_from_db()
    assert alert.state == "false_positive" and alert.triaged_by == "admin"
    assert alert.triaged_at is not None and alert.events == 2
    changelist = reverse("admin:activity_alert_changelist")
    assert admin_client.get(changelist, {"state": "open"}).context["cl"].result_count == 0
    triaged = admin_client.get(changelist, {"state": "false_positive", "rule": "sensitive_change"})
    assert list(triaged.context["cl"].result_list) == [alert]


def test_a_false_positive_without_a_note_is_refused_as_on_the_alert_page(
    admin_client, source, person, events
):
    events(person(), every(NOW, 2, timedelta(minutes=1)), category=Category.PERMISSION)
    detections_evaluate(source_id=source.pk)
    alert = Alert.objects.get()
    url = reverse("admin:activity_alert_change", args=[alert.pk])
    form = {
        "state": "false_positive",
        "triage_note": " ",
        "evidence-TOTAL_FORMS": "0",
        "evidence-INITIAL_FORMS": "2",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert "Say why it is a false positive in the note." in response.content.decode()
    alert.refresh_from_db()
    assert (alert.state, alert.triaged_by, alert.triaged_at) == ("open", "", None)
