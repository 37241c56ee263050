"""Fill PostgreSQL with a year of realistic synthetic events, fast (COPY), for the page benchmarks.

    DATABASE_URL=postgres://... python bench/fill.py --events 10000000

What makes it realistic (each one a property that has made a page slow before):
- 20,000 people whose activity follows a steep power law: the busiest account, a CI service
  user with an email, has 5% of all events; most people have a handful.
- Office-hour and weekday rhythm; events written in time order, as syncs write them.
- Five sources, each with its vendor's own identifiers: two Lightdash projects whose download
  rows carry only a ``userUuid`` and names (no email, as the real API), Domo rows with a
  numeric ``userId`` and a name (no email), Datafold and Velt rows with an email.
- Each vendor's own action and object-type vocabulary, so most (source, object type) pairs
  never occur together; a few people share a name; some names are long.
- Raw records of 300 to 1,200 bytes, shaped like the vendor's; thousands of distinct IP
  addresses and user agents.
Lightdash events get their download rows, and each Lightdash source a daily snapshot.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.core.management import call_command
from django.db import connection

from activity import models
from activity.connectors import CONNECTORS
from activity.models import Source, UserActivitySnapshot
from activity.sync.store import EVENT_COLUMNS

PEOPLE = 20_000
BUSIEST_SHARE = 0.05
SOURCES = [  # (name, vendor, share of the events)
    ("bench-lightdash", "lightdash", 0.12),
    ("bench-lightdash-2", "lightdash", 0.05),
    ("bench-datafold", "datafold", 0.25),
    ("bench-domo", "domo", 0.35),
    ("bench-velt", "velt", 0.23),
]
# Each vendor's vocabulary: (action, object type, weight). Lightdash's feed is downloads only.
VOCABULARY = {
    "lightdash": [("download", "query", 1)],
    "datafold": [
        ("view_diff", "diff", 30),
        ("run_diff", "diff", 12),
        ("api_call", "api", 25),
        ("login", "user", 6),
        ("logout", "user", 2),
        ("create_monitor", "monitor", 2),
        ("update_monitor", "monitor", 3),
        ("delete_monitor", "monitor", 0.3),
        ("view_monitor", "monitor", 8),
        ("update_settings", "organization", 0.2),
        ("invite_user", "user", 0.1),
        ("create_api_key", "api_key", 0.05),
        ("update_datasource", "datasource", 0.4),
        ("view_lineage", "lineage", 5),
        ("export_diff", "diff", 0.8),
    ],
    "domo": [
        ("VIEWED", "PAGE", 30),
        ("VIEWED", "CARD", 35),
        ("VIEWED", "DATA_SOURCE", 5),
        ("LOGGED_IN", "USER", 6),
        ("LOGGED_OUT", "USER", 1),
        ("CREATED", "CARD", 1.5),
        ("UPDATED", "CARD", 3),
        ("DELETED", "CARD", 0.2),
        ("UPDATED", "DATA_SOURCE", 2),
        ("EXECUTED", "DATAFLOW", 4),
        ("EXPORTED", "CARD", 1),
        ("SHARED", "PAGE", 0.5),
        ("UPDATED", "GROUP", 0.1),
        ("CREATED", "ACCESS_TOKEN", 0.02),
        ("FAILED_LOGIN", "USER", 0.3),
    ],
    "velt": [
        ("comment.add", "comment", 20),
        ("comment.update", "comment", 5),
        ("comment.delete", "comment", 1),
        ("comment.reaction_add", "comment", 8),
        ("comment_annotation.add", "comment", 6),
        ("comment_annotation.status_change", "comment", 4),
        ("reaction.add", "reaction", 6),
        ("recording.add", "recorder", 2),
        ("crdt.editor_edit", "crdt", 30),
        ("custom.approved", "custom", 0.5),
    ],
}
FILE_TYPES = ["csv", "csv", "csv", "xlsx", "xlsx", "jsonl", "image", "s3_jsonl"]
CONTEXTS = [
    "dashboardView",
    "dashboardView",
    "sqlRunner",
    "exploreView",
    "api",
    "cli",
    "mcp.run_sql",
]
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Leslie",
    "Hedy",
    "Dennis",
    "Katherine",
    "Sofia",
    "Mateo",
    "Aiko",
    "Olumide",
    "Priya",
    "Chen",
    "Lars",
    "Ines",
    "Tomás",
    "Zoë",
    "Nikolai",
    "Amara",
    "Kwame",
    "Maria",
    "José",
    "Anna-Lena",
    "Björn",
    "Siobhán",
    "Yusuf",
    "Fatima",
    "Hiroshi",
    "Elif",
    "Diego",
    "Ngozi",
    "Mei",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Okafor",
    "Nakamura",
    "Müller",
    "García",
    "Rossi",
    "Novak",
    "Kowalski",
    "Haddad",
    "Nguyen",
    "Silva",
    "Johansson",
    "O'Brien",
    "Fernández",
    "Petrov",
    "Van",
    "der",
    "Berg",
    "Schmidt-Hoffmann",
    "Lindqvist",
    "Adeyemi",
    "Tanaka",
    "Moreau",
    "Costa",
    "Ivanova",
]
BROWSERS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_{minor}) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{major}.0.{build}.{patch} Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{major}.0.{build}.{patch} Safari/537.36 Edg/{major}.0.{build}.{patch}",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{major}.0) Gecko/20100101 Firefox/{major}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{minor} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{minor} Mobile/15E148 Safari/604.1",
]
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 9, 16, 20, 20, 19, 15, 18, 20, 19, 16, 11, 6, 4, 3, 2, 2, 1]


@dataclass
class Person:
    """One synthetic person, as the vendors know them; ``pk``: their stored person."""

    name: str
    email: str
    lightdash_uuid: str
    domo_id: str
    velt_id: str
    datafold_id: str
    vendors: tuple[str, ...]
    ips: tuple[str, ...]
    agents: tuple[str, ...]
    pk: int = 0


def make_people(rng: random.Random) -> list[Person]:
    people = []
    for i in range(PEOPLE):
        first = rng.choice(FIRST)
        last = rng.choice(LAST) if rng.random() < 0.2 else _surname(rng)
        name = f"{first} {last}"
        if i % 97 == 0:  # some long names, as directories hold them
            middle, other = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {middle} {last}-{other} (Contractor, EMEA Data Platform)"
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        email = f"{local}.{i}@example.com"
        vendors = tuple(
            vendor
            for vendor, chance in (
                ("lightdash", 0.5),
                ("datafold", 0.3),
                ("domo", 0.6),
                ("velt", 0.4),
            )
            if rng.random() < chance
        ) or ("domo",)
        ips = tuple(
            f"{rng.choice((10, 172, 192, 100, 203))}.{rng.randrange(256)}.{rng.randrange(256)}."
            f"{rng.randrange(1, 255)}"
            for _ in range(rng.randint(1, 4))
        )
        agents = tuple(
            rng.choice(BROWSERS).format(
                major=rng.randint(118, 131),
                minor=rng.randint(0, 7),
                build=rng.randint(5000, 6800),
                patch=rng.randint(1, 200),
            )
            for _ in range(rng.randint(1, 3))
        )
        people.append(
            Person(
                name=name,
                email=email,
                lightdash_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                domo_id=str(1_000_000 + rng.randrange(900_000_000)),
                velt_id=f"user_{rng.getrandbits(48):012x}",
                datafold_id=str(rng.randint(1000, 99999)),
                vendors=vendors,
                ips=ips,
                agents=agents,
            )
        )
    # The busiest account: a CI service user with its own email, in Datafold only.
    people[0] = Person(
        name="dbt Cloud CI",
        email="svc-dbt-ci@example.com",
        lightdash_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        domo_id="1",
        velt_id="svc-ci",
        datafold_id="7",
        vendors=("datafold",),
        ips=("34.120.18.7",),
        agents=("python-requests/2.32.3",),
    )
    # Two different people with the same name.
    people[5].name = people[6].name = "Maria Garcia"
    return people


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tor",
    "vas",
    "hel",
    "dun",
    "bri",
    "sa",
    "ko",
    "ne",
    "stro",
    "wi",
    "lan",
    "mar",
    "fe",
    "go",
    "pi",
    "ul",
]


def _surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def zipf_weights() -> list[float]:
    """Cumulative weights of a power law over the people, the first holding ``BUSIEST_SHARE``."""
    low, high = 0.3, 2.0
    for _ in range(50):  # bisect the exponent
        exponent = (low + high) / 2
        weights = [1 / (rank + 1) ** exponent for rank in range(PEOPLE)]
        if weights[0] / sum(weights) > BUSIEST_SHARE:
            high = exponent
        else:
            low = exponent
    return list(itertools.accumulate(weights))


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Record:
    """One event's columns and its vendor-shaped raw record."""

    def __init__(self, rng: random.Random, sources: dict[str, list[Source]]):
        self.rng = rng
        self.sources = sources
        self.vocab = {
            vendor: (
                [entry[:2] for entry in entries],
                list(itertools.accumulate(e[2] for e in entries)),
            )
            for vendor, entries in VOCABULARY.items()
        }

    def line(
        self, event_id: int, seed: int, person: Person, vendor: str, at: datetime, stamp: str
    ) -> str:
        rng = self.rng
        actions, weights = self.vocab[vendor]
        action, object_type = actions[bisect.bisect(weights, rng.random() * weights[-1])]
        if vendor == "lightdash":
            source = self.sources[vendor][0 if rng.random() < 0.7 else 1]
        else:
            source = self.sources[vendor][0]
        ip = rng.choice(person.ips)
        agent = rng.choice(person.agents)
        obj = int(rng.paretovariate(1.1)) % 50_000
        object_id = f"{obj:05d}"
        object_name = f"{object_type.title()} {obj}: weekly revenue by region and channel"
        ms = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        email = person.email
        if vendor == "lightdash":
            actor_id, email, object_id = (
                person.lightdash_uuid,
                "",
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
            context = CONTEXTS[event_id % len(CONTEXTS)]
            object_name = context
            first, _, last = person.name.partition(" ")
            summary = f"Downloaded query results as {FILE_TYPES[event_id % len(FILE_TYPES)]}"
            raw = (
                f'{{"downloadUuid": "{uuid.UUID(int=rng.getrandbits(128), version=4)}", '
                f'"queryUuid": "{object_id}", "userUuid": "{actor_id}", "firstName": "{first}", '
                f'"lastName": "{last}", "fileType": "{FILE_TYPES[event_id % len(FILE_TYPES)]}", '
                f'"downloadedAt": "{ms}", "context": "{context}", "originalQueryContext": '
                f'{{"chartUuid": "{uuid.UUID(int=rng.getrandbits(128), version=4)}", '
                f'"dashboardUuid": "{uuid.UUID(int=rng.getrandbits(128), version=4)}"}}}}'
            )
            ip = agent = ""
            record = {}
        elif vendor == "domo":
            actor_id, email = person.domo_id, ""
            summary = f"{action.title().replace('_', ' ')} {object_type.lower()} {object_name}"
            record = {
                "userName": person.name,
                "userId": int(person.domo_id),
                "userType": "USER",
                "actorName": person.name,
                "actorId": int(person.domo_id),
                "actorType": "USER",
                "objectName": object_name,
                "objectId": object_id,
                "objectType": object_type,
                "additionalComment": summary,
                "time": at.strftime("%Y-%m-%d %I:%M:%S %p"),
                "eventText": summary,
                "clientId": None,
                "authorizedBy": None,
                "browserDetails": agent,
                "ipAddress": ip,
                "actionType": action,
                "padding": "x" * rng.randint(0, 500),
            }
            raw = json.dumps(record)
        elif vendor == "datafold":
            actor_id = person.datafold_id
            summary = f"{person.email} {action.replace('_', ' ')} {object_type} {object_id}"
            record = {
                "event_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "timestamp": ms,
                "action": action,
                "status": "failure" if rng.random() < 0.01 else "success",
                "user_id": int(person.datafold_id),
                "user_email": person.email,
                "is_support_user": False,
                "client_ip": ip,
                "user_agent": agent,
                "object_type": object_type,
                "object_id": object_id,
                "url": f"https://app.datafold.com/{object_type}s/{object_id}",
                "request_type": "GET" if action.startswith("view") else "POST",
                "log_entry": summary + " " + "y" * rng.randint(50, 500),
            }
            raw = json.dumps(record)
            object_name = f"https://app.datafold.com/{object_type}s/{object_id}"
        else:
            actor_id = person.velt_id
            summary = f"{person.name} {action.replace('.', ' ').replace('_', ' ')} on {object_name}"
            record = {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "featureType": object_type,
                "actionType": action,
                "actionUser": {
                    "userId": person.velt_id,
                    "name": person.name,
                    "email": person.email,
                },
                "timestamp": int(at.timestamp() * 1000),
                "targetEntityId": object_id,
                "metadata": {"documentId": f"doc-{obj % 3000}", "organizationId": "org-bench"},
                "displayMessageTemplate": "{{actionUser.name}} " + action,
                "displayMessageTemplateData": {"actionUser": {"name": person.name}},
                "entityData": {"text": "z" * rng.randint(50, 600)},
            }
            raw = json.dumps(record)
        external_id = f"bench-{seed}-{event_id}"
        category, outcome = CONNECTORS[vendor].classify(action, record)
        return (
            f"{event_id}\t{source.pk}\t{external_id}\t{at.isoformat()}\t{actor_id}\t"
            f"{_copy_text(person.name)}\t{email}\t{action}\t{object_type}\t{object_id}\t"
            f"{_copy_text(object_name)}\t{_copy_text(summary)}\t{ip}\t{agent}\t{_copy_text(raw)}\t{stamp}\t{category}\t{outcome}\t{person.pk}\n"
        )


def sources() -> dict[str, list[Source]]:
    result: dict[str, list[Source]] = {}
    for name, vendor, _ in SOURCES:
        source, _ = Source.objects.get_or_create(
            name=name, defaults={"vendor": vendor, "base_url": "https://bench.invalid"}
        )
        result.setdefault(vendor, []).append(source)
    return result


def day_counts(rng: random.Random, total: int, days: list[datetime]) -> list[int]:
    """Events per day: weekdays busy, weekends quiet, a slow growth over the year."""
    weights = [
        (0.15 if day.weekday() >= 5 else 1.0)
        * (0.8 + 0.4 * n / len(days))
        * rng.uniform(0.85, 1.15)
        for n, day in enumerate(days)
    ]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    counts[-1] += total - sum(counts)
    return counts


def fill(total: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    days = [today - timedelta(days=n) for n in range(365, -1, -1)]
    all_sources = sources()
    vendor_share = {
        vendor: sum(s for _, v, s in SOURCES if v == vendor) for _, vendor, _ in SOURCES
    }
    people = make_people(rng)
    store_persons(people, all_sources)
    person_vendors = [
        (p.vendors, list(itertools.accumulate(vendor_share[v] for v in p.vendors))) for p in people
    ]
    cumulative = zipf_weights()
    hours = list(itertools.accumulate(HOUR_WEIGHTS))
    record = Record(rng, all_sources)
    columns = ", ".join(EVENT_COLUMNS)
    stamp = now.isoformat()
    started = time.monotonic()
    written = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM activity_activityevent")
        first_id = cursor.fetchone()[0] + 1
        # Building the indexes once after the load is several times faster than keeping
        # them up to date row by row.
        saved = _drop_event_indexes(cursor)
        with cursor.cursor.copy(f"COPY activity_activityevent (id, {columns}) FROM STDIN") as copy:
            for day, count in zip(days, day_counts(rng, total, days), strict=True):
                is_today = day == today
                seconds = []
                for _ in range(count):
                    hour = bisect.bisect(hours, rng.random() * hours[-1])
                    seconds.append(hour * 3600 + rng.random() * 3600)
                seconds.sort()
                if is_today:  # today's events up to now only
                    limit = (now - today).total_seconds()
                    seconds = [s * limit / 86400 for s in seconds]
                who = rng.choices(range(PEOPLE), cum_weights=cumulative, k=count)
                lines = []
                for offset, index in zip(seconds, who, strict=True):
                    person = people[index]
                    vendors, weights = person_vendors[index]
                    vendor = vendors[bisect.bisect(weights, rng.random() * weights[-1])]
                    at = day + timedelta(seconds=offset)
                    lines.append(record.line(first_id + written, seed, person, vendor, at, stamp))
                    written += 1
                copy.write("".join(lines))
                if day.day == 1:
                    print(
                        f"  {written:,} events, {written / (time.monotonic() - started):,.0f}/s",
                        flush=True,
                    )
        print(f"  copied in {time.monotonic() - started:.0f}s; rebuilding indexes", flush=True)
        _restore_event_indexes(cursor, saved)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('activity_activityevent', 'id'), "
            "(SELECT max(id) FROM activity_activityevent))"
        )
        _identities_seen(cursor, first_id)
        lightdash_ids = [s.pk for s in all_sources["lightdash"]]
        types = "ARRAY[" + ", ".join(f"'{t}'" for t in FILE_TYPES) + "]"
        cursor.execute(
            "INSERT INTO activity_download (event_id, source_id, downloaded_at, user_uuid, "
            "user_name, file_type, query_uuid, query_context) "
            f"SELECT id, source_id, occurred_at, actor_id, actor_name, "
            f"({types})[1 + id %% {len(FILE_TYPES)}], object_id, object_name "
            "FROM activity_activityevent WHERE source_id = ANY(%s) AND id >= %s "
            "ON CONFLICT DO NOTHING",
            [lightdash_ids, first_id],
        )
    for source in all_sources["lightdash"]:
        UserActivitySnapshot.objects.bulk_create(
            UserActivitySnapshot(
                source=source,
                taken_at=now - timedelta(days=day),
                number_users=400 + day % 30,
                number_viewers=250,
                number_interactive_viewers=80,
                number_editors=50,
                number_admins=20,
                weekly_querying_users_percent=40 + day % 20,
                raw=json.dumps(snapshot_document(rng, now - timedelta(days=day))),
            )
            for day in range(365)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {total:,} events in {time.monotonic() - started:.0f}s")


def store_persons(people: list[Person], all_sources: dict[str, list[Source]]) -> None:
    """Each synthetic person as linking leaves them once every directory has been read: one
    person, and an identity per source they use (Lightdash and Domo linked by directory)."""
    known = dict(
        models.Person.objects.filter(
            primary_email__in=[p.email for p in people], merged_into__isnull=True
        ).values_list("primary_email", "pk")
    )
    missing = [p for p in people if p.email not in known]
    created = models.Person.objects.bulk_create(
        models.Person(
            display_name=p.name,
            primary_email=p.email,
            status=models.Person.Status.ACTIVE,
            kind=models.Person.Kind.SERVICE if p.email.startswith("svc-") else "human",
        )
        for p in missing
    )
    known.update((person.primary_email, person.pk) for person in created)
    identities = []
    for p in people:
        p.pk = known[p.email]
        for vendor in p.vendors:
            vendor_id = {
                "lightdash": p.lightdash_uuid,
                "domo": p.domo_id,
                "datafold": p.datafold_id,
                "velt": p.velt_id,
            }[vendor]
            rule = "directory" if vendor in ("lightdash", "domo") else "email"
            identities += [
                models.Identity(
                    source=source,
                    key=f"id:{vendor_id}",
                    vendor_user_id=vendor_id,
                    email=p.email,
                    name=p.name,
                    status=models.Person.Status.ACTIVE,
                    kind=models.Person.Kind.SERVICE if p.email.startswith("svc-") else "human",
                    person_id=p.pk,
                    rule=rule,
                )
                for source in all_sources[vendor]
            ]
    models.Identity.objects.bulk_create(identities, ignore_conflicts=True, batch_size=5000)


def _identities_seen(cursor, first_id: int) -> None:
    """Identities' first and last seen, from the events just written."""
    cursor.execute(
        "UPDATE activity_identity i SET first_seen_at = LEAST(i.first_seen_at, seen.first), "
        "last_seen_at = GREATEST(i.last_seen_at, seen.last) FROM ("
        "SELECT source_id, actor_id, min(occurred_at) AS first, max(occurred_at) AS last "
        "FROM activity_activityevent WHERE id >= %s GROUP BY 1, 2) AS seen "
        "WHERE i.source_id = seen.source_id AND i.key = 'id:' || seen.actor_id",
        [first_id],
    )
    cursor.execute("DELETE FROM activity_identity WHERE last_seen_at IS NULL")


def _drop_event_indexes(cursor) -> tuple[list[str], list[str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'activity_activityevent'::regclass AND contype = 'u'"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'activity_activityevent' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'activity_activityevent'::regclass)"
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE activity_activityevent DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return (
        [f'ALTER TABLE activity_activityevent ADD CONSTRAINT "{n}" {d}' for n, d in constraints],
        [d for _, d in indexes],
    )


def _restore_event_indexes(cursor, saved: tuple[list[str], list[str]]) -> None:
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for statement in saved[0] + saved[1]:
        began = time.monotonic()
        cursor.execute(statement)
        print(f"  {time.monotonic() - began:5.0f}s {statement[:90]}", flush=True)


def snapshot_document(rng: random.Random, taken: datetime) -> dict:
    days = [(taken - timedelta(days=d)).date().isoformat() for d in range(43)]
    return {
        "numberUsers": 420,
        "numberViewers": 250,
        "numberInteractiveViewers": 80,
        "numberEditors": 50,
        "numberAdmins": 20,
        "numberWeeklyQueryingUsers": 40,
        "tableMostQueries": [],
        "tableMostCreatedCharts": [],
        "tableNoQueries": [
            {"userUuid": f"u{i}", "firstName": "Idle", "lastName": str(i), "count": 91 + i}
            for i in range(10)
        ],
        "chartWeeklyQueryingUsers": [
            {
                "date": d,
                "num_7d_active_users": str(rng.randint(50, 200)),
                "percent_7d_active_users": str(rng.randint(10, 60)),
            }
            for d in days
        ],
        "chartWeeklyAverageQueries": [
            {"date": d, "average_number_of_weekly_queries_per_user": f"{rng.uniform(1, 9):.2f}"}
            for d in days
        ],
        "chartViews": [
            {"uuid": f"c{i}", "name": f"Chart {i}", "count": 500 - i} for i in range(20)
        ],
        "dashboardViews": [
            {"uuid": f"d{i}", "name": f"Dashboard {i}", "count": 300 - i} for i in range(20)
        ],
        "userMostViewedDashboards": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... (the benchmarks run on PostgreSQL)")
    call_command("migrate", verbosity=0)
    fill(args.events, args.seed)
    call_command("rebuild_rollups")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # the rollups' statistics, and index-only scans


if __name__ == "__main__":
    main()
