"""detect [--rule R] [--since DATE] [--dry-run] [--set NAME=VALUE]... | --enable R | --disable R"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from activity.detections.engine import detections_backtest
from activity.detections.registry import RULES, rule_module, rule_settings_from
from activity.detections.services import rule_update
from activity.management.options import USAGE_ERROR, parse_cli_time
from activity.models import Person


class Command(BaseCommand):
    help = (
        "Backtest the detection rules over stored events: with --dry-run, print what they "
        "would raise; without, raise it (alerts already raised are not raised again). "
        "--enable R / --disable R switch a rule."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rule", help=f"Only this rule, enabled or not: {', '.join(RULES)}.")
        parser.add_argument("--since", help="Events from this date/time (ISO 8601, UTC).")
        parser.add_argument("--dry-run", action="store_true", help="Print; raise nothing.")
        parser.add_argument(
            "--set",
            dest="thresholds",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A threshold of --rule: tried only, with --dry-run; else saved to the rule.",
        )
        switch = parser.add_mutually_exclusive_group()
        switch.add_argument("--enable", metavar="R", help="Turn rule R on.")
        switch.add_argument("--disable", metavar="R", help="Turn rule R off.")

    def handle(self, *args, rule, since, dry_run, thresholds, enable, disable, **options):
        if enable or disable:
            name = _rule(enable or disable)
            if rule or since or dry_run or thresholds:
                raise CommandError(
                    "--enable/--disable take no other option", returncode=USAGE_ERROR
                )
            rule_update(name=name, enabled=bool(enable))
            self.stdout.write(f"{name}: {'enabled' if enable else 'disabled'}")
            return
        since_at = parse_cli_time(since, "--since")
        name = _rule(rule) if rule else None
        if thresholds and not name:
            raise CommandError("--set needs --rule", returncode=USAGE_ERROR)
        overrides = _thresholds(name, thresholds) if thresholds else {}
        if overrides and not dry_run:
            rule_update(name=name, thresholds=overrides)
        outcome = detections_backtest(
            since=since_at, rule=name, overrides=overrides, dry_run=dry_run
        )
        if dry_run:
            labels = dict(
                Person.objects.filter(
                    pk__in={f.person_id for f in outcome.findings if f.person_id}
                ).values_list("pk", "primary_email")
            )
            for finding in outcome.findings:
                who = labels.get(finding.person_id) or finding.subject or "-"
                self.stdout.write(
                    f"{finding.first_event_at:%Y-%m-%d %H:%M} {finding.rule} "
                    f"{finding.severity} {who} ({len(finding.events)} events): "
                    f"{finding.explanation}"
                )
            self.stdout.write(
                f"{len(outcome.findings)} alerts would be raised from "
                f"{outcome.events} events{_by_rule(f.rule for f in outcome.findings)}"
            )
        else:
            self.stdout.write(
                f"{len(outcome.raised)} alerts raised, {len(outcome.grown)} gained events, "
                f"from {outcome.events} events"
            )


def _rule(name: str) -> str:
    try:
        return rule_module(name).NAME
    except ValueError as error:
        raise CommandError(str(error), returncode=USAGE_ERROR) from None


def _thresholds(name: str, pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--set {pair!r}: expected NAME=VALUE", returncode=USAGE_ERROR)
        try:
            values[key.strip()] = json.loads(text)
        except ValueError:
            raise CommandError(
                f"--set {pair!r}: {text!r} is not a number, true or false",
                returncode=USAGE_ERROR,
            ) from None
    try:
        rule_settings_from(name, values)
    except ValueError as error:
        raise CommandError(f"{name}: {error}", returncode=USAGE_ERROR) from None
    return values


def _by_rule(rules) -> str:
    counts: dict[str, int] = {}
    for rule in rules:
        counts[rule] = counts.get(rule, 0) + 1
    return (": " + ", ".join(f"{r} {n}" for r, n in sorted(counts.items()))) if counts else ""
