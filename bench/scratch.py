"""A scratch database for benchmarks: created beside the configured one, migrated, optionally loaded with
the demo city, and dropped afterwards, so a benchmark never touches the database people work in.

    with scratch_database("gridgis_bench_x", demo_city=True) as name:
        ...  # Django's connection now points at `name`
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import sql


def conninfo(dbname: str) -> str:
    """A libpq connection string for `dbname` on the configured server."""
    db = settings.DATABASES["default"]
    parts = {"dbname": dbname, "host": db.get("HOST") or "", "port": str(db.get("PORT") or ""),
             "user": db.get("USER") or "", "password": db.get("PASSWORD") or ""}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


def database_url(dbname: str) -> str:
    """The same database as a DATABASE_URL, for servers started in a subprocess."""
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgis://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{dbname}"


def use_database(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = name


def _drop(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def load_demo_city() -> None:
    from geodata.democity import write_demo_city

    with tempfile.TemporaryDirectory(prefix="gridgis-bench-") as tmp:
        write_demo_city(Path(tmp) / "city")
        call_command("import_territory", str(Path(tmp) / "city"), verbosity=0)


@contextlib.contextmanager
def scratch_database(name: str, *, demo_city: bool = False, keep: bool = False) -> Iterator[str]:
    main = connection.settings_dict["NAME"]
    with psycopg.connect(conninfo(main), autocommit=True) as admin:
        _drop(admin, name)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(conninfo(name), autocommit=True) as scratch:
        scratch.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        scratch.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    use_database(name)
    try:
        call_command("migrate", verbosity=0)
        if demo_city:
            load_demo_city()
        yield name
    finally:
        use_database(main)
        if not keep:
            with psycopg.connect(conninfo(main), autocommit=True) as admin:
                _drop(admin, name)
