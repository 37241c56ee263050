"""What makes a destination valid; the model's ``clean`` and the admin both ask here."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email

from activity.detections.models import RuleName

if TYPE_CHECKING:
    from activity.detections.models import Destination


def destination_errors(destination: Destination) -> dict[str, str]:
    """Each field's problem in plain words; empty when the destination can be saved."""
    errors = {}
    rules = destination.rules
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        errors["rules"] = "Give a list of rule names (or none, for every rule)."
    else:
        unknown = sorted(set(rules) - set(RuleName.values))
        if unknown:
            errors["rules"] = (
                f"Unknown rule {', '.join(unknown)}; the rules are {', '.join(RuleName.values)}."
            )
    if destination.kind == destination.Kind.EMAIL:
        problem = _recipients_problem(destination.recipient_list)
        if problem:
            errors["recipients"] = problem
    elif destination.kind == destination.Kind.WEBHOOK:
        problem = webhook_url_problem(destination.url)
        if problem:
            errors["url"] = problem
        if not destination.secret_encrypted:
            errors[NON_FIELD_ERRORS] = "A webhook needs a shared secret to sign its requests."
    return errors


def _recipients_problem(addresses: list[str]) -> str:
    if not addresses:
        return "An email destination needs at least one recipient address."
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            return f"{address!r} is not an email address."
    return ""


def webhook_url_problem(url: str) -> str:
    """Why a webhook URL is refused: only https, except plain http to this machine."""
    if not url:
        return "A webhook destination needs a URL."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "This is not a URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give a full https:// URL."
    if parts.username or parts.password:
        return "Put no user name or password in the URL: requests are signed instead."
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "Use https:// (plain http:// is allowed only to this machine: 127.0.0.1, ::1)."
    return ""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
