"""The coverage page: a year of each stream hour by hour, its gaps, and re-reading a gap
through the sync workers; the sources page's warning of gaps about to be lost."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity.coverage import floor_hour, retention_horizon
from activity.models import ActivityEvent, CoveredWindow, Source, SyncRun
from activity.sync.engine import sync_source
from dashboard.selectors import coverage_calendar, gaps_at_risk

H = timedelta(hours=1)


def coverage_url(source: Source) -> str:
    return reverse("source_coverage", args=[source.name])


def reread_url(source: Source) -> str:
    return reverse("source_reread", args=[source.name])


def window(source: Source, start, stop, rows: int = 1, stream: str = "logs") -> None:
    CoveredWindow.objects.create(
        source=source, stream=stream, asked_from=start, asked_to=stop, rows=rows
    )


@pytest.fixture
def datafold(db) -> Source:
    return Source.objects.create(
        vendor="datafold", name="df-one", base_url="https://x.test", params={}
    )


@pytest.fixture
def holed(datafold) -> Source:
    """Read for the last ten days but for the 30 hours before yesterday (UTC): yesterday is
    a whole day read and empty, whatever the time of day."""
    now = floor_hour(timezone.now())
    yesterday = now.replace(hour=0) - 24 * H
    window(datafold, now - 10 * 24 * H, yesterday - 30 * H)
    window(datafold, yesterday, now, rows=0)
    return datafold


def test_the_coverage_page_needs_a_login(client, datafold):
    response = client.get(coverage_url(datafold))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_coverage_page_draws_each_stream_and_lists_its_gaps(viewer, holed):
    html = viewer.get(coverage_url(holed)).content.decode()
    assert "Stream <code>logs</code>" in html
    assert html.count('class="day') == 365
    assert 'class="seg s-records h24"' in html and 'class="seg s-empty h24"' in html
    assert "read, with records" in html and "never read" in html  # legend and titles
    assert "retention horizon" in html and "90 days" in html
    hole, history = re.findall(r'<tr class="fetchable">.*?</tr>', html, re.S)
    assert ">30<" in hole
    assert "before the first read" in history and "longer than" not in history
    assert "Re-read this window</button>" not in html  # viewers only look


def test_staff_see_a_reread_button_per_gap_the_vendor_still_holds(staff, holed):
    html = staff.get(coverage_url(holed)).content.decode()
    assert html.count("Re-read this window</button>") == 1
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_year_of_calendar_stays_fast(viewer, datafold, django_assert_max_num_queries):
    # A window per hour for a year: one ledger query, whatever its size.
    now = floor_hour(timezone.now())
    CoveredWindow.objects.bulk_create(
        CoveredWindow(
            source=datafold,
            stream="logs",
            asked_from=now - (n + 1) * H,
            asked_to=now - n * H,
            rows=n % 3,
        )
        for n in range(24 * 365)
    )
    with django_assert_max_num_queries(12):
        response = viewer.get(coverage_url(datafold))
    assert response.status_code == 200


def test_a_viewer_cannot_queue_a_reread(viewer, holed):
    now = timezone.now()
    response = viewer.post(
        reread_url(holed), {"start": (now - 5 * H).isoformat(), "stop": (now - 4 * H).isoformat()}
    )
    assert response.status_code == 403


def test_a_reread_needs_the_csrf_token(holed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("boss2", password="pw"))
    now = timezone.now()
    response = client.post(
        reread_url(holed), {"start": (now - 5 * H).isoformat(), "stop": (now - 4 * H).isoformat()}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("start", "stop", "message"),
    [
        (-2 * H, -3 * H, "start must be before its end"),
        (-40 * 24 * H, -2 * H, "at most 31 days"),
        (-120 * 24 * H, -119 * 24 * H, "keeps 90 days"),
        (None, -2 * H, "ISO 8601"),
    ],
)
def test_a_bad_window_is_a_400_that_says_why(staff, holed, start, stop, message):
    now = timezone.now()
    data = {"stop": (now + stop).isoformat()}
    if start is not None:
        data["start"] = (now + start).isoformat()
    response = staff.post(reread_url(holed), data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_gap_about_to_fall_past_retention_is_a_warning_on_the_sources_page(viewer, datafold):
    now = timezone.now()
    horizon = retention_horizon(datafold, now)
    # Read from before the horizon to now, but for six hours three days after it.
    hole = floor_hour(horizon + 3 * 24 * H)
    window(datafold, horizon - 2 * 24 * H, hole)
    window(datafold, hole + 6 * H, now)
    (gap,) = gaps_at_risk(source=datafold, now=now)
    assert (gap.start, gap.stop) == (hole, hole + 6 * H)
    html = viewer.get(reverse("sources")).content.decode()
    assert "Never-read logs about to be lost" in html
    assert coverage_url(datafold) in html
    assert (hole + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S") in html  # lost from


def test_a_gap_far_from_the_horizon_is_no_warning(viewer, holed):
    assert gaps_at_risk(source=holed, now=timezone.now()) == []
    assert "about to be lost" not in viewer.get(reverse("sources")).content.decode()


def test_the_sources_page_reads_a_bounded_stretch_of_the_ledger(
    viewer, datafold, django_assert_max_num_queries
):
    now = floor_hour(timezone.now())
    window(datafold, now - 365 * 24 * H, now)
    with django_assert_max_num_queries(20):
        viewer.get(reverse("sources"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vendor", ["datafold", "domo", "velt", "lightdash"])
def test_a_queued_reread_runs_in_a_worker_and_fills_the_gap(simulator, source_for, vendor):
    source = source_for(simulator, vendor)
    assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    # Lose a day of what was read: its ledger and its events.
    lost_from = floor_hour(simulator.now - 15 * 24 * H)
    lost_to = lost_from + 24 * H
    CoveredWindow.objects.filter(
        source=source, asked_to__gt=lost_from, asked_from__lt=lost_to
    ).delete()
    ActivityEvent.objects.filter(
        source=source, occurred_at__gte=lost_from, occurred_at__lt=lost_to
    ).delete()
    calendar = coverage_calendar(source=source, now=timezone.now())
    (gap,) = [
        gap for stream in calendar.streams for gap in stream.gaps if not gap.before_first_read
    ]
    assert gap.start <= lost_from and lost_to <= gap.stop

    staff = Client()
    staff.force_login(User.objects.create_superuser("boss", password="pw"))
    response = staff.post(
        reread_url(source), {"start": gap.start.isoformat(), "stop": gap.stop.isoformat()}
    )
    assert response.status_code == 302
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    (run,) = SyncRun.objects.filter(source=source, trigger="re-read")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.since, run.until) == (gap.start, gap.stop)
    html = staff.get(coverage_url(source)).content.decode()
    assert f'name="start" value="{gap.start.isoformat()}"' not in html
    calendar = coverage_calendar(source=source, now=timezone.now())
    assert [
        gap for stream in calendar.streams for gap in stream.gaps if not gap.before_first_read
    ] == []
    expected = [r for r in simulator.truth(vendor) if lost_from <= _time(source, r) < lost_to]
    held = ActivityEvent.objects.filter(
        source=source, occurred_at__gte=lost_from, occurred_at__lt=lost_to
    )
    assert held.count() == len(expected) > 0


def _time(source: Source, record: dict):
    from activity.connectors import CONNECTORS

    return CONNECTORS[source.vendor](source).parse(record).occurred_at


def test_a_reread_that_finds_a_sync_running_is_queued_again_a_minute_later(datafold, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from activity import rereads

    def skipped(source, **options):
        return SyncRun.objects.create(source=source, status=SyncRun.Status.SKIPPED, **options)

    monkeypatch.setattr(rereads, "sync_source", skipped)
    now = timezone.now()
    since, until = (now - 5 * H).isoformat(), (now - 4 * H).isoformat()
    result = rereads.reread_task.call(source_id=datafold.pk, since=since, until=until)
    assert result["status"] == SyncRun.Status.SKIPPED
    (again,) = DBTaskResult.objects.all()
    assert again.args_kwargs["kwargs"] == {
        "source_id": datafold.pk,
        "since": since,
        "until": until,
        "attempt": 2,
    }
    assert again.run_after >= now + rereads.RETRY_AFTER
    DBTaskResult.objects.all().delete()
    last = rereads.reread_task.call(
        source_id=datafold.pk, since=since, until=until, attempt=rereads.MAX_ATTEMPTS
    )
    assert last["status"] == SyncRun.Status.SKIPPED
    assert not DBTaskResult.objects.exists()  # it gives up after the last attempt


def test_an_unknown_source_has_no_coverage_page(viewer, db):
    assert viewer.get(reverse("source_coverage", args=["nope"])).status_code == 404
