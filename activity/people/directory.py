"""A vendor directory's members applied to identities: the user id's email, name and active
or deactivated state, and the links that the email makes (rule 2 of ``linking``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from activity.models import Identity, Source
from activity.people.linking import identities_link, identities_relink, persons_refresh
from activity.people.seen import IdentitiesMoved
from activity.transactions import atomic_retried

Rule = Identity.Rule
# A directory is read with a sync at most this often: members change slowly, and a large
# organisation's listing is many requests.
DIRECTORY_INTERVAL = timedelta(hours=1)


def directory_due(source: Source, *, now: datetime) -> bool:
    return source.directory_read_at is None or now - source.directory_read_at >= DIRECTORY_INTERVAL


@atomic_retried
def directory_apply(source: Source, members: Iterable, *, now: datetime) -> int:
    """Record each member (``activity.connectors.directory.DirectoryMember``) on its identity
    in ``source``, link the new ones, and move to the person of their email the identities
    that had a person of their own only for want of one. Staff-pinned identities stay.
    Returns how many members were read."""
    members = {member.vendor_user_id: member for member in members if member.vendor_user_id}
    keys = {f"id:{vendor_id}": member for vendor_id, member in members.items()}
    known = {
        identity.key: identity
        for identity in Identity.objects.filter(source=source, key__in=list(keys))
    }
    touched: list[Identity] = []
    changed: set[str] = set()  # keys whose state or email the directory changes
    for key, member in sorted(keys.items()):
        identity = known.get(key) or Identity(
            source=source, key=key, vendor_user_id=member.vendor_user_id, rule=Rule.DIRECTORY
        )
        before = (identity.pk, identity.email, identity.status)
        identity.email = (member.email or "").strip().lower()[:254] or identity.email
        identity.name = (member.name or "")[:255] or identity.name
        identity.status = str(member.status)
        if (identity.pk, identity.email, identity.status) != before:
            changed.add(key)
        identity.directory_seen_at = now
        touched.append(identity)
    new = [identity for identity in touched if identity.pk is None]
    Identity.objects.bulk_create(new, batch_size=1000)
    Identity.objects.bulk_update(
        [identity for identity in touched if identity not in new],
        ["email", "name", "status", "directory_seen_at"],
        batch_size=1000,
    )
    unlinked = list(
        Identity.objects.filter(source=source, key__in=list(keys), person__isnull=True).values_list(
            "id", flat=True
        )
    )
    if unlinked:
        identities_link(unlinked, rule=Rule.DIRECTORY)
    identities_relink(
        Identity.objects.filter(source=source, key__in=sorted(changed)).values_list(
            "id", flat=True
        ),
        rule=Rule.DIRECTORY,
    )
    persons_refresh(
        Identity.objects.filter(source=source, key__in=sorted(changed)).values_list(
            "person_id", flat=True
        )
    )
    # Their persons are locked by now (refreshed): one merged away meanwhile is seen.
    changed_identities = Identity.objects.filter(source=source, key__in=sorted(changed))
    if changed_identities.filter(person__merged_into__isnull=False).exists():
        raise IdentitiesMoved
    return len(members)
