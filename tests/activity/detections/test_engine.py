"""Where the rules run: over new events only, in committed batches that resume after a kill,
queued after each sync, and never able to fail one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activity.detections import engine, sensitive_change
from activity.detections.engine import detections_evaluate
from activity.models import Alert, DetectionCursor, SyncRun
from activity.sync.engine import sync_source
from activity.vocabulary import Category
from tests.activity.detections.conftest import NOW, every

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes(source, person, events):
    """Sensitive changes by five people on one day: five digests."""
    for number in range(5):
        events(
            person(f"Person {number}"),
            every(NOW, 3, timedelta(minutes=1)),
            category=Category.PERMISSION,
        )


def test_a_second_evaluation_reads_nothing_and_raises_nothing(source, changes):
    first = detections_evaluate(source_id=source.pk)
    assert (first.events, len(first.raised)) == (15, 5)
    again = detections_evaluate(source_id=source.pk)
    assert (again.events, again.raised, again.grown) == (0, [], [])
    assert DetectionCursor.objects.get(source=source).evaluated_to == source.events.latest("id").pk


def test_an_evaluation_killed_mid_way_resumes_and_loses_nothing(source, changes, monkeypatch):
    real = sensitive_change.find
    calls = []

    def dies_on_the_third_batch(events, settings, context):
        calls.append(len(events))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the worker is killed
        return real(events, settings, context)

    monkeypatch.setattr(sensitive_change, "find", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        detections_evaluate(source_id=source.pk, batch_size=4)
    assert (
        DetectionCursor.objects.get(source=source).evaluated_to
        == source.events.order_by("id")[7].pk
    )  # two batches committed with their alerts
    monkeypatch.setattr(sensitive_change, "find", real)
    detections_evaluate(source_id=source.pk, batch_size=4)
    assert sorted(Alert.objects.values_list("events", flat=True)) == [3, 3, 3, 3, 3]


def test_events_arriving_later_join_their_days_alert(source, person, events):
    ada = person()
    events(ada, [NOW], category=Category.PERMISSION)
    detections_evaluate(source_id=source.pk)
    events(ada, [NOW + timedelta(hours=1)], category=Category.CONFIGURATION)
    outcome = detections_evaluate(source_id=source.pk)
    [alert] = Alert.objects.all()
    assert outcome.grown == [alert.pk] and alert.events == 2
    assert alert.explanation.startswith("2 permission or configuration changes")


def test_triage_is_kept_when_an_alert_gains_events(source, person, events):
    ada = person()
    events(ada, [NOW], category=Category.PERMISSION)
    detections_evaluate(source_id=source.pk)
    Alert.objects.update(state=Alert.State.ACKNOWLEDGED, triaged_by="sam")
    events(ada, [NOW + timedelta(hours=1)], category=Category.PERMISSION)
    detections_evaluate(source_id=source.pk)
    [alert] = Alert.objects.all()
    assert (alert.state, alert.triaged_by, alert.events) == ("acknowledged", "sam", 2)


def test_each_sync_queues_an_evaluation_of_its_source(
    simulator, source_for, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    source = source_for(simulator, "datafold")
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_source(source).status == SyncRun.Status.SUCCEEDED
    [task] = DBTaskResult.objects.filter(task_path__endswith="detections_evaluate_task")
    assert task.args_kwargs["kwargs"] == {"source_id": source.pk}


def test_a_detection_failure_never_fails_a_sync(
    simulator, source_for, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    def broken(*_, **__):
        raise RuntimeError("a rule is broken")

    monkeypatch.setattr(engine, "_evaluate", broken)
    source = source_for(simulator, "datafold")
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED and source.events.exists()
    # Retried next time: the cursor made in the failed evaluation went with it.
    assert not DetectionCursor.objects.filter(source=source, evaluated_to__gt=0).exists()
