"""``manage.py demo`` as users run it: the first run writes its keys, stopping it stops all."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from activity.simulator import VendorSimulator
from tests.activity.cli import (
    PROJECT,
    command_line,
    free_port,
    manage,
    process_group,
    unconfigured_env,
)

EVENTS = 5


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """A project folder's .env and database after a first ``demo --no-serve`` with nothing set."""
    home = tmp_path_factory.mktemp("demo")
    port = free_port()
    first = manage(
        "demo", "--no-serve", "--events", str(EVENTS), "--simulator-port", str(port),
        env=unconfigured_env(home),
    )  # fmt: skip
    return home, port, first


def test_the_first_demo_writes_development_keys_that_later_commands_read(demo_home):
    home, port, first = demo_home
    assert first.returncode == 0, first.stdout + first.stderr
    assert "development keys" in first.stdout
    assert "demo-velt: succeeded, 5 new events" in first.stdout
    env_file = home / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert settings["DEBUG"] == "1"
    assert len(settings["SECRET_KEY"]) >= 50
    assert len(settings["SOURCE_SECRETS_KEYS"]) == 44
    # Without DEBUG or keys in the environment, a sync decrypts what the demo stored.
    with VendorSimulator(events_per_vendor=EVENTS, seed=1, port=port):
        synced = manage("sync_activity", env=unconfigured_env(home))
    assert synced.returncode == 0, synced.stdout + synced.stderr
    again = manage("demo", "--no-serve", "--simulator-port", str(port), env=unconfigured_env(home))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "development keys" not in again.stdout
    assert env_file.read_text().count("SECRET_KEY") == 1


def dashboard_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_the_demo_stops_every_process_it_started(demo_home, stop):
    home, _, _ = demo_home
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--events", str(EVENTS),
         "--port", str(port), "--simulator-port", str(free_port())],
        cwd=PROJECT,
        env=unconfigured_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: everything it starts is in it
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        started = []
        while time.monotonic() < deadline and demo.poll() is None:
            started = [command_line(pid) for pid in process_group(demo.pid) if pid != demo.pid]
            if any("db_worker" in c for c in started) and dashboard_answers(port):
                break
            time.sleep(0.2)
        assert any("db_worker" in c for c in started), demo.stdout.read() if demo.poll() else ""
        assert any("runserver" in c for c in started)
        assert dashboard_answers(port)

        demo.send_signal(stop)
        output, _ = demo.communicate(timeout=30)
        assert demo.returncode == 0, output
        assert "Demo stopped." in output
        assert process_group(demo.pid) == [], [command_line(p) for p in process_group(demo.pid)]
        assert not dashboard_answers(port)
    finally:
        if process_group(demo.pid):
            os.killpg(demo.pid, signal.SIGKILL)
        if demo.poll() is None:
            demo.wait()
