"""Linking quality: precision and recall of persons on the simulated organisation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/activity_linking \\
        python bench/linking.py --events 3000 --seed 7

Empties the activity tables, serves the four vendors from the simulator (in this process, over
loopback HTTP), syncs them as a deployment would (directories included), then scores each stored
event's person against the simulator's ground truth (who really acted on each record):

- precision: the share of persons (not anonymous) whose events are all one principal's;
- recall: the share of principals whose events all reach one person;
- event-weighted versions of both, and the persons and principals counted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SOURCE_SECRETS_KEYS", "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA=")

import django

django.setup()

from django.apps import apps
from django.core.management import call_command
from django.db import connection

from activity.models import ActivityEvent, Person, Source
from activity.simulator import VendorSimulator
from activity.sync.engine import sync_source

VENDORS = ("lightdash", "datafold", "domo", "velt")


def empty_tables() -> None:
    models = apps.get_app_config("activity").get_models()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in models)
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            sys.exit("set DATABASE_URL=postgres://... (an empty database it may truncate)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Linking precision and recall.")
    parser.add_argument("--events", type=int, default=3000, help="events per vendor")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    empty_tables()
    with VendorSimulator(events_per_vendor=args.events, seed=args.seed) as sim:
        for vendor in VENDORS:
            credentials = sim.credentials(vendor)
            source = Source(
                vendor=vendor,
                name=f"linking-{vendor}",
                base_url=sim.url(vendor),
                params=credentials["params"],
            )
            source.secrets = credentials["secrets"]
            source.save()
            run = sync_source(source)
            if run.error:
                sys.exit(f"{vendor}: {run.error}")
        held: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for vendor, raw, person_id in ActivityEvent.objects.values_list(
            "source__vendor", "raw", "person_id"
        ).iterator():
            principal = sim.organisation.actor_of(vendor, json.loads(raw))
            held[person_id][principal.key if principal else ""] += 1
    anonymous = set(Person.objects.filter(kind=Person.Kind.ANONYMOUS).values_list("pk", flat=True))
    persons = {pk: principals for pk, principals in held.items() if pk not in anonymous}
    pure = [
        pk for pk, principals in persons.items() if len(principals) == 1 and "" not in principals
    ]
    reach: dict[str, set[int]] = defaultdict(set)
    events_of: dict[str, int] = defaultdict(int)
    for pk, principals in persons.items():
        for key, n in principals.items():
            reach[key].add(pk)
            events_of[key] += n
    whole = [key for key, pks in reach.items() if key and len(pks) == 1]
    anonymous_events = sum(sum(held[pk].values()) for pk in anonymous if pk in held)
    misplaced = sum(n for pk in anonymous if pk in held for key, n in held[pk].items() if key)
    total = sum(events_of.values())
    pure_events = sum(sum(persons[pk].values()) for pk in pure)
    whole_events = sum(events_of[key] for key in whole)
    everyone = total + anonymous_events
    print(f"events {everyone:,} ({anonymous_events:,} anonymous, {misplaced} of them someone's)")
    print(f"persons {len(persons)}, principals {len([k for k in reach if k])}")
    print(f"precision {len(pure) / len(persons):.3f} (by events {pure_events / total:.3f})")
    print(f"recall    {len(whole) / len(reach):.3f} (by events {whole_events / total:.3f})")


if __name__ == "__main__":
    main()
