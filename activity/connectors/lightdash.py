"""Lightdash: download activity (events) and user activity (snapshots of aggregates)."""

from __future__ import annotations

from activity.connectors.spec import VendorSpec

SPEC = VendorSpec(
    vendor="lightdash",
    default_base_url="https://app.lightdash.cloud",
    required_params=("project_uuid",),
    optional_params=("page_size",),
    required_secrets=("token",),
    help={
        "project_uuid": "The project's UUID, from its URL: /projects/<uuid>/...",
        "token": "A personal access token of an organization admin (Settings > Personal "
        "access tokens); service-account tokens (ldsvc_...) work too.",
    },
)
