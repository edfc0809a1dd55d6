"""Loading many rows into a table with many indexes: drop its secondary indexes and foreign keys, load,
rebuild them — inside the loading transaction, so a failure anywhere restores the table as it was.

Why: the cases table has ~30 indexes and ~10 foreign keys. Row by row, every inserted case updates every
index and queues a foreign-key check per key (each a small query and a row lock, run at commit): loading a
million cases that way takes minutes. Built afterwards, each index is one sort of the table and each
foreign key one join. The price: ALTER TABLE locks the table until the commit, so nothing else reads or
writes it meanwhile; hence only for loads that are big, and big beside what the table holds.

A partial index `WHERE x IS NOT NULL` on a column the load leaves NULL stays: no loaded row enters it, so
keeping it costs a predicate test per row, while rebuilding it would cost a scan of the whole table.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection

from psycopg import sql

REBUILD_MIN_ROWS = 20_000  # below this, rows go in with the indexes in place: no table lock
REBUILD_SHARE = 0.1  # … nor when the table holds more than 10× the new rows: rebuilding it would cost more

# Indexes not backing a constraint (with their predicate); unique constraints no foreign key relies on; the
# table's foreign keys.
_SECONDARY = """
SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), pg_get_expr(i.indpred, i.indrelid)
FROM pg_index i
WHERE i.indrelid = %(table)s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
UNION ALL
SELECT c.contype::text, c.conname, pg_get_constraintdef(c.oid), NULL FROM pg_constraint c
WHERE c.conrelid = %(table)s::regclass AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS (
  SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
"""

Saved = list[tuple[str, str, str]]  # (kind: "index", "u" or "f"; name; definition)
_NOT_NULL = re.compile(r"^\(?(\w+) IS NOT NULL\)?$")


def worth_rebuilding(cursor, table: str, new_rows: int) -> bool:
    if new_rows < REBUILD_MIN_ROWS:
        return False
    cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
    return new_rows >= REBUILD_SHARE * float(cursor.fetchone()[0])


def drop_secondary(cursor, table: str, loaded: Collection[str] | None = None) -> Saved:
    """Drops the table's secondary indexes, its unique constraints and its own foreign keys, and returns
    their definitions. The primary key stays: other tables reference it. `loaded`: the columns the load
    fills (None: any); partial indexes on NOT NULL of another column stay."""
    cursor.execute("SET LOCAL lock_timeout = '30s'")  # behind a long transaction: fail, don't hang
    # Foreign keys cannot be dropped while checks deferred earlier in the transaction wait (an enclosing
    # transaction that wrote grids, say): run those checks now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(_SECONDARY, {"table": table})
    saved = [(kind, name, definition) for kind, name, definition, predicate in cursor.fetchall()
             if not _left_empty(predicate, loaded)]
    for kind, name, _ in saved:
        if kind == "index":  # the name is regclass text: quoted (and qualified) as needed already
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
        else:
            cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table),
                                                                               sql.Identifier(name)))
    return saved


def _left_empty(predicate: str | None, loaded: Collection[str] | None) -> bool:
    """Whether no loaded row can enter an index with this predicate."""
    match = _NOT_NULL.match(predicate or "")
    return loaded is not None and match is not None and match.group(1) not in loaded


def restore_secondary(cursor, table: str, saved: Saved, timings: dict[str, float] | None = None) -> None:
    """Indexes first (each built by sorting what is there), then unique constraints, then foreign keys (each
    checked against the whole table in one join, not row by row). `timings` gets the seconds each took."""
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for kind, name, definition in sorted(saved, key=lambda s: ("index", "u", "f").index(s[0])):
        started = time.perf_counter()
        _restore(cursor, table, kind, name, definition)
        if timings is not None:
            timings[name] = time.perf_counter() - started
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's (its foreign keys are initially deferred)


def _restore(cursor, table: str, kind: str, name: str, definition: str) -> None:
    if kind == "index":
        cursor.execute(sql.SQL(definition))
    else:
        cursor.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))
