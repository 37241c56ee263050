"""Hostile vendor data end to end: synced unchanged, shown escaped, exported safely."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from activity.exports import spreadsheet_safe
from activity.models import ActivityEvent, SyncRun
from activity.sync.engine import sync_source
from tests.activity.conftest import VENDORS, stored_records, truth_records

pytestmark = pytest.mark.django_db(transaction=True)
RAW_MARKUP = ("<script>alert(", "<img src=x", "<b>bold</b>")
FIGURE = re.compile(r'<script id="[^"]*" type="application/json">(.*?)</script>', re.S)
FORMULA = ("=", "+", "-", "@")


@pytest.fixture
def hostile_simulator():
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=120, seed=17, hostile=True) as sim:
        yield sim


@pytest.mark.parametrize("vendor", VENDORS)
def test_hostile_records_are_stored_unchanged(hostile_simulator, source_for, vendor):
    source = source_for(hostile_simulator, vendor)
    run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.records_skipped == 0, run.skipped_samples
    assert stored_records(source) == truth_records(hostile_simulator, vendor)


@pytest.fixture
def synced(hostile_simulator, source_for):
    sources = {vendor: source_for(hostile_simulator, vendor) for vendor in VENDORS}
    for source in sources.values():
        assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    return sources


@pytest.fixture
def viewer():
    user = User.objects.create_user("viewer", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_activityevent"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def boss():
    client = Client()
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    return client


def hostile_events() -> list[ActivityEvent]:
    return [event for event in ActivityEvent.objects.all() if "hostile" in event.raw]


def assert_escaped(response) -> list[str]:
    """Assert no hostile markup went out raw; return the charts' texts."""
    assert response.status_code == 200, response.content[:500]
    content = response.content.decode()
    for raw in RAW_MARKUP:
        assert raw not in content, f"{raw!r} unescaped in {response.request['PATH_INFO']}"
    # Plotly draws a subset of HTML in labels and hover text: they must arrive escaped.
    texts = [
        text
        for figure in FIGURE.findall(content)
        for text in strings(json.loads(json.loads(figure)))
    ]
    for text in texts:
        assert "<script" not in text.lower() and "<img" not in text.lower(), text[:80]
    return texts


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for inner in value.values() for text in strings(inner)]
    if isinstance(value, list):
        return [text for inner in value for text in strings(inner)]
    return []


def test_hostile_records_are_shown_escaped_on_every_page(synced, viewer):
    events = hostile_events()
    assert events
    urls = [
        reverse("activity"),
        reverse("activity") + "?q=script",
        reverse("downloads"),
        reverse("users"),
        reverse("sources"),
    ]
    urls += [reverse("activity_detail", args=[event.pk]) for event in events]
    urls += [reverse("person", args=[pk]) for pk in {event.person_id for event in events}]
    for url in urls:
        assert_escaped(viewer.get(url))
    chart_texts = assert_escaped(viewer.get(reverse("users")))
    assert any("&lt;script&gt;" in text for text in chart_texts)
    older = viewer.get(reverse("activity")).context["page"].older
    while older:
        response = viewer.get(reverse("activity"), {"cursor": older})
        assert_escaped(response)
        older = response.context["page"].older


def test_hostile_records_are_shown_escaped_in_the_admin(synced, boss):
    events = hostile_events()
    urls = [
        reverse("admin:activity_activityevent_changelist"),
        reverse("admin:activity_activityevent_changelist") + "?q=script",
        reverse("admin:activity_syncrun_changelist"),
        reverse("admin:activity_source_changelist"),
    ]
    urls += [reverse("admin:activity_activityevent_change", args=[e.pk]) for e in events[:40]]
    for url in urls:
        assert_escaped(boss.get(url))


def test_the_jsonl_export_round_trips_hostile_records(synced, viewer):
    response = viewer.get(reverse("activity_export", args=["jsonl"]))
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    stored = {e.external_id: json.loads(e.raw) for e in ActivityEvent.objects.all()}
    assert len(rows) == len(stored)
    assert all(row["raw"] == stored[row["external_id"]] for row in rows)


def test_the_csv_export_neutralizes_formulas(synced, viewer):
    response = viewer.get(reverse("activity_export", args=["csv"]))
    text = b"".join(response.streaming_content).decode()
    csv.field_size_limit(10_000_000)  # the 100 kB strings
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == ActivityEvent.objects.count() + 1
    cells = [cell for row in rows[1:] for cell in row]
    dangerous = [c for c in cells if c.lstrip().startswith(FORMULA) or c.startswith(("\t", "\r"))]
    assert not dangerous, dangerous[:5]
    assert any(cell.startswith("'") and "=1+1" in cell for cell in cells)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =1+1", "'  =1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\n@x", "'\n@x"),
        ("\u00a0=1", "'\u00a0=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe
