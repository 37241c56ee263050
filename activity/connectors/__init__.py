"""One module per vendor, each with the same small shape; the registry lives here."""

from __future__ import annotations

from activity.connectors import datafold, domo, lightdash, velt
from activity.connectors.spec import VendorSpec

_MODULES = {module.SPEC.vendor: module for module in (lightdash, datafold, domo, velt)}


def vendor_spec(vendor: str) -> VendorSpec:
    return _MODULES[vendor].SPEC


def vendor_names() -> list[str]:
    return list(_MODULES)
