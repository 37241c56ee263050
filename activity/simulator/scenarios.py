"""Known suspicious patterns, planted on top of the simulator's normal traffic, with the
ground truth a detection must match: which rule, and which records its alert holds.

``plant_history`` adds what happened in the past (a bulk export, a vendor support session, a
password-spraying burst, a 3 a.m. session by a contractor whose weeks are office hours);
``plant_after_deactivation`` adds, once a sync has read Lightdash's directory, Ken Hopper's
Velt comments after Lightdash listed him deactivated (events before that are normal). The
contractor, ``user-600`` in Velt, is in no directory: the scenario, not the organisation,
defines them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from activity.simulator.data import person
from activity.simulator.organisation import DEACTIVATED_IN_LIGHTDASH, SUPPORT_SLOT

BULK_EXPORTER_SLOT = 3
SPRAYING_IP = "203.0.113.66"
CONTRACTOR = 600


@dataclass(frozen=True)
class Planted:
    rule: str
    vendor: str
    keys: tuple[int, ...]  # the records the alert must hold
    what: str


def plant_history(sim) -> list[Planted]:
    """The past patterns, all within the simulator's history (2 to 4 days before its now)."""
    org = sim.organisation
    hour = sim.now.replace(minute=0, second=0, microsecond=0)
    planted = []

    exporter = org.account("lightdash", BULK_EXPORTER_SLOT)
    start = hour - timedelta(days=2) + timedelta(minutes=5)
    downloads = [
        (
            start + timedelta(minutes=number),
            {
                "userUuid": exporter.user_id,
                "userFirstName": exporter.first,
                "userLastName": exporter.last,
                "fileType": "csv",
            },
        )
        for number in range(40)
    ]
    keys = sim.plant("lightdash", downloads)
    planted.append(Planted("bulk_export", "lightdash", tuple(keys), "40 CSV downloads in an hour"))

    support = org.account("datafold", SUPPORT_SLOT)
    start = hour - timedelta(days=3) + timedelta(minutes=10)
    session = [
        (start + timedelta(minutes=4 * number), _datafold(support, "view_diff", "success"))
        for number in range(8)
    ]
    keys = sim.plant("datafold", session)
    planted.append(Planted("vendor_support_access", "datafold", tuple(keys), "a support session"))

    start = hour - timedelta(days=4) + timedelta(minutes=20)
    attempts = [
        (
            start + timedelta(seconds=15 * number),
            _datafold(org.account("datafold", number), "login", "failure", ip=SPRAYING_IP),
        )
        for number in range(20)
    ]
    keys = sim.plant("datafold", attempts)
    planted.append(
        Planted("failed_signin_burst", "datafold", tuple(keys), "password spraying, 20 accounts")
    )

    night = _weekday(sim.now - timedelta(days=2)).replace(hour=3, minute=0, second=0)
    first, last, email = person(CONTRACTOR)
    user = {"userId": f"user-{CONTRACTOR}", "email": email, "name": f"{first} {last}"}
    usual = [
        (moment, _velt(user))
        for days in range(1, 29)
        if (day := night - timedelta(days=days)).isoweekday() < 6
        for moment in (
            day.replace(hour=h, minute=m) for h, m in ((9, 10), (11, 0), (14, 30), (16, 5))
        )
    ]
    sim.plant("velt", usual)
    keys = sim.plant(
        "velt", [(night + timedelta(minutes=5 * number), _velt(user)) for number in range(6)]
    )
    planted.append(Planted("unusual_hours", "velt", tuple(keys), "a 3 a.m. session"))
    return planted


def plant_after_deactivation(sim, *, at: datetime) -> Planted:
    """Ken Hopper's Velt comments from ``at``, after Lightdash's directory listed him
    deactivated."""
    account = sim.organisation.account("velt", DEACTIVATED_IN_LIGHTDASH)
    user = {"userId": account.user_id, "email": account.email, "name": account.name}
    keys = sim.plant("velt", [(at + timedelta(minutes=number), _velt(user)) for number in range(3)])
    return Planted("active_after_deactivation", "velt", tuple(keys), "comments after offboarding")


def _datafold(account, action: str, status: str, *, ip: str = "198.51.100.7") -> dict:
    return {
        "action": action,
        "object_type": action.split("_")[-1],
        "user_id": int(account.user_id),
        "user_email": account.email,
        "status": status,
        "client_ip": ip,
        "is_support_user": account.email == "support@datafold.com",
        "log_entry": f"{account.name}: {action.replace('_', ' ')}",
    }


def _velt(user: dict) -> dict:
    return {
        "featureType": "comment",
        "actionType": "comment.add",
        "actionUser": user,
        "displayMessageTemplateData": {"user": user},
    }


def _weekday(moment: datetime) -> datetime:
    while moment.isoweekday() > 5:
        moment -= timedelta(days=1)
    return moment
