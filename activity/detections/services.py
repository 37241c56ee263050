"""Writes of detections: the rules' settings (the admin validates through ``Rule.clean`` the
same way) and alerts' triage (from the alert page and the admin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from activity.detections.models import Alert, Rule
from activity.detections.registry import rule_settings_from


@transaction.atomic
def rule_update(
    *, name: str, enabled: bool | None = None, thresholds: dict[str, Any] | None = None
) -> Rule:
    """Switch a rule and change some of its thresholds; bad ones raise ``ValueError`` and
    nothing is saved."""
    rule, _ = Rule.objects.select_for_update().get_or_create(name=name)
    merged = {**rule.thresholds, **(thresholds or {})}
    rule_settings_from(name, merged)
    if enabled is not None:
        rule.enabled = enabled
    rule.thresholds = merged
    rule.save()
    return rule


class TriageRefused(ValueError):
    pass


def triage_problem(*, state: str, note: str) -> str:
    """Why this triage cannot be recorded, or "" when it can."""
    if state not in Alert.State.values:
        return f"Unknown state {state!r}: choose one of {', '.join(Alert.State.values)}."
    if state == Alert.State.FALSE_POSITIVE and not note.strip():
        return "Say why it is a false positive in the note."
    return ""


@transaction.atomic
def alert_triage(*, alert_id: int, state: str, note: str, by: str) -> Alert:
    """Set the alert's state and note, recording who and when; refused input raises
    ``TriageRefused`` and changes nothing."""
    if problem := triage_problem(state=state, note=note):
        raise TriageRefused(problem)
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    alert.state = state
    alert.triage_note = note.strip()
    alert.triaged_by = by
    alert.triaged_at = alert.updated_at = timezone.now()
    alert.save(update_fields=["state", "triage_note", "triaged_by", "triaged_at", "updated_at"])
    return alert
