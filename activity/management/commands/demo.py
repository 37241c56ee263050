"""Bring up the dashboard with demo data: migrate, a demo login, then the development server."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - a local demo login, printed for the user


class Command(BaseCommand):
    help = "Set up a local demo: database, a demo login (admin/admin) and the dashboard."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default="8000", help="Port for the dashboard (8000).")
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything but do not serve."
        )

    def handle(self, *args, port: str, no_serve: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(DEMO_USERNAME, "", DEMO_PASSWORD)
        self.stdout.write(
            f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD} at http://127.0.0.1:{port}/"
        )
        if not no_serve:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
