"""Statements that run once a page with the same text every time (the identity upsert, the
rollups): on PostgreSQL each is prepared once a connection, so it is parsed and planned once,
and its values are bound by the server (a page's column arrays travel as parameters instead
of as literal text that the server would parse again each time)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from django.db import connection


def fetch_repeated(statement: str, params: Sequence) -> list[tuple]:
    """Run ``statement`` (``%s`` placeholders) and return its rows."""
    return _run(statement, params, fetch=True)


def execute_repeated(statement: str, params: Sequence) -> None:
    """Run ``statement`` (``%s`` placeholders) for its effects."""
    _run(statement, params, fetch=False)


def _run(statement: str, params: Sequence, *, fetch: bool) -> list[tuple]:
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(statement, params)
            return cursor.fetchall() if fetch else []
        # Django's cursors bind values on the client, which rules out prepared statements.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as server:
            server.execute(statement, params, prepare=True)
            return server.fetchall() if fetch else []
