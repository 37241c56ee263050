from __future__ import annotations

import json

import pytest

from activity.models import ActivityEvent, Source

VENDORS = ("lightdash", "datafold", "domo", "velt")
# Small pages so that a few hundred events already span many pages.
SMALL_PAGES = {"lightdash": {"page_size": "100"}, "velt": {"page_size": "100"}}


@pytest.fixture
def simulator():
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=600, seed=7, domo_token_ttl=3599) as sim:
        yield sim


@pytest.fixture
def source_for(db):
    def make(sim, vendor: str, name: str | None = None, **params) -> Source:
        credentials = sim.credentials(vendor)
        source = Source(
            vendor=vendor,
            name=name or f"{vendor}-sim",
            base_url=sim.url(vendor),
            params={**credentials["params"], **SMALL_PAGES.get(vendor, {}), **params},
        )
        source.secrets = credentials["secrets"]
        source.save()
        return source

    return make


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True)


def stored_records(source: Source) -> list[str]:
    """Every stored raw record of the source, canonical JSON, sorted (a multiset)."""
    return sorted(canonical(json.loads(raw)) for raw in source.events.values_list("raw", flat=True))


def truth_records(sim, vendor: str) -> list[str]:
    records = sim.truth(vendor)
    if vendor == "velt":
        records = [
            {**r, "metadata": {**r["metadata"], "apiKey": "[redacted]"}}
            if "apiKey" in (r.get("metadata") or {})
            else r
            for r in records
        ]
    return sorted(canonical(record) for record in records)


def event_count(source: Source) -> int:
    return ActivityEvent.objects.filter(source=source).count()


def seen_times_astray(source: Source) -> dict[str, tuple]:
    """The source's identities whose first and last seen are not their events' first and last
    (``key -> (stored, from the events)``): empty when they all match."""
    from django.db.models import Max, Min

    from activity.people.linking import identity_key

    expected: dict[str, list] = {}
    groups = (
        ActivityEvent.objects.filter(source=source)
        .values_list("actor_id", "actor_email")
        .annotate(first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by()
    )
    for actor_id, email, first, last in groups:
        times = expected.setdefault(identity_key(actor_id, email), [first, last])
        times[0], times[1] = min(times[0], first), max(times[1], last)
    stored = {
        key: [first, last]
        for key, first, last in source.identities.values_list(
            "key", "first_seen_at", "last_seen_at"
        )
        if first or last
    }
    return {
        key: (stored.get(key), expected.get(key))
        for key in set(stored) | set(expected)
        if stored.get(key) != expected.get(key)
    }
