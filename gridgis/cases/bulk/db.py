"""Small database helpers of the bulk paths: staging tables filled by binary COPY, column types."""

from __future__ import annotations

import numpy as np
from psycopg import sql

from . import pgcopy


def stage(cursor, table: str, columns: dict[str, tuple[str, pgcopy.Column]], rows: int) -> None:
    """A temporary table (dropped at commit) of `columns` (name → (SQL type, values)), filled by COPY."""
    name = sql.Identifier(table)
    definition = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(kind))
                                    for c, (kind, _) in columns.items())
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
    cursor.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(name, definition))
    with cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(name)) as copy:
        for block in pgcopy.binary_blocks([column for _, column in columns.values()], rows=rows):
            copy.write(block)
    cursor.execute(sql.SQL("ANALYZE {}").format(name))


def column_types(cursor, table: str) -> dict[str, str]:
    """Column name → type name (udt_name: int8, int4, varchar, jsonb, geometry …)."""
    cursor.execute("SELECT column_name, udt_name FROM information_schema.columns "
                   "WHERE table_schema = current_schema() AND table_name = %s", [table])
    return dict(cursor.fetchall())


def key_column(kind: str, values: np.ndarray) -> tuple[str, pgcopy.Column]:
    """A foreign key column of type `kind` (int8 or int4); negative values are NULL."""
    values = np.asarray(values, dtype=np.int64)
    column = (pgcopy.Int8 if kind == "int8" else pgcopy.Int4)(values, values < 0)
    return kind, column
