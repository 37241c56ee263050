"""The vocabulary everywhere an admin looks: filters, facets, markers, charts, exports."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.urls import reverse

from activity.exports import FIELDS
from activity.models import ActivityEvent
from activity.sync.records import NormalizedEvent
from activity.sync.store import events_upsert
from tests.activity.test_commands import PROJECT, subprocess_env


def test_the_log_filters_by_categories_and_outcomes(viewer, data):
    response = viewer.get(reverse("activity"), {"category": ["authentication", "export"]})
    rows = response.context["page"].rows
    assert rows and {row.category for row in rows} == {"authentication", "export"}
    response = viewer.get(reverse("activity"), {"category": "authentication", "outcome": "failure"})
    rows = response.context["page"].rows
    expected = ActivityEvent.objects.filter(category="authentication", outcome="failure")
    assert {row.pk for row in rows} == set(expected.values_list("pk", flat=True))
    assert b'class="failed"' in response.content and b"outcome-failure" in response.content


def test_facets_count_categories_and_outcomes(viewer, data):
    facets = viewer.get(reverse("activity"), {"range": "90d"}).context["facets"]
    assert (
        dict(facets["outcome"])["failure"]
        == ActivityEvent.objects.filter(
            outcome="failure",
            occurred_at__date__gte=facets
            and ActivityEvent.objects.order_by("occurred_at").first().occurred_at.date(),
        ).count()
    )
    assert {"read", "update", "export", "authentication"} <= dict(facets["category"]).keys()


def test_the_action_filter_finds_an_action_in_any_case_and_offers_those_that_exist(viewer, data):
    response = viewer.get(reverse("activity"), {"action": "LOGIN"})
    rows = response.context["page"].rows
    assert rows and {row.action for row in rows} == {"login"}
    assert b'<option value="login">' in response.content


@pytest.mark.parametrize("query", [{"category": "exfiltration"}, {"outcome": "maybe"}])
def test_an_unknown_category_or_outcome_is_a_clear_400(viewer, data, query):
    response = viewer.get(reverse("activity"), query)
    assert response.status_code == 400 and b'role="alert"' in response.content


def test_exports_append_category_and_outcome_after_the_existing_fields(viewer, data):
    assert FIELDS[14:16] == ("category", "outcome") and FIELDS[0] == "source"
    response = viewer.get(reverse("activity_export", args=["csv"]), {"outcome": "failure"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == list(FIELDS)
    assert rows[1:] and {(row[14], row[15]) for row in rows[1:]} == {("authentication", "failure")}


def test_export_activity_takes_categories_and_outcomes(data):
    out = io.StringIO()
    call_command(
        "export_activity",
        "--format",
        "csv",
        "--category",
        "export",
        "--category",
        "read",
        "--outcome",
        "unknown",
        stdout=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert rows and {row[FIELDS.index("category")] for row in rows} == {"export", "read"}
    with pytest.raises(CommandError, match="invalid choice: 'maybe'"):
        call_command("export_activity", "--format", "csv", "--outcome", "maybe")
    # From the shell, a usage error exits with status 2 (argparse's).
    command = [sys.executable, "manage.py", "export_activity", "--format", "csv"]
    finished = subprocess.run(
        [*command, "--category", "exfiltration"],
        cwd=PROJECT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2 and "invalid choice: 'exfiltration'" in finished.stderr


def test_the_person_page_and_the_charts_show_categories(viewer, data):
    person = viewer.get(reverse("person_by_key", args=["person3@example.com"]), follow=True)
    assert dict(person.context["by_category"]) == dict(
        ActivityEvent.objects.filter(person=person.context["person"])
        .values_list("category")
        .annotate(n=Count("id"))
    )
    users = viewer.get(reverse("users"), {"period": 90})
    assert "Failed sign-ins per day" in users.context["figures"]["failed_signins"]
    assert "category=authentication" in users.context["figures"]["failed_signins"]
    assert "by category" in users.context["figures"]["per_category"]


def test_the_sources_page_lists_actions_no_mapping_knows(viewer, data):
    source = data["velt"]
    events_upsert(
        source=source,
        events=[
            NormalizedEvent(
                external_id=f"odd-{i}",
                occurred_at=data and __import__("tests.dashboard.conftest", fromlist=["NOW"]).NOW,
                action="frobnicate.zap",
                raw={},
            )
            for i in range(3)
        ],
    )
    response = viewer.get(reverse("sources"))
    health = {item.source.name: item for item in response.context["health"]}
    assert health["velt-one"].unmapped_actions == [("frobnicate.zap", 3)]
    assert health["domo-one"].unmapped_actions == []
