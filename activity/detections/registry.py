"""The built-in rules by name, and their stored switches and thresholds."""

from __future__ import annotations

from typing import Any

from activity.detections import (
    active_after_deactivation,
    bulk_export,
    failed_signin_burst,
    sensitive_change,
    unusual_hours,
    vendor_support_access,
)
from activity.detections.base import RuleModule, settings_from

RULES: dict[str, RuleModule] = {
    module.NAME: module
    for module in (
        bulk_export,
        vendor_support_access,
        failed_signin_burst,
        active_after_deactivation,
        unusual_hours,
        sensitive_change,
    )
}


def rule_module(name: str) -> RuleModule:
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(f"unknown rule {name!r}: one of {', '.join(RULES)}") from None


def rule_settings_from(name: str, thresholds: dict[str, Any]):
    return settings_from(rule_module(name).Settings, thresholds)


def rules_enabled(
    only: str | None = None, overrides: dict[str, Any] | None = None
) -> list[tuple[RuleModule, Any]]:
    """``(rule, settings)`` of each enabled rule (a rule with no stored row is enabled, with
    its defaults); with ``only``, that rule whether enabled or not, its stored thresholds
    changed by ``overrides`` (a backtest)."""
    from activity.detections.models import Rule

    stored = {rule.name: rule for rule in Rule.objects.all()}
    chosen = []
    for name, module in RULES.items():
        row = stored.get(name)
        if only is not None and name != only:
            continue
        if only is None and row is not None and not row.enabled:
            continue
        thresholds = {**(row.thresholds if row else {}), **(overrides or {})}
        chosen.append((module, settings_from(module.Settings, thresholds)))
    return chosen
