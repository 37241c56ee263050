"""The log's side panel: a row's detail as a fragment, the URL that holds it, and the way back."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.models import ActivityEvent

pytestmark = pytest.mark.django_db


def test_a_rows_details_link_is_a_real_page_that_htmx_opens_in_the_panel(viewer, data):
    body = viewer.get(reverse("activity"), {"vendor": "velt"}).content.decode()
    link = re.search(r'<a class="open-detail" ([^>]*)>', body).group(1)
    href = html.unescape(re.search(r'href="([^"]+)"', link).group(1))
    pk = int(re.search(r"/activity/(\d+)/", href).group(1))
    assert href == f"/activity/{pk}/?vendor=velt"
    assert f'hx-get="{href}"' in link
    assert 'hx-target="#panel"' in link
    assert html.unescape(re.search(r'hx-push-url="([^"]+)"', link).group(1)) == (
        f"?vendor=velt&event={pk}"
    )


def test_the_detail_fragment_comes_alone_with_htmx(viewer, data):
    event = ActivityEvent.objects.get(external_id="velt-one-5")
    url = reverse("activity_detail", args=[event.pk])
    response = viewer.get(url, {"vendor": "velt"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<article class="detail"')
    assert "Raw record" in body and event.external_id in body
    assert 'class="panel-close" href="/activity/?vendor=velt"' in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_back_to_the_log_keeps_the_lists_filters(viewer, data):
    event = ActivityEvent.objects.get(external_id="velt-one-5")
    url = reverse("activity_detail", args=[event.pk])
    body = viewer.get(url, {"vendor": "velt", "outcome": "unknown"}).content.decode()
    assert "<html" in body and "panel-close" not in body
    back = re.search(r'<a href="([^"]+)">← Back to the log</a>', body).group(1)
    assert html.unescape(back) == "/activity/?vendor=velt&outcome=unknown"


def test_a_pasted_url_with_an_event_opens_the_panel_with_one_more_read(viewer, data):
    event = ActivityEvent.objects.get(external_id="velt-one-5")
    with CaptureQueriesContext(connection) as plain:
        viewer.get(reverse("activity"), {"vendor": "velt"})
    with CaptureQueriesContext(connection) as opened:
        response = viewer.get(reverse("activity"), {"vendor": "velt", "event": event.pk})
    body = response.content.decode()
    panel = re.search(r'<aside id="panel"[^>]*>(.*?)</aside>', body, re.S)
    assert "hidden" not in panel.group(0).split(">")[0]
    assert event.external_id in panel.group(1)
    assert len(opened.captured_queries) == len(plain.captured_queries) + 1


@pytest.mark.parametrize("value", ["nope", "999999999", ""])
def test_an_unknown_event_in_the_url_leaves_the_panel_closed(viewer, data, value):
    response = viewer.get(reverse("activity"), {"event": value})
    assert response.status_code == 200
    assert re.search(r'<aside id="panel"[^>]* hidden>', response.content.decode())


def test_the_lists_pages_leave_the_open_event_behind(viewer, data):
    event = ActivityEvent.objects.get(external_id="velt-one-5")
    body = viewer.get(reverse("activity"), {"vendor": "velt", "event": event.pk}).content.decode()
    older = html.unescape(re.search(r'rel="next" href="([^"]+)"', body).group(1))
    assert older.startswith("?vendor=velt&cursor=") and "event=" not in older


def test_every_list_shares_one_pager(viewer, data):
    downloads = viewer.get(reverse("downloads")).content.decode()
    assert 'rel="next"' in downloads and "Page 1 of" in downloads
    person = viewer.get(reverse("person_by_key", args=["person1@example.com"]), follow=True)
    person = person.content.decode()
    assert '<nav class="pager" aria-label="Pages">' in person
