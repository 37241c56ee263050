"""undo_decision DECISION_ID --reason TEXT: put back what a merge or split moved."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.management.options import add_decision_arguments, decision_take, operator_name
from activity.people.decisions import decision_undo


class Command(BaseCommand):
    help = (
        "Undo a merge or a split: its identities and their events go back where they were. "
        "The decision is kept, marked undone. A refusal exits with status 2."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("decision_id", type=int)
        add_decision_arguments(parser)

    def handle(self, *args, decision_id, reason, by, **options) -> None:
        decision = decision_take(
            decision_undo, decision_id=decision_id, reason=reason, by=by or operator_name()
        )
        self.stdout.write(
            f"Undid decision {decision.pk} ({decision.get_action_display().lower()} of "
            f"person {decision.other_id} and person {decision.person_id})."
        )
