"""A fresh checkout with nothing set: help works, keys can be made, the rest says what to set."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.activity.cli import PROJECT, manage, unconfigured_env

PRODUCT_COMMANDS = [
    "add_source",
    "demo",
    "export_activity",
    "generate_secrets_key",
    "purge_activity",
    "rebuild_rollups",
    "schedule_syncs",
    "simulate_vendors",
    "sync_activity",
]


@pytest.fixture
def env(tmp_path):
    return unconfigured_env(tmp_path)


def test_manage_help_lists_the_products_commands_without_any_secret(env):
    result = manage("--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "[activity]" in result.stdout
    for name in PRODUCT_COMMANDS:
        assert f"    {name}\n" in result.stdout
    assert "settings are not properly configured" not in result.stdout + result.stderr


def test_every_commands_help_works_without_any_secret(env):
    # The product's commands, and the framework's that the README and deployment use.
    names = [*PRODUCT_COMMANDS, "db_worker", "migrate", "runserver", "prune_db_task_results"]
    processes = {
        name: subprocess.Popen(
            [sys.executable, "manage.py", name, "--help"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, f"{name}: {stderr}"
        assert stdout.startswith(f"usage: manage.py {name}"), name
        assert not stderr, f"{name}: {stderr}"


def test_a_secrets_key_is_made_before_anything_is_set(env):
    result = manage("generate_secrets_key", env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) == 44  # a urlsafe base64 Fernet key


def test_a_command_that_needs_the_keys_says_which_to_set_without_a_traceback(env):
    result = manage("add_source", "datafold", "df", "--secret", "api_key=k", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "SOURCE_SECRETS_KEYS is not set" in result.stderr
    assert "generate_secrets_key" in result.stderr


def test_keys_in_the_env_file_are_read_and_the_environment_wins_over_it(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=from-the-file\nSOURCE_SECRETS_KEYS=bad-key\n")
    env = unconfigured_env(
        tmp_path, SOURCE_SECRETS_KEYS="r2yxXnB3kfAQQZ2HWkhC4ZbvhWlPgKfX0Jm3xFJ3XNk="
    )
    printed = "from django.conf import settings as s; print(s.SECRET_KEY, s.SOURCE_SECRETS_KEYS)"
    result = manage("shell", "--no-imports", "-c", printed, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "from-the-file",
        "['r2yxXnB3kfAQQZ2HWkhC4ZbvhWlPgKfX0Jm3xFJ3XNk=']",
    ]


def test_the_web_application_refuses_to_start_without_the_keys(env):
    result = subprocess.run(
        [sys.executable, "-c", "import dashboard.wsgi"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr.splitlines()[-1]
