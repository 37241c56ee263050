from django.core.management.base import BaseCommand

from activity.crypto import new_key


class Command(BaseCommand):
    help = "Print a new key for SOURCE_SECRETS_KEYS (put it first in the list to rotate)."
    # It makes the key the checks ask for, so it must run before anything is configured.
    requires_system_checks = []

    def handle(self, *args, **options) -> None:
        self.stdout.write(new_key())
