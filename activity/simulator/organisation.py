"""The one organisation behind all four vendors' data: who is who, under which vendor ids.

Every record names one of 60 activity *slots* per vendor (``slot = pick % 60``); the slot
says which account acted. Most slots are the same person in every vendor, under each
vendor's own id; the rest are the awkward cases an identity resolver must get right:

- slots 0-29: people in all four vendors (``radia.thompson@example.com`` among them);
  Ken Hopper is deactivated in Lightdash's directory but active everywhere else, and
  Domo's directory writes Radia Thompson's address in mixed case;
- slots 30-55 and 59: people in one vendor only (a different person in each vendor);
- slot 56: a second Grace Thompson, another person with the same name as slot 1, in
  Lightdash and Domo (elsewhere the slot is a one-vendor person);
- slot 57: a service account in Lightdash (its downloads carry the creating admin's
  ``userUuid`` under the first name "service account"), Domo (a user made for a CI job) and
  Datafold (a synthetic address); in Velt a one-vendor person;
- slot 58: Datafold's support staff (``is_support_user``) in Datafold; elsewhere a one-vendor
  person;
- Lightdash downloads with a null ``userUuid`` are embed viewers, and Datafold logs with a
  null ``user_id`` anonymous: nobody's.

Lightdash and Domo serve a directory of their accounts (Domo's CI user included, Lightdash's
service account not: Lightdash hides it), Lightdash's with two invitees who never signed
up; Datafold and Velt serve none, their records carry the addresses. ``actor_of(vendor,
record)`` is the ground truth for one record: the principal who acted, or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from activity.simulator.data import person, stable_uuid

SLOTS = 60
SHARED = range(30)
ONLY_ONE = (*range(30, 56), 59)
TWIN_SLOT, SERVICE_SLOT, SUPPORT_SLOT = 56, 57, 58
ADMIN = 0  # Lightdash's admin, who created its service account
DEACTIVATED_IN_LIGHTDASH = 7  # Ken Hopper
MIXED_CASE_IN_DOMO = 25  # Radia Thompson
VENDORS = ("lightdash", "datafold", "domo", "velt")
DIRECTORIES = ("lightdash", "domo")  # the others' records carry the addresses
# Where a one-vendor person's index starts, per vendor (shared people keep their slot).
ONLY_BASE = {"lightdash": 100, "datafold": 200, "domo": 300, "velt": 400}
LIGHTDASH_SERVICE_FIRST_NAME = "service account"


@dataclass(frozen=True)
class Account:
    """One principal's account in one vendor, as the vendor's records and directory show it."""

    vendor: str
    user_id: str  # the vendor's own id, as a string
    first: str
    last: str
    email: str | None  # as the vendor writes it (case included)
    active: bool = True
    pending: bool = False  # Lightdash: invited, never signed up
    role: str = ""

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first, self.last) if part)


@dataclass(frozen=True)
class Principal:
    """Someone or something that acts: a person, a service account or vendor support staff."""

    key: str  # stable and unique: a person's address, else "<kind>:<vendor>"
    kind: str  # "person", "service" or "support"
    name: str
    emails: frozenset[str]  # lower-cased
    accounts: tuple[Account, ...] = field(default=())

    @property
    def vendor_ids(self) -> frozenset[tuple[str, str]]:
        return frozenset((account.vendor, account.user_id) for account in self.accounts)


class Organisation:
    """The simulated organisation for one seed (Lightdash ids depend on the seed)."""

    def __init__(self, seed: int):
        self.seed = seed
        self._slots: dict[str, list[tuple[Principal, Account]]] = {}
        self._members: dict[str, list[Account]] = {vendor: [] for vendor in VENDORS}
        self._by_id: dict[tuple[str, str], Principal] = {}
        self.principals: list[Principal] = []
        self._build()

    # -- what the simulator serves -----------------------------------------------------------
    def slot(self, vendor: str, slot: int) -> tuple[Principal, Account]:
        """Who acts in the vendor's records of ``slot`` (any number, taken modulo 60)."""
        return self._slots[vendor][slot % SLOTS]

    def account(self, vendor: str, slot: int) -> Account:
        return self.slot(vendor, slot)[1]

    def directory(self, vendor: str) -> list[Account]:
        """The members the vendor's directory lists, in its order (none for Datafold and
        Velt, which the simulator serves no directory for)."""
        return list(self._members[vendor])

    # -- ground truth --------------------------------------------------------------------------
    def principal(self, vendor: str, user_id: object) -> Principal | None:
        """Who holds the vendor id (for Lightdash, the admin for the service account's uuid)."""
        return self._by_id.get((vendor, str(user_id))) if user_id is not None else None

    def actor_of(self, vendor: str, record: dict) -> Principal | None:
        """The principal behind one (non-hostile) record, or ``None`` for nobody's (an embed
        viewer, a Datafold log without a user)."""
        if vendor == "lightdash":
            if record.get("userFirstName") == LIGHTDASH_SERVICE_FIRST_NAME:
                return self._slots["lightdash"][SERVICE_SLOT][0]
            return self.principal(vendor, record.get("userUuid"))
        if vendor == "datafold":
            return self.principal(vendor, record.get("user_id"))
        if vendor == "domo":
            return self.principal(vendor, record.get("userId"))
        user = record.get("actionUser") or {}
        return self.principal(vendor, user.get("userId"))

    def people(self) -> list[Principal]:
        return [principal for principal in self.principals if principal.kind == "person"]

    # -- building --------------------------------------------------------------------------------
    def _build(self) -> None:
        slots: dict[str, list] = {vendor: [None] * SLOTS for vendor in VENDORS}
        for index in SHARED:
            first, last, email = person(index)
            accounts = {
                vendor: self._account(vendor, index, first, last, email) for vendor in VENDORS
            }
            self._add("person", f"{first} {last}", {email}, accounts, slots, index)
        for vendor in VENDORS:
            for slot in range(30, SLOTS):
                if (vendor, slot) in _SPECIAL:
                    continue
                index = ONLY_BASE[vendor] + slot
                first, last, email = person(index)
                account = self._account(vendor, index, first, last, email)
                self._add("person", f"{first} {last}", {email}, {vendor: account}, slots, slot)
        self._add_twin(slots)
        self._add_service_accounts(slots)
        support = Account("datafold", "9001", "Datafold", "Support", "support@datafold.com")
        self._add(
            "support",
            "Datafold Support",
            {support.email},
            {"datafold": support},
            slots,
            SUPPORT_SLOT,
        )
        self._slots = slots
        for vendor in DIRECTORIES:
            members = {}
            for principal, account in slots[vendor]:
                if principal.kind != "service" or vendor != "lightdash":  # Lightdash hides them
                    members.setdefault(account.user_id, account)
            self._members[vendor] = list(members.values())
        for number in range(2):  # invited, never signed up: no activity yet
            first, last, email = person(500 + number)
            invitee = Account(
                "lightdash",
                stable_uuid(self.seed, "user", 500 + number),
                first,
                last,
                email,
                pending=True,
                role="viewer",
            )
            self._add("person", f"{first} {last}", {email}, {"lightdash": invitee})
            self._members["lightdash"].append(invitee)

    def _account(self, vendor: str, index: int, first: str, last: str, email: str) -> Account:
        if vendor == "lightdash":
            return Account(
                vendor,
                stable_uuid(self.seed, "user", index),
                first,
                last,
                email,
                active=index != DEACTIVATED_IN_LIGHTDASH,
                role="admin" if index == ADMIN else ("editor" if index % 3 else "viewer"),
            )
        if vendor == "domo":
            shown = email.title() if index == MIXED_CASE_IN_DOMO else email
            role = "Admin" if index == ADMIN else "Participant"
            return Account(vendor, str(1_600_000_000 + index), first, last, shown, role=role)
        if vendor == "datafold":
            return Account(vendor, str(1000 + index), first, last, email)
        return Account(vendor, f"user-{index}", first, last, email)

    def _add(
        self,
        kind: str,
        name: str,
        emails: set,
        accounts: dict[str, Account],
        slots: dict | None = None,
        slot: int | None = None,
    ) -> Principal:
        lowered = frozenset(e.lower() for e in emails if e)
        key = min(lowered) if kind == "person" else f"{kind}:{'+'.join(sorted(accounts))}"
        principal = Principal(key, kind, name, lowered, tuple(accounts.values()))
        self.principals.append(principal)
        for vendor, account in accounts.items():
            self._by_id.setdefault((vendor, account.user_id), principal)
            if slots is not None and slot is not None:
                slots[vendor][slot] = (principal, account)
        return principal

    def _add_twin(self, slots: dict) -> None:
        first, last, _ = person(1)  # Grace Thompson, slot 1's namesake
        email = f"{first}.{last}@partner.example.org".lower()
        accounts = {
            "lightdash": Account(
                "lightdash",
                stable_uuid(self.seed, "user", "twin"),
                first,
                last,
                email,
                role="viewer",
            ),
            "domo": Account("domo", "1600000956", first, last, email, role="Participant"),
        }
        self._add("person", f"{first} {last}", {email}, accounts, slots, TWIN_SLOT)

    def _add_service_accounts(self, slots: dict) -> None:
        # Lightdash runs a service account's requests as the admin who made it: the rows
        # carry the admin's uuid, so the principal is known by the first name alone.
        admin = slots["lightdash"][ADMIN][1]
        lightdash = Account("lightdash", admin.user_id, LIGHTDASH_SERVICE_FIRST_NAME, "", None)
        principal = Principal("service:lightdash", "service", "service account", frozenset())
        self.principals.append(principal)
        slots["lightdash"][SERVICE_SLOT] = (principal, lightdash)
        domo = Account(
            "domo", "1600000957", "CI", "Pipeline", "ci-pipeline@example.com", role="Privileged"
        )
        self._add("service", "CI Pipeline", {domo.email}, {"domo": domo}, slots, SERVICE_SLOT)
        datafold = Account(
            "datafold", "1257", "CI", "export", "sa-ci-export-1257@service-accounts.datafold.com"
        )
        self._add(
            "service", "CI export", {datafold.email}, {"datafold": datafold}, slots, SERVICE_SLOT
        )


# The slots whose account is not a one-vendor person.
_SPECIAL = {
    ("lightdash", TWIN_SLOT),
    ("domo", TWIN_SLOT),
    ("lightdash", SERVICE_SLOT),
    ("domo", SERVICE_SLOT),
    ("datafold", SERVICE_SLOT),
    ("datafold", SUPPORT_SLOT),
}


@cache
def organisation(seed: int) -> Organisation:
    """The organisation a simulator with this seed serves."""
    return Organisation(seed)
