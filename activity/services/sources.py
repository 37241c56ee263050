"""Creating and changing sources, with every input checked before anything is written."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction

from activity.connectors import vendor_names, vendor_spec
from activity.models import Source


class SourceConfigError(ValueError):
    """The source's configuration is invalid; the message says what to fix."""


def validate_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(f"base URL {url!r} is not an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise SourceConfigError(f"base URL {url!r} must not carry a query or fragment")
    return url.rstrip("/")


def validate_keys(
    *, vendor: str, params: dict[str, str], secrets: dict[str, str], partial: bool = False
) -> None:
    """Refuse unknown keys; unless ``partial``, refuse missing required ones too."""
    if vendor not in vendor_names():
        raise SourceConfigError(
            f"unknown vendor {vendor!r}: choose one of {', '.join(vendor_names())}"
        )
    spec = vendor_spec(vendor)
    for kind, given, allowed, required in (
        ("param", params, spec.params, spec.required_params),
        ("secret", secrets, spec.secrets, spec.required_secrets),
    ):
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            raise SourceConfigError(
                f"unknown {kind} {', '.join(unknown)} for {vendor}: "
                f"expected {', '.join(allowed) or 'none'}"
            )
        empty = sorted(key for key, value in given.items() if not str(value).strip())
        if empty:
            raise SourceConfigError(f"{kind} {', '.join(empty)} is empty")
        missing = [] if partial else [key for key in required if key not in given]
        if missing:
            raise SourceConfigError(f"missing {kind} {', '.join(missing)} for {vendor}")
    if "time_zone" in params:
        validate_time_zone(params["time_zone"])
    if "retention_days" in params:
        validate_retention_days(params["retention_days"])


def validate_time_zone(name: str) -> str:
    """An IANA zone name (``America/Denver``), so that daylight saving is applied."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceConfigError(
            f"param time_zone: unknown time zone {name!r}: give an IANA name such as "
            "America/Denver, Europe/Berlin or UTC"
        ) from None
    return name


MAX_RETENTION_DAYS = 3650


def validate_retention_days(value: object) -> int:
    """How many days the vendor keeps its logs: a whole number of days, 1 to ten years."""
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise SourceConfigError(
            f"param retention_days: {value!r} is not a whole number of days from 1 to "
            f"{MAX_RETENTION_DAYS} (how long the vendor keeps its logs)"
        )
    return days


@transaction.atomic
def source_create(
    *, vendor: str, name: str, base_url: str, params: dict[str, str], secrets: dict[str, str]
) -> Source:
    validate_keys(vendor=vendor, params=params, secrets=secrets)
    if Source.objects.filter(name=name).exists():
        raise SourceConfigError(f"a source named {name!r} already exists (use --update)")
    source = Source(vendor=vendor, name=name, base_url=validate_base_url(base_url), params=params)
    source.secrets = secrets
    _full_clean(source)
    source.save()
    return source


@transaction.atomic
def source_update(
    *, source: Source, base_url: str | None, params: dict[str, str], secrets: dict[str, str]
) -> Source:
    """Merge the given params and secrets into the source's; keys not given are kept."""
    validate_keys(vendor=source.vendor, params=params, secrets=secrets, partial=True)
    if base_url:
        source.base_url = validate_base_url(base_url)
    source.params = {**source.params, **params}
    source.secrets = {**source.secrets, **secrets}
    _full_clean(source)
    source.save()
    return source


def _full_clean(source: Source) -> None:
    try:
        source.full_clean()
    except ValidationError as error:
        raise SourceConfigError(
            "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
        ) from None
