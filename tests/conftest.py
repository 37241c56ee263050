from __future__ import annotations

import pytest
from django.db import connection

from activity.detections.base import process_memo_clear
from activity.models import Source


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def fresh_detection_baselines():
    """Baselines cached by one test are not another's: the person ids repeat."""
    process_memo_clear()


@pytest.fixture
def make_source(db):
    def make(name: str = "acme-bi", vendor: str = "lightdash", **fields) -> Source:
        secrets = fields.pop("secrets", {"token": "sekret-token-value"})
        params = fields.pop("params", {"project_uuid": "3675b69e-8324-4110-bdca-059031aa8da3"})
        source = Source(
            vendor=vendor,
            name=name,
            base_url=fields.pop("base_url", "https://app.lightdash.cloud"),
            params=params,
            **fields,
        )
        source.secrets = secrets
        source.save()
        return source

    return make
