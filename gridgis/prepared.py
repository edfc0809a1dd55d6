"""Statements run for every request (routing, filing a case, the caller's roles, geocoding recall) as
server-side prepared statements of the connection: PostgreSQL plans each once per connection instead of on
every run (planning the route took 5× running it). Django's cursors bind parameters client-side and never
prepare; these take psycopg's own cursor on Django's connection, in its transaction."""

from __future__ import annotations

import psycopg
from django.db import connection


def fetchall_prepared(query: str, params: dict | tuple | list, *, binary: bool | None = None,
                      conn: psycopg.Connection | None = None) -> list[tuple]:
    """Every row. `binary`: parameters and rows in binary (cheaper for thousands of array elements). `conn`:
    Django's psycopg connection, taken by a caller on another thread (which has a Django connection of its own)."""
    if conn is None:
        connection.ensure_connection()
        conn = connection.connection
    with psycopg.Cursor(conn) as cursor:
        cursor.execute(query, params, prepare=True, binary=binary)
        return cursor.fetchall()


def fetchone_prepared(query: str, params: dict | tuple) -> tuple | None:
    """The first row, or None."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, params, prepare=True)
        return cursor.fetchone()
