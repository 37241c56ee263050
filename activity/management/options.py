"""Command-line values shared by the management commands."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.core.management.base import CommandError

USAGE_ERROR = 2


def parse_cli_time(value: str | None, flag: str) -> datetime | None:
    """``2026-01-01`` or ``2026-01-01T12:00[:00][Z|+02:00]``; no zone means UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{flag} {value!r} is not an ISO date (e.g. 2026-01-01 or 2026-01-01T12:00:00Z)",
            returncode=USAGE_ERROR,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_window(since: datetime | None, until: datetime | None) -> None:
    if since and until and since >= until:
        raise CommandError("--since must be before --until", returncode=USAGE_ERROR)


def source_named(name: str | None):
    """The source called ``name`` (None for none given); an unknown name is a usage error."""
    from activity.models import Source

    if not name:
        return None
    source = Source.objects.filter(name=name).first()
    if source is None:
        raise CommandError(f"no source named {name!r}", returncode=USAGE_ERROR)
    return source


def add_batch_size_argument(parser, default: int) -> None:
    """``--batch-size N``: events per transaction, for the commands that work in batches."""
    parser.add_argument(
        "--batch-size",
        type=int,
        default=default,
        help=f"Events per transaction (default {default}).",
    )


def check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise CommandError("--batch-size must be 1 or more", returncode=USAGE_ERROR)


def add_every_argument(parser) -> None:
    """``--every SECONDS``: for the commands that run once from cron or keep looping."""
    parser.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="Keep running, checking every SECONDS (default: check once and exit).",
    )


def run_every(every: float | None, step) -> None:
    """Run ``step()`` once, or every ``every`` seconds until stopped."""
    if every is not None and every <= 0:
        raise CommandError("--every must be a positive number of seconds", returncode=USAGE_ERROR)
    while True:
        step()
        if every is None:
            return
        time.sleep(every)


def operator_name() -> str:
    """Who ran a command, for the records it writes: the login name, if the system knows it."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "command line"


def decision_take(decide, **arguments):
    """Run a people decision (``activity.people.decisions``); one refused is a usage error
    with its message, and nothing was changed."""
    from activity.people.decisions import DecisionError

    try:
        return decide(**arguments)
    except DecisionError as error:
        raise CommandError(str(error), returncode=USAGE_ERROR) from None


def add_decision_arguments(parser) -> None:
    parser.add_argument("--reason", required=True, help="Why: kept with the decision.")
    parser.add_argument(
        "--by", default="", help="Who decided (default: the login name running the command)."
    )
