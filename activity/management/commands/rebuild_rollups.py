from django.core.management.base import BaseCommand
from django.db import transaction

from activity.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recount the daily rollups from the event table (after a bulk load, or to repair)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            rollups_rebuild()
        self.stdout.write("Rollups rebuilt.")
