"""Transactions done again when they lost a race with another one.

Syncs of sources that share persons, and staff decisions over those persons, lock rows of
the same tables in orders that cannot always agree (a page knows its persons only after
linking its identities; a merge knows its identities only after locking its persons). When
PostgreSQL breaks such a deadlock, or work finds once its rows are locked that another
transaction changed what it had read (``Conflict``), the failure says nothing about the work,
only about its timing: it is rolled back whole (to its savepoint, inside another
transaction) and done again."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)
ATTEMPTS = 3
# deadlock detected, serialization failure
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


class Conflict(Exception):
    """What the work read was changed by another transaction before the work could lock it."""


def transient(error: BaseException) -> bool:
    """Whether ``error`` is a lost race (a deadlock, a conflict): doing it again may pass."""
    if isinstance(error, OperationalError):
        return getattr(error.__cause__, "sqlstate", None) in _TRANSIENT_SQLSTATES
    return isinstance(error, Conflict)


def atomically[R](work: Callable[[], R], *, undone: Callable[[], None] | None = None) -> R:
    """``work()`` in a transaction (a savepoint inside another), done again (``ATTEMPTS`` in
    all) when it loses a race; ``undone()`` is told each time it was rolled back for that."""
    for _ in range(ATTEMPTS - 1):
        try:
            with transaction.atomic():
                return work()
        except (OperationalError, Conflict) as error:
            if not transient(error):
                raise
            name = getattr(getattr(work, "func", work), "__name__", "work")  # a partial's
            logger.warning("%s: %s; doing it again", name, error)
            if undone is not None:
                undone()
    with transaction.atomic():
        return work()


def atomic_retried[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``function`` to run ``atomically``."""

    @functools.wraps(function)
    def attempt(*args: P.args, **kwargs: P.kwargs) -> R:
        return atomically(functools.partial(function, *args, **kwargs))

    return attempt
