"""Domo: the activity log (audit API)."""

from __future__ import annotations

from activity.connectors.spec import VendorSpec

SPEC = VendorSpec(
    vendor="domo",
    default_base_url="https://api.domo.com",
    required_secrets=("client_id", "client_secret"),
    help={
        "client_id": "Client ID of an OAuth client with the audit scope, created at "
        "developer.domo.com > My Account > New Client by a user with Admin or "
        "'View Activity Logs'.",
    },
)
