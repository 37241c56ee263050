"""Velt: activity logs."""

from __future__ import annotations

from activity.connectors.spec import VendorSpec

SPEC = VendorSpec(
    vendor="velt",
    default_base_url="https://api.velt.dev",
    required_params=("organization_id",),
    optional_params=("document_id", "page_size"),
    required_secrets=("api_key", "auth_token"),
    help={
        "api_key": "The workspace API key (Velt Console > Configurations).",
        "auth_token": "An auth token generated in the Velt Console (Security > Auth tokens).",
    },
)
