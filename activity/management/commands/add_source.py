"""add_source VENDOR NAME --base-url URL [--param K=V]... [--secret K=V]... [--update]"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from activity.connectors import vendor_names, vendor_spec
from activity.management.options import USAGE_ERROR
from activity.models import Source
from activity.services.sources import SourceConfigError, source_create, source_update


class Command(BaseCommand):
    help = (
        "Connect a vendor account. Secrets given as env:NAME are read from that environment "
        "variable, so they stay out of shell history."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("vendor", help=f"One of: {', '.join(vendor_names())}.")
        parser.add_argument("name", help="A unique name for this source, e.g. acme-bi.")
        parser.add_argument("--base-url", help="The vendor's API base URL (default per vendor).")
        parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument(
            "--update", action="store_true", help="Change an existing source instead."
        )

    def handle(self, *args, vendor, name, base_url, param, secret, update, **options) -> None:
        try:
            params = _pairs(param, "--param")
            secrets = {
                key: _secret_value(key, value) for key, value in _pairs(secret, "--secret").items()
            }
            if update:
                source = Source.objects.filter(name=name).first()
                if source is None:
                    raise SourceConfigError(f"no source named {name!r} to update")
                if source.vendor != vendor:
                    raise SourceConfigError(
                        f"source {name!r} is a {source.vendor} source, not {vendor}"
                    )
                source_update(source=source, base_url=base_url, params=params, secrets=secrets)
                verb = "Updated"
            else:
                if vendor not in vendor_names():
                    raise SourceConfigError(
                        f"unknown vendor {vendor!r}: choose one of {', '.join(vendor_names())}"
                    )
                source = source_create(
                    vendor=vendor,
                    name=name,
                    base_url=base_url or vendor_spec(vendor).default_base_url,
                    params=params,
                    secrets=secrets,
                )
                verb = "Added"
        except SourceConfigError as error:
            raise CommandError(str(error), returncode=USAGE_ERROR) from None
        self.stdout.write(
            f"{verb} {source.vendor} source {source.name!r} at {source.base_url} "
            f"(secrets stored encrypted: {', '.join(source.secret_names) or 'none'})."
        )


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SourceConfigError(f"each {flag} must be KEY=VALUE")
        if key.strip() in pairs:
            raise SourceConfigError(f"{flag} {key.strip()} is given twice")
        pairs[key.strip()] = value
    return pairs


def _secret_value(key: str, value: str) -> str:
    if not value.startswith("env:"):
        return value
    variable = value.removeprefix("env:")
    if not os.environ.get(variable):
        raise SourceConfigError(f"secret {key}: environment variable {variable} is not set")
    return os.environ[variable]
