"""At most one sync per source at a time, across processes and machines.

On PostgreSQL the lease is a session-level advisory lock: the database refuses a second
holder, and the lock disappears with the connection of a worker that dies, so a stale
lease is taken over safely. On SQLite (one machine) a conditional UPDATE takes the lease;
a holder whose process is gone, or whose heartbeat is older than ``STALE_AFTER``, has
abandoned it. The holder and its times
are written on the source so the dashboard can show them.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from activity.models import Source

LOCK_NAMESPACE = 0x5EED  # first key of pg_advisory_lock(int, int); the source id is the second
STALE_AFTER = timedelta(minutes=5)


def lease_holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_acquire(source: Source, holder: str) -> bool:
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, source.pk])
            if not cursor.fetchone()[0]:
                return False
        Source.objects.filter(pk=source.pk).update(
            lease_holder=holder, lease_acquired_at=now, lease_heartbeat_at=now
        )
        return True
    free = Q(lease_holder="") | Q(lease_heartbeat_at__lt=now - STALE_AFTER)
    current = Source.objects.values_list("lease_holder", flat=True).get(pk=source.pk)
    if current and _is_dead_local_process(current):
        free |= Q(lease_holder=current)
    taken = Source.objects.filter(free, pk=source.pk).update(
        lease_holder=holder, lease_acquired_at=now, lease_heartbeat_at=now
    )
    return taken == 1


def _is_dead_local_process(holder: str) -> bool:
    """A holder on this machine whose process is gone (e.g. killed): its lease is stale."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lease_heartbeat(source: Source, holder: str) -> None:
    Source.objects.filter(pk=source.pk, lease_holder=holder).update(
        lease_heartbeat_at=timezone.now()
    )


def lease_release(source: Source, holder: str) -> None:
    Source.objects.filter(pk=source.pk, lease_holder=holder).update(
        lease_holder="", lease_acquired_at=None, lease_heartbeat_at=None
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, source.pk])


def lease_is_live(source: Source) -> bool:
    """Whether the holder written on the source still holds the lease."""
    if not source.lease_holder:
        return False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = %s AND objid = %s AND objsubid = 2 AND granted)",
                [LOCK_NAMESPACE, source.pk],
            )
            return cursor.fetchone()[0]
    heartbeat = source.lease_heartbeat_at
    return heartbeat is not None and heartbeat >= timezone.now() - STALE_AFTER
