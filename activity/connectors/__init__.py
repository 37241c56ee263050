"""One module per vendor, each with the same small shape; the registry lives here."""

from __future__ import annotations

from activity.connectors import datafold, domo, lightdash, velt
from activity.connectors.base import Connector
from activity.connectors.spec import VendorSpec

CONNECTORS: dict[str, type[Connector]] = {
    "lightdash": lightdash.LightdashConnector,
    "datafold": datafold.DatafoldConnector,
    "domo": domo.DomoConnector,
    "velt": velt.VeltConnector,
}


def vendor_spec(vendor: str) -> VendorSpec:
    return CONNECTORS[vendor].spec


def vendor_names() -> list[str]:
    return list(CONNECTORS)
