"""Bring up the dashboard full of simulated data: database, a demo login, the vendor
simulator, one synced source per vendor, a background worker and the web server."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from activity.connectors import vendor_names
from activity.models import Source
from activity.services.sources import source_create, source_update
from activity.simulator import VendorSimulator
from activity.sync.engine import sync_source

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - a local demo login, printed for the user


class Command(BaseCommand):
    help = "Local demo: simulated vendors, synced demo sources, a login (admin/admin), the site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default="8000", help="Port for the dashboard (8000).")
        parser.add_argument("--simulator-port", type=int, default=8765)
        parser.add_argument("--events", type=int, default=3000, help="Events per vendor.")
        parser.add_argument("--no-serve", action="store_true", help="Set up and sync, then exit.")

    def handle(self, *args, port, simulator_port, events, no_serve, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(DEMO_USERNAME, "", DEMO_PASSWORD)
        simulator = VendorSimulator(events_per_vendor=events, seed=1, port=simulator_port)
        simulator.start()
        try:
            for vendor in vendor_names():
                source = self._demo_source(simulator, vendor)
                run = sync_source(source, trigger="demo")
                self.stdout.write(
                    f"{source.name}: {run.status}, {run.events_new:,} new events"
                    + (f": {run.error}" if run.error else "")
                )
            self.stdout.write(
                f"\nDemo login: {DEMO_USERNAME} / {DEMO_PASSWORD} at http://127.0.0.1:{port}/"
            )
            if not no_serve:
                self._serve(port)
        finally:
            simulator.stop()

    def _demo_source(self, simulator: VendorSimulator, vendor: str) -> Source:
        credentials = simulator.credentials(vendor)
        name = f"demo-{vendor}"
        existing = Source.objects.filter(name=name).first()
        if existing:
            return source_update(
                source=existing,
                base_url=simulator.url(vendor),
                params=credentials["params"],
                secrets=credentials["secrets"],
            )
        return source_create(
            vendor=vendor,
            name=name,
            base_url=simulator.url(vendor),
            params=credentials["params"],
            secrets=credentials["secrets"],
        )

    def _serve(self, port: str) -> None:
        # "Sync now" on the sources page queues a task: a worker runs it.
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "db_worker", "--no-reload"]
        )
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
