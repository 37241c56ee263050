"""Datafold: audit logs."""

from __future__ import annotations

from activity.connectors.spec import VendorSpec

SPEC = VendorSpec(
    vendor="datafold",
    default_base_url="https://app.datafold.com",
    optional_params=("window_minutes",),
    required_secrets=("api_key",),
    help={"api_key": "An API key of an admin or service account (Settings > Account)."},
)
