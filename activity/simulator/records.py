"""What each vendor's records look like, built from a feed key (deterministic)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from activity.simulator.data import (
    AGENTS,
    DATAFOLD_ACTIONS,
    DOMO_ACTIONS,
    LIGHTDASH_CONTEXTS,
    LIGHTDASH_FILE_TYPES,
    VELT_ACTIONS,
    Feed,
    digest,
    iso_micro,
    stable_uuid,
)
from activity.simulator.organisation import organisation

ORGANIZATION_ID = "org-simulated"
DOCUMENTS = ["doc-roadmap", "doc-pricing", "doc-onboarding"]


def build(feed: Feed, key: int, velt_api_key: str = "") -> dict:
    time_us = feed.time_of_key(key)
    # Extras take their randomness from a number no generated record uses.
    ident = key if key >= 0 else 10**12 - key
    if feed.vendor == "domo" and key >= 0 and key % 50 == 1:
        ident = key - 1  # an identical twin: same user, second, action and object
    pick = digest(feed.seed, feed.vendor, ident)
    return BUILDERS[feed.vendor](feed, ident, time_us, pick, velt_api_key)


def lightdash(feed: Feed, ident: int, time_us: int, pick: int, _key: str) -> dict:
    user = organisation(feed.seed).account("lightdash", pick)
    embed = pick % 17 == 0  # an embedded dashboard's viewer: no user
    return {
        "downloadUuid": stable_uuid(feed.seed, "download", ident),
        "queryUuid": stable_uuid(feed.seed, "query", pick % 400),
        "userUuid": None if embed else user.user_id,
        "userFirstName": None if embed else user.first,
        "userLastName": None if embed else user.last,
        "fileType": LIGHTDASH_FILE_TYPES[pick % len(LIGHTDASH_FILE_TYPES)],
        "downloadedAt": iso_micro(time_us),
        "originalQueryContext": LIGHTDASH_CONTEXTS[(pick >> 8) % len(LIGHTDASH_CONTEXTS)],
    }


def datafold(feed: Feed, ident: int, time_us: int, pick: int, _key: str) -> dict:
    principal, user = organisation(feed.seed).slot("datafold", pick)
    stamp = iso_micro(time_us)
    # The documents leave the format unstated: serve several.
    formats = [stamp, stamp[:19] + "Z", stamp[:10] + " " + stamp[11:26], stamp[:26] + "+00:00"]
    action = DATAFOLD_ACTIONS[pick % len(DATAFOLD_ACTIONS)]
    sparse = pick % 11 == 0
    return {
        "timestamp": formats[ident % len(formats)],
        "event_uuid": stable_uuid(feed.seed, "datafold", ident),
        "client_ip": f"198.51.100.{pick % 250}",
        "url": f"/api/v1/{action.split('_')[-1]}s",
        "action": None if sparse else action,
        "object_type": None if sparse else action.split("_")[-1],
        "object_id": None if sparse else pick % 5000,
        "user_id": None if sparse else int(user.user_id),
        "user_email": None if sparse else user.email,
        "source": "web" if pick % 3 else "api",
        "status": "success" if pick % 13 else "failure",
        "request_type": "POST" if pick % 2 else "GET",
        "referer": None if sparse else "https://app.datafold.com/",
        "user_agent": None if sparse else AGENTS[pick % len(AGENTS)],
        "log_entry": None if sparse else f"{user.name}: {action.replace('_', ' ')}",
        "payload": None if sparse else {"id": pick % 5000, "nested": {"ok": bool(pick % 2)}},
        "is_support_user": None if sparse else principal.kind == "support",
    }


def domo(feed: Feed, ident: int, time_us: int, pick: int, _key: str) -> dict:
    user = organisation(feed.seed).account("domo", pick)
    action, object_type, text = DOMO_ACTIONS[pick % len(DOMO_ACTIONS)]
    name = f"{object_type.title()} {pick % 300}"
    return {
        "userName": user.name,
        "userId": user.user_id,
        "userType": "USER",
        "actorId": 0,
        "actorName": "",
        "objectName": name,
        "objectId": str(600_000_000 + pick % 300),
        "objectType": object_type,
        "additionalComment": f"{user.name} {text.lower()} {name}.",
        "time": _domo_time(time_us // 1_000_000, ident),
        "eventText": text,
        "device": "desktop" if pick % 4 else "mobile",
        "browserDetails": AGENTS[pick % len(AGENTS)],
        "ipAddress": f"50.207.241.{pick % 250}",
        "actionType": action,
    }


def _domo_time(seconds: int, ident: int) -> int | str:
    """Epoch ms mostly; the documents' zone-less AM/PM form, numeric strings and ISO too."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    forms = (
        seconds * 1000,
        seconds * 1000,
        str(seconds * 1000),
        moment.strftime("%Y-%m-%d %I:%M:%S %p"),
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return forms[ident % len(forms)]


def velt(feed: Feed, ident: int, time_us: int, pick: int, api_key: str) -> dict:
    account = organisation(feed.seed).account("velt", pick)
    feature, action = VELT_ACTIONS[pick % len(VELT_ACTIONS)]
    user = {"userId": account.user_id, "email": account.email, "name": account.name}
    if pick % 23 == 0:
        user = {"userId": account.user_id}  # no email, no name
    return {
        "id": f"activity-{stable_uuid(feed.seed, 'velt', ident)}",
        "featureType": feature,
        "actionType": action,
        "actionUser": user,
        "targetEntityId": f"annotation-{pick % 900}",
        "displayMessageTemplate": "{{user}} did " + action + " on {{target}}",
        "displayMessageTemplateData": {"user": user},
        "metadata": {
            "apiKey": api_key,
            "documentId": DOCUMENTS[pick % len(DOCUMENTS)],
            "organizationId": ORGANIZATION_ID,
        },
        "timestamp": time_us // 1000,
    }


def with_zone_less_times_in(record: dict, zone: str) -> dict:
    """A Domo record whose zone-less AM/PM time is written in ``zone``, not UTC."""
    time = record.get("time")
    if not isinstance(time, str) or not time.endswith(("AM", "PM")):
        return record
    moment = datetime.strptime(time, "%Y-%m-%d %I:%M:%S %p").replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %I:%M:%S %p")
    return {**record, "time": local}


def with_odd_timestamp(record: dict, key: int) -> dict:
    """Every tenth Datafold log with a time a lenient parser misreads: a zone name it does
    not know, or an AM/PM marker in a format that has no place for one."""
    if key % 10:
        return record
    moment = datetime.fromisoformat(record["timestamp"].replace(" ", "T"))
    odd = (
        moment.strftime("%a, %d %b %Y %H:%M:%S CEST")
        if key % 20
        else moment.strftime("%d %b %Y %I:%M:%S %p")
    )
    return {**record, "timestamp": odd}


def with_sdk_templates(record: dict) -> dict:
    """A Velt record as its SDK writes them: the customer's own document id beside Velt's,
    and a template that reads the record's own fields."""
    metadata = record["metadata"]
    return {
        **record,
        "metadata": {**metadata, "clientDocumentId": f"client-{metadata['documentId']}"},
        "displayMessageTemplate": "{{actionUser.name}} did {{actionType}} in {{documentName}}",
        "displayMessageTemplateData": {},
    }


BUILDERS = {"lightdash": lightdash, "datafold": datafold, "domo": domo, "velt": velt}
