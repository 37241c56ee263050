"""One vocabulary across vendors: what kind of thing an event did, and whether it worked.

Each connector maps its vendor's own actions to a ``Category`` in a plain table beside its
``parse``; an action missing from the table is read by its verb (``FALLBACK``), and one that
neither knows is ``other`` (the sources page lists those, so a vendor's new actions are seen).
The ``Outcome`` comes only from what the vendor's record says: ``unknown`` when it says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from django.db import models


class Category(models.TextChoices):
    AUTHENTICATION = "authentication", "Authentication"
    READ = "read", "Read"
    EXPORT = "export", "Export"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    PERMISSION = "permission", "Permission"
    CONFIGURATION = "configuration", "Configuration"
    COLLABORATION = "collaboration", "Collaboration"
    OTHER = "other", "Other"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    UNKNOWN = "unknown", "Unknown"


CATEGORY_MEANINGS = {
    Category.AUTHENTICATION: "sign-in, sign-out, token and SSO events",
    Category.READ: "views, opens, queries that only read",
    Category.EXPORT: "downloads, exports, data leaving the tool",
    Category.CREATE: "something new was made",
    Category.UPDATE: "something was changed",
    Category.DELETE: "something was removed",
    Category.PERMISSION: "sharing, grants, role and membership changes",
    Category.CONFIGURATION: "settings, API keys, integrations, connections",
    Category.COLLABORATION: "comments, reactions, recordings, mentions",
    Category.OTHER: "an action neither the vendor's table nor its verb explains",
}

# The verb of an unknown action, first match wins: the specific kinds (a failed sign-in, an
# API key) before the generic verbs (create, update) that their names also hold.
FALLBACK: list[tuple[Category, tuple[str, ...]]] = [
    (
        Category.AUTHENTICATION,
        (
            "login",
            "logout",
            "logged",
            "signin",
            "signout",
            "signed",
            "sso",
            "saml",
            "mfa",
            "password",
            "session",
            "authenticat",
            "token",
        ),
    ),
    (Category.EXPORT, ("export", "download")),
    (
        Category.CONFIGURATION,
        ("setting", "config", "integration", "apikey", "connection", "webhook"),
    ),
    (
        Category.PERMISSION,
        ("share", "shared", "grant", "revoke", "invite", "role", "permission", "member", "access"),
    ),
    (
        Category.COLLABORATION,
        ("comment", "reaction", "mention", "recording", "annotation", "reply"),
    ),
    (Category.DELETE, ("delete", "deleted", "remove", "removed", "archive", "archived", "purge")),
    (Category.CREATE, ("create", "created", "add", "added", "new", "insert", "upload")),
    (
        Category.UPDATE,
        (
            "update",
            "updated",
            "edit",
            "edited",
            "modify",
            "change",
            "changed",
            "rename",
            "move",
            "set",
            "status",
            "assign",
            "approve",
            "approved",
            "accept",
            "reject",
        ),
    ),
    (
        Category.READ,
        (
            "view",
            "viewed",
            "open",
            "opened",
            "read",
            "get",
            "list",
            "search",
            "run",
            "query",
            "execute",
            "executed",
        ),
    ),
]


def category_of(action: str, table: Mapping[str, Category]) -> Category:
    """The vendor table's category for ``action``, else the fallback's."""
    return table.get(action) or category_by_verb(action)


@lru_cache(maxsize=4096)  # a vendor has tens of actions; millions of events repeat them
def category_by_verb(action: str) -> Category:
    """Read the verb of an action no table knows: ``user_login``, ``VIEWED``, ``export.csv``."""
    words = [word for word in re.split(r"[^a-z]+", action.lower().replace("api_key", "apikey"))]
    for category, stems in FALLBACK:
        for word in words:
            if word and any(word == stem or word.startswith(stem) for stem in stems):
                return category
    return Category.OTHER


def outcome_from_status(value: object) -> Outcome:
    """An outcome from a vendor's status word or HTTP status code; unknown when it is neither."""
    if isinstance(value, bool) or value is None:
        return Outcome.UNKNOWN
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        code = int(value)
        if 200 <= code < 400:
            return Outcome.SUCCESS
        return Outcome.FAILURE if 400 <= code < 600 else Outcome.UNKNOWN
    if not isinstance(value, str):
        return Outcome.UNKNOWN
    word = value.strip().lower()
    if word in ("success", "succeeded", "successful", "ok", "completed", "allowed"):
        return Outcome.SUCCESS
    if word in ("failure", "failed", "fail", "error", "denied", "rejected", "forbidden"):
        return Outcome.FAILURE
    return Outcome.UNKNOWN
