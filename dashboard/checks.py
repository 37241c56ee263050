"""The secrets every command but ``--help`` and ``generate_secrets_key`` needs.

Settings load without them (so help and key generation work on a fresh checkout); this
system check stops any other command with a short message instead, and ``dashboard/wsgi.py``
refuses to serve without them."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

SETUP_HINT = (
    "Set it in the environment or in .env in the project folder (see the README's "
    '"Connecting vendors and syncing"), or run `manage.py demo` once for a local setup.'
)


def missing_secrets() -> list[checks.Error]:
    errors = []
    try:
        has_secret_key = bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to read an empty SECRET_KEY
        has_secret_key = False
    if not has_secret_key:
        errors.append(
            checks.Error(
                "SECRET_KEY is not set (it is required when DEBUG is off).",
                hint=SETUP_HINT,
                id="dashboard.E001",
            )
        )
    if not settings.SOURCE_SECRETS_KEYS and not settings.DEBUG:
        errors.append(
            checks.Error(
                "SOURCE_SECRETS_KEYS is not set (it is required when DEBUG is off).",
                hint="Make a key with `manage.py generate_secrets_key`. " + SETUP_HINT,
                id="dashboard.E002",
            )
        )
    return errors


@checks.register()
def secrets_check(app_configs=None, **kwargs) -> list[checks.Error]:
    return missing_secrets()


def require_secrets() -> None:
    """Raise at start-up, before a web server takes requests it cannot answer."""
    errors = missing_secrets()
    if errors:
        raise ImproperlyConfigured(" ".join(error.msg for error in errors))
