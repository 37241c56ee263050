"""Bring up the dashboard full of simulated data: database, a demo login, the vendor
simulator, one synced source per vendor, a background worker and the web server.

The first run writes a ``.env`` with fresh development keys and starts again under them, so
every later command (``sync_activity``, ``add_source``...) works without setting anything.
Ctrl-C, SIGTERM or SIGHUP stop everything the demo started: the simulator runs in this
process, the web server and the worker are its children and are stopped before it exits."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from activity.connectors import vendor_names
from activity.crypto import new_key
from activity.models import Source
from activity.services.sources import source_create, source_update
from activity.simulator import VendorSimulator
from activity.sync.engine import sync_source

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - a local demo login, printed for the user
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How long the worker may take to finish a sync in progress before it is killed.
STOP_TIMEOUT = 10


def env_file_create(path: Path) -> bool:
    """Write a development ``.env`` at ``path`` unless one exists; True if it was written."""
    text = (
        "# Written by `manage.py demo` for local development. Not for production: there,\n"
        "# set your own keys and leave DEBUG off (see the README's configuration table).\n"
        "DEBUG=1\n"
        # URL-safe characters: nothing a .env reader could take for quoting or a ${VARIABLE}.
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"SOURCE_SECRETS_KEYS={new_key()}\n"
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    return True


def processes_stop(processes: list[subprocess.Popen], *, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM each process still running, then SIGKILL what is left after ``timeout``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Command(BaseCommand):
    help = "Local demo: simulated vendors, synced demo sources, a login (admin/admin), the site."
    # The first run has no keys yet: it writes them (see env_file_create), then checks.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default="8000", help="Port for the dashboard (8000).")
        parser.add_argument("--simulator-port", type=int, default=8765)
        parser.add_argument("--events", type=int, default=3000, help="Events per vendor.")
        parser.add_argument("--no-serve", action="store_true", help="Set up and sync, then exit.")

    def handle(self, *args, port, simulator_port, events, no_serve, **options) -> None:
        from_command_line = getattr(self, "_called_from_command_line", False)
        if from_command_line and settings.ENV_FILE and env_file_create(Path(settings.ENV_FILE)):
            self.stdout.write(f"Wrote {settings.ENV_FILE} with development keys; restarting.")
            self.stdout.flush()
            # Settings are read once, at start: run again so that the demo's sources are
            # encrypted with the keys every later command reads.
            os.execv(sys.executable, sys.orig_argv)  # noqa: S606 - this very command again
        self.check()
        for number in STOP_SIGNALS:
            signal.signal(number, signal.default_int_handler)
        try:
            self._run(port, simulator_port, events, no_serve)
        except KeyboardInterrupt:
            self.stdout.write("\nDemo stopped.")

    def _run(self, port: str, simulator_port: int, events: int, no_serve: bool) -> None:
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
            # The demo's credentials replace the stored ones, which older keys may have sealed.
            existing.secrets = {}
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
        """Run the web server and a worker ("Sync now" queues a task) until either ends or
        the demo is stopped; then stop both."""
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            subprocess.Popen([*manage, "runserver", "--noreload", f"127.0.0.1:{port}"]),  # noqa: S603
            subprocess.Popen([*manage, "db_worker", "--no-reload"]),  # noqa: S603
        ]
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            # A second Ctrl-C must not cut the stopping short and leave a child behind.
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_IGN)
            processes_stop(children)
