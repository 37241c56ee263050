"""split_identity IDENTITY_ID --reason TEXT: an identity becomes a person of its own."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.management.options import add_decision_arguments, decision_take, operator_name
from activity.people.decisions import identity_split


class Command(BaseCommand):
    help = (
        "Split an identity off its person into a new person of its own, with its events. "
        "Recorded and undoable (undo_decision). A refusal (the person's last identity, an "
        "unknown id) exits with status 2."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("identity_id", type=int)
        add_decision_arguments(parser)

    def handle(self, *args, identity_id, reason, by, **options) -> None:
        decision = decision_take(
            identity_split, identity_id=identity_id, reason=reason, by=by or operator_name()
        )
        self.stdout.write(
            f"Split identity {identity_id} off person {decision.other_id} into person "
            f"{decision.person_id}: {decision.events_moved:,} events moved "
            f"(decision {decision.pk})."
        )
