"""Import of territory interchange files into PostGIS: one transaction, upsert by code.

geodata.prepare reads, checks, reprojects and repairs; this service writes. Each layer is COPYed (CSV,
hex EWKB geometries) into a temporary staging table, then merged with one
`INSERT … SELECT … ON CONFLICT (code) DO UPDATE … WHERE (changed)`, parents resolved by joining on
their codes. The WHERE clause makes a re-import of the same file a no-op that reports rows as
unchanged. A dry run does all of it and rolls back, so its counts are what a real run would do.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

from geodata.coverage import check_coverage
from geodata.prepare import Layer, Prepared, prepare
from geodata.report import Counts, ImportReport, Progress
from gridgis.territory.models import Building, Community, District, Grid, Street
from gridgis.territory.selectors import coverage_frames
from gridgis.workforce.models import Department, GridAssignment, GridWorker

COUNT_COLUMNS = {"households", "population"}


@dataclass(frozen=True)
class Target:
    """Where a layer goes: the table, its key, the columns copied as they are, and the parent link."""

    table: str
    key: str
    columns: tuple[str, ...]  # besides key; frame columns of the same name
    parent: tuple[str, str, str] | None = None  # (frame column with the parent's key, parent table, FK column)
    geometry: bool = True
    stamped: bool = True  # has updated_at (auto_now in the model: set here explicitly)


def _table(model) -> str:
    return model._meta.db_table


TARGETS = {
    "districts": Target(_table(District), "code", ("name",)),
    "streets": Target(_table(Street), "code", ("name",), ("district_code", _table(District), "district_id")),
    "communities": Target(_table(Community), "code", ("name",),
                          ("street_code", _table(Street), "street_id")),
    "grids": Target(_table(Grid), "code", ("name", "households", "population"),
                    ("community_code", _table(Community), "community_id")),
    "buildings": Target(_table(Building), "code",
                        ("name", "address", "road", "house_number", "building_number", "households",
                         "population"), ("grid_code", _table(Grid), "grid_id")),
    "workers": Target(_table(GridWorker), "worker_id", ("name", "phone"), geometry=False, stamped=False),
    "departments": Target(_table(Department), "code", ("name", "phone"),
                          ("district_code", _table(District), "district_id"), geometry=False, stamped=False),
}
KEY_TABLES = {"districts": (District, "code"), "streets": (Street, "code"), "communities": (Community, "code"),
              "grids": (Grid, "code"), "workers": (GridWorker, "worker_id")}


class DatabaseLookup:
    """What geodata.prepare asks of the database: which codes exist, and the stored grids near buildings."""

    def __init__(self, cursor):
        self.cursor = cursor

    def existing(self, layer: str, keys: Collection[str]) -> set[str]:
        model, column = KEY_TABLES[layer]
        query = sql.SQL("SELECT {col} FROM {table} WHERE {col} = ANY(%s)").format(
            col=sql.Identifier(column), table=sql.Identifier(_table(model)))
        self.cursor.execute(query, [list(keys)])
        return {row[0] for row in self.cursor.fetchall()}

    def grids_in_bbox(self, bounds: tuple[float, float, float, float], exclude: Collection[str]
                      ) -> tuple[np.ndarray, np.ndarray]:
        query = sql.SQL("SELECT code, ST_AsBinary(geom) FROM {table} "
                        "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)").format(table=sql.Identifier(
                            _table(Grid)))
        self.cursor.execute(query, list(bounds))
        rows = [(code, wkb) for code, wkb in self.cursor.fetchall() if code not in exclude]
        codes = np.array([code for code, _ in rows], dtype=object)
        return codes, shapely.from_wkb([bytes(wkb) for _, wkb in rows])


def import_territory(*, path: Path, crs: str | None = None, layer: str | None = None, dry_run: bool = False,
                     progress: bool = False) -> ImportReport:
    """Imports PATH in one transaction. Raises geodata.problems.ImportRejected (nothing written),
    geodata.interchange.SourceError or geodata.crs.CRSProblem."""
    bar = Progress(progress)
    try:
        with transaction.atomic():
            with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
                # A cursor of the psycopg 3 connection itself (for COPY), inside Django's transaction.
                prepared = prepare(path, lookup=DatabaseLookup(cursor), crs=crs, layer=layer, progress=bar)
                report = ImportReport(repairs=prepared.repairs, notes=prepared.notes, dry_run=dry_run,
                                      timings=dict(prepared.timings),
                                      crs={name: lyr.crs for name, lyr in prepared.layers.items() if lyr.crs})
                _write(cursor, prepared, report, bar)
            with bar.step("check coverage"):
                _check_coverage(prepared, report)
            if dry_run:
                transaction.set_rollback(True)
    finally:
        bar.close()
    return report


def _write(cursor, prepared: Prepared, report: ImportReport, bar: Progress) -> None:
    bar.add(len(prepared.layers) + 2)
    for name, layer in prepared.layers.items():
        started = time.perf_counter()
        with bar.step(f"write {name}"):
            report.counts[name] = _upsert(cursor, name, layer)
        report.timings[f"write {name}"] = time.perf_counter() - started
    with bar.step("write assignments"):
        if len(prepared.assignments):
            started = time.perf_counter()
            report.counts["assignments"] = _upsert_assignments(cursor, prepared.assignments)
            report.timings["write assignments"] = time.perf_counter() - started


def _rows(name: str, layer: Layer) -> dict[str, list]:
    """The layer's columns in staging-table order: key, columns, parent key, geometry (EWKB)."""
    target = TARGETS[name]
    frame = layer.frame.rename(columns={"id": "worker_id"})
    columns = [target.key, *target.columns] + ([target.parent[0]] if target.parent else [])
    rows = {c: (frame[c].tolist() if c in frame.columns else [_default(c)] * len(frame)) for c in columns}
    if target.geometry:
        rows["geom"] = shapely.to_wkb(shapely.set_srid(layer.geoms, 4326), include_srid=True).tolist()
    return rows


def _default(column: str) -> int | str:
    return 0 if column in COUNT_COLUMNS else ""


# --- staging and merging -------------------------------------------------------------------------


def _stage(cursor, name: str, rows: dict[str, list]) -> sql.Identifier:
    """Binary COPY into a temporary table: geometries go over as EWKB, which PostGIS takes as it is."""
    stage = sql.Identifier(f"_import_{name}")
    types = [_stage_type(c) for c in rows]
    columns = [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in zip(rows, types, strict=True)]
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
    cursor.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(stage, sql.SQL(", ").join(columns)))
    with cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(stage)) as pipe:
        pipe.set_types(["bytea" if t.startswith("geometry") else t for t in types])
        for row in zip(*rows.values(), strict=True):
            pipe.write_row(row)
    return stage


def _stage_type(column: str) -> str:
    if column == "geom":
        return "geometry(MultiPolygon, 4326)"
    return "int8" if column in COUNT_COLUMNS else "text"


def _upsert(cursor, name: str, layer: Layer) -> Counts:
    target = TARGETS[name]
    stage = _stage(cursor, name, _rows(name, layer))
    cursor.execute(_merge_query(target, stage, _updated_columns(name, layer)))
    created, updated, staged = cursor.fetchone()
    return Counts(created=created, updated=updated, unchanged=staged - created - updated)


def _updated_columns(name: str, layer: Layer) -> list[str]:
    """Columns an existing row takes from the file: optional fields the file does not have at all keep
    their stored values (a grids file without `population` must not zero every grid's population)."""
    target = TARGETS[name]
    columns = [c for c in target.columns if c in layer.fields]
    if target.parent:
        columns.append(target.parent[2])
    return columns + (["geom"] if target.geometry else [])


def _merge_query(target: Target, stage: sql.Identifier, updated: list[str]) -> sql.Composed:
    own = [target.key, *target.columns] + (["geom"] if target.geometry else [])
    insert = [sql.Identifier(c) for c in own]
    values = [sql.SQL("s.{}").format(sql.Identifier(c)) for c in own]
    joins = sql.SQL("")
    if target.parent:
        field, table, fk = target.parent
        insert.append(sql.Identifier(fk))
        values.append(sql.SQL("p.id"))
        joins = sql.SQL("LEFT JOIN {} p ON p.code = s.{}").format(sql.Identifier(table), sql.Identifier(field))
    assigned = [sql.Identifier(c) for c in updated]
    if target.stamped:
        insert.append(sql.Identifier("updated_at"))
        values.append(sql.SQL("now()"))
    stamp = sql.SQL(", updated_at = EXCLUDED.updated_at") if target.stamped else sql.SQL("")
    return sql.SQL(
        "WITH up AS (INSERT INTO {table} AS t ({insert}) SELECT {values} FROM {stage} s {joins} "
        "ON CONFLICT ({key}) DO UPDATE SET {assign}{stamp} WHERE ({old}) IS DISTINCT FROM ({new}) "
        "RETURNING (xmax = 0) AS created) "
        "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created), "
        "(SELECT count(*) FROM {stage}) FROM up"
    ).format(
        table=sql.Identifier(target.table), insert=sql.SQL(", ").join(insert), values=sql.SQL(", ").join(values),
        stage=stage, joins=joins, key=sql.Identifier(target.key), stamp=stamp,
        assign=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(c) for c in assigned),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(c) for c in assigned),
        new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(c) for c in assigned),
    )


# --- grid assignments ----------------------------------------------------------------------------

_RESOLVE = """
CREATE TEMP TABLE _import_resolved ON COMMIT DROP AS
SELECT w.id AS worker_pk, g.id AS grid_pk, s.role
FROM _import_assignments s
JOIN {workers} w ON w.worker_id = s.worker_id
JOIN {grids} g ON g.code = s.grid_code
"""
# A grid's primary named by the file replaces the stored one: the old primary is removed, or becomes
# whatever the file says it is when the file also lists that worker for the grid.
_REPLACE_PRIMARY = """
WITH replaced AS (
  SELECT a.id, EXISTS (SELECT 1 FROM _import_resolved o WHERE o.worker_pk = a.worker_id AND o.grid_pk = a.grid_id)
         AS listed
  FROM {assignments} a JOIN _import_resolved r ON r.grid_pk = a.grid_id AND r.role = 'primary'
  WHERE a.role = 'primary' AND a.worker_id <> r.worker_pk
), demoted AS (
  UPDATE {assignments} a SET role = 'deputy' FROM replaced x WHERE a.id = x.id AND x.listed RETURNING a.id
), deleted AS (
  DELETE FROM {assignments} a USING replaced x WHERE a.id = x.id AND NOT x.listed RETURNING a.id
)
SELECT (SELECT count(*) FROM deleted), (SELECT count(*) FROM demoted)
"""
_MERGE_ASSIGNMENTS = """
WITH up AS (
  INSERT INTO {assignments} AS t (worker_id, grid_id, role) SELECT worker_pk, grid_pk, role FROM _import_resolved
  ON CONFLICT (worker_id, grid_id) DO UPDATE SET role = EXCLUDED.role WHERE t.role IS DISTINCT FROM EXCLUDED.role
  RETURNING (xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created), (SELECT count(*) FROM _import_resolved)
FROM up
"""


def _upsert_assignments(cursor, table: pd.DataFrame) -> Counts:
    names = {"workers": sql.Identifier(_table(GridWorker)), "grids": sql.Identifier(_table(Grid)),
             "assignments": sql.Identifier(_table(GridAssignment))}
    _stage(cursor, "assignments", {c: table[c].tolist() for c in ("worker_id", "grid_code", "role")})
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS _import_resolved"))
    cursor.execute(sql.SQL(_RESOLVE).format(**names))
    cursor.execute(sql.SQL(_REPLACE_PRIMARY).format(**names))
    removed, demoted = cursor.fetchone()
    cursor.execute(sql.SQL(_MERGE_ASSIGNMENTS).format(**names))
    created, updated, staged = cursor.fetchone()
    # A demoted primary already has the role the file gives it: the merge saw it as unchanged.
    return Counts(created=created, updated=updated + demoted, unchanged=staged - created - updated - demoted,
                  removed=removed)


# --- coverage ------------------------------------------------------------------------------------


def affected_communities(prepared: Prepared) -> list[str]:
    """Communities whose tiling this import may have changed."""
    codes: set[str] = set()
    for name, column in (("communities", "code"), ("grids", "community_code"), ("buildings", "grid_code")):
        if name in prepared.layers:
            codes.update(c[:12] for c in prepared.layers[name].frame[column] if len(c) >= 12)
    return sorted(codes)


def _check_coverage(prepared: Prepared, report: ImportReport) -> None:
    communities = affected_communities(prepared)
    if not communities:
        return
    started = time.perf_counter()
    frames = coverage_frames(communities)
    coverage = check_coverage(*frames, tolerance_m2=settings.GRIDGIS["COVERAGE_TOLERANCE_M2"])
    report.coverage_summary, report.coverage_lines = coverage.summary(), coverage.lines()
    report.timings["coverage check"] = time.perf_counter() - started
