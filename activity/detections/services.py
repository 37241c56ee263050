"""Writes to the rules' settings (the admin validates through ``Rule.clean`` the same way)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from activity.detections.models import Rule
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
