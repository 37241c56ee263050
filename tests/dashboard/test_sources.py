"""The sources page: each source's background task and who holds its lease."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from activity.models import Source
from activity.sync.lease import lease_acquire, lease_release
from activity.tasks import sync_enqueue, sync_source_task, sync_task_state


@pytest.fixture
def queue(db, django_capture_on_commit_callbacks):
    """Create a source and queue its sync; return the source and its task's database row."""

    def make(name: str):
        source = Source.objects.create(vendor="velt", name=name, base_url="https://x.test")
        with django_capture_on_commit_callbacks(execute=True):
            assert sync_enqueue(source_id=source.pk, trigger="dashboard")
        source.refresh_from_db()
        return source, sync_source_task.get_result(source.sync_task_id).db_result

    return make


def sections(html: str) -> dict[str, str]:
    parts = html.split('<section class="card source">')[1:]
    return {re.search(r"<h2>([\w-]+) ", part).group(1): part for part in parts}


def task_text(section: str) -> str:
    return re.sub(
        r"<[^>]+>", "", re.search(r'<dd class="task-state">(.*?)</dd>', section, re.S).group(1)
    )


def lease_text(section: str) -> str:
    return re.sub(
        r"<[^>]+>", "", re.search(r'<dd class="lease">(.*?)</dd>', section, re.S).group(1)
    )


def test_the_sources_page_shows_each_task_state_and_the_lease_holder(viewer, queue):
    queue("a-queued")
    running, running_task = queue("b-running")
    running_task.claim("worker-1")
    _, succeeded_task = queue("c-succeeded")
    succeeded_task.claim("worker-1")
    succeeded_task.set_successful({"sync_run": 1, "status": "succeeded", "error": ""})
    _, failed_task = queue("d-failed")
    failed_task.claim("worker-2")
    failed_task.set_successful(
        {"sync_run": 2, "status": "failed", "error": "Velt refused the API key (401)"}
    )
    _, crashed_task = queue("e-crashed")
    crashed_task.claim("worker-2")
    crashed_task.set_failed(RuntimeError("out of memory"))
    abandoned, abandoned_task = queue("f-abandoned")
    abandoned_task.claim("worker-3")
    # Its worker took the lease, then died: the lease is written but no longer held.
    Source.objects.filter(pk=abandoned.pk).update(
        lease_holder="gone-host:4321",
        lease_acquired_at=timezone.now(),
        lease_heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    Source.objects.create(vendor="velt", name="g-never", base_url="https://x.test")

    assert lease_acquire(running, "worker-host:4242")
    try:
        html = viewer.get(reverse("sources")).content.decode()
    finally:
        lease_release(running, "worker-host:4242")

    found = sections(html)
    assert task_text(found["a-queued"]).startswith("queued since ")
    assert task_text(found["b-running"]).startswith("running since ")
    assert lease_text(found["b-running"]).startswith("held by worker-host:4242 since ")
    assert "stale" not in lease_text(found["b-running"])
    assert task_text(found["c-succeeded"]).startswith("succeeded since ")
    assert task_text(found["d-failed"]).endswith(escape(": Velt refused the API key (401)"))
    assert task_text(found["e-crashed"]).endswith(": RuntimeError: out of memory")
    assert task_text(found["f-abandoned"]).startswith("abandoned since ")
    assert "held by gone-host:4321" in lease_text(found["f-abandoned"])
    assert "stale: its process is gone" in lease_text(found["f-abandoned"])
    assert task_text(found["g-never"]) == "none queued"
    assert lease_text(found["g-never"]) == "free"


def test_an_abandoned_task_is_queued_again_and_closed_as_failed(
    queue, django_capture_on_commit_callbacks
):
    source, task = queue("dead-worker")
    task.claim("worker-9")
    Source.objects.filter(pk=source.pk).update(
        lease_holder="gone-host:4321",
        lease_acquired_at=timezone.now(),
        lease_heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_enqueue(source_id=source.pk, trigger="schedule")
    source.refresh_from_db()
    assert source.sync_task_id != str(task.id)
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert task.traceback.strip().endswith("gone-host:4321 stopped during the sync; queued again")


def test_a_lease_taken_after_the_source_was_read_is_not_taken_for_a_dead_worker(queue):
    source, task = queue("just-leased")
    task.claim("worker-1")
    read_before = Source.objects.get(pk=source.pk)  # the worker has not taken the lease yet
    assert lease_acquire(source, "worker-host:4242")
    try:
        assert sync_task_state(read_before).status == "running"
    finally:
        lease_release(source, "worker-host:4242")
