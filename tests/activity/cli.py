"""Running ``manage.py`` as users do: a fresh process, with only the environment given."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
# What the test settings put in the environment, and what a user's shell may hold.
CONFIGURATION = {
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "ENV_FILE",
    "SECRET_KEY",
    "SOURCE_SECRETS_KEYS",
}


def unconfigured_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with no keys and no DEBUG: production settings, a .env and a SQLite
    database of its own in ``home`` (which need not exist yet)."""
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    return {
        **env,
        "ENV_FILE": str(home / ".env"),
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        **extra,
    }


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_group(pgid: int) -> list[int]:
    """The processes in group ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat.rpartition(")")[2].split()
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
