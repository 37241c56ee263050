"""merge_people KEEP_ID MERGE_ID --reason TEXT: merge one person into another."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from activity.management.options import add_decision_arguments, decision_take, operator_name
from activity.people.decisions import people_merge


class Command(BaseCommand):
    help = (
        "Merge person MERGE_ID into person KEEP_ID: every identity and event moves, the "
        "decision is recorded and can be undone (undo_decision). A refusal exits with status 2."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("keep_id", type=int, help="The person kept.")
        parser.add_argument("merge_id", type=int, help="The person merged into it.")
        add_decision_arguments(parser)

    def handle(self, *args, keep_id, merge_id, reason, by, **options) -> None:
        decision = decision_take(
            people_merge,
            keep_id=keep_id,
            merge_id=merge_id,
            reason=reason,
            by=by or operator_name(),
        )
        self.stdout.write(
            f"Merged person {merge_id} into person {keep_id}: {len(decision.identities)} "
            f"identities, {decision.events_moved:,} events moved (decision {decision.pk})."
        )
