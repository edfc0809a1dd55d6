"""reassign_cases: the assignment rules run again for every open case, after the grids have changed.

Open cases with a point are placed again in bulk (the PointAssigner over the grids as they are now); those
whose grid, assignee, rule, distance or territory code comes out different are COPYed into a staging table
and updated by one UPDATE … FROM it. A case whose grid or assignee changed gets a "reassign" entry in its
timeline and a notification on the case_events channel after the commit, as any transition does.

Left alone: closed (and voided) cases, which keep the grid they were handled in; cases assigned by hand
(rule "manual"); cases without a point. A case changed by someone else while this runs is skipped (the
UPDATE matches on the values read), and so counts as unchanged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from psycopg import sql

from gridgis.cases.models import Case, CaseEvent
from gridgis.territory.models import Grid

from . import pgcopy
from .db import column_types, key_column, stage
from .importing import LOCK, TABLE
from .placement import place_points, placement_warnings
from .territory import Territory, load_territory

_OPEN = """
SELECT id, ST_X(location), ST_Y(location), coalesce(grid_id, -1), coalesce(assignee_id, -1),
       coalesce(assignee_staff_id, -1), assignment_rule, coalesce(assignment_distance_m, 'NaN'), territory_code
FROM {table} WHERE status = ANY(%s) AND location IS NOT NULL AND assignment_rule <> %s
"""
# Placement warnings are replaced (services._warnings makes them), any other warning is kept.
_UPDATE = """
WITH changed AS (
  UPDATE {table} c SET grid_id = s.grid_id, community_id = s.community_id, street_id = s.street_id,
    territory_code = s.territory_code, assignee_id = s.assignee_id, assignee_staff_id = s.assignee_staff_id,
    assignment_rule = s.assignment_rule, assignment_distance_m = s.assignment_distance_m,
    warnings = coalesce((SELECT jsonb_agg(w ORDER BY n) FROM jsonb_array_elements(c.warnings) WITH ORDINALITY e(w, n)
                         WHERE NOT w <@ %(placement)s::jsonb), '[]'::jsonb) || s.warnings,
    updated_at = now()
  FROM _reassign s
  WHERE c.id = s.id AND c.status = ANY(%(open)s) AND c.assignment_rule <> %(manual)s
    AND c.grid_id IS NOT DISTINCT FROM s.old_grid_id AND c.assignee_id IS NOT DISTINCT FROM s.old_assignee_id
    AND c.assignee_staff_id IS NOT DISTINCT FROM s.old_assignee_staff_id
  RETURNING c.id, c.number, c.status, c.territory_code, c.tier, s.old_grid_id, s.grid_id,
            s.old_assignee_id, s.assignee_id, s.old_assignee_staff_id, s.assignee_staff_id,
            s.assignment_rule, s.assignment_distance_m
), moved AS (
  SELECT * FROM changed WHERE old_grid_id IS DISTINCT FROM grid_id OR old_assignee_id IS DISTINCT FROM assignee_id
                             OR old_assignee_staff_id IS DISTINCT FROM assignee_staff_id
), logged AS (
  INSERT INTO {events} (case_id, action, from_status, to_status, at, note, data)
  SELECT m.id, 'reassign', m.status, m.status, now(), '', jsonb_build_object(
    'from_grid', (SELECT code FROM {grids} WHERE id = m.old_grid_id),
    'grid', (SELECT code FROM {grids} WHERE id = m.grid_id),
    'assignment_rule', m.assignment_rule, 'assignment_distance_m', m.assignment_distance_m)
  FROM moved m
  RETURNING id, case_id
)  -- each timeline entry rings the live feed through its trigger (cases/events.py)
SELECT (SELECT count(*) FROM changed),
       (SELECT count(*) FROM changed WHERE old_grid_id IS DISTINCT FROM grid_id),
       (SELECT count(*) FROM moved),
       (SELECT count(*) FROM logged)
"""


@dataclass
class ReassignReport:
    open_cases: int = 0  # open, with a point, not assigned by hand: placed again
    manual: int = 0  # open and assigned by hand: left alone
    updated: int = 0  # cases whose placement changed in any way
    changed_grid: int = 0
    changed_assignee: int = 0  # grid or assignee changed: a timeline entry each
    dry_run: bool = False
    seconds: float = 0.0

    def lines(self) -> list[str]:
        head = "Dry run: nothing was written; this is what reassigning would do." if self.dry_run else \
            f"Reassigned open cases in {self.seconds:.1f} s."
        return [head,
                f"  open cases placed again: {self.open_cases:,} (assigned by hand, left alone: {self.manual:,})",
                f"  moved to another grid: {self.changed_grid:,}",
                f"  with another assignee or grid (timeline entry each): {self.changed_assignee:,}",
                f"  updated in all (rule, distance or territory code included): {self.updated:,}"]


def reassign_open_cases(*, dry_run: bool = False) -> ReassignReport:
    started = time.perf_counter()
    report = ReassignReport(dry_run=dry_run)
    with transaction.atomic(), connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK])
        _reassign(cursor, report)
        if dry_run:
            transaction.set_rollback(True)
    report.seconds = time.perf_counter() - started
    return report


def _reassign(cursor, report: ReassignReport) -> None:
    open_statuses = [str(s) for s in Case.OPEN_STATUSES]
    manual = Case.AssignmentRule.MANUAL.value
    cursor.execute(sql.SQL("SELECT count(*) FROM {} WHERE status = ANY(%s) AND assignment_rule = %s")
                   .format(sql.Identifier(TABLE)), [open_statuses, manual])
    report.manual = cursor.fetchone()[0]
    cursor.execute(sql.SQL(_OPEN).format(table=sql.Identifier(TABLE)), [open_statuses, manual])
    current = cursor.fetchall()
    report.open_cases = len(current)
    if not current:
        return
    changed = _changes(load_territory(cursor), current)
    rows = changed["id"][1].values.size
    if not rows:
        return
    stage(cursor, "_reassign", _typed(changed, column_types(cursor, TABLE)), rows)
    names = {"table": sql.Identifier(TABLE), "events": sql.Identifier(CaseEvent._meta.db_table),
             "grids": sql.Identifier(Grid._meta.db_table)}
    cursor.execute(sql.SQL(_UPDATE).format(**names), {
        "placement": json.dumps(placement_warnings(), ensure_ascii=False), "open": open_statuses, "manual": manual})
    report.updated, report.changed_grid, report.changed_assignee, _ = cursor.fetchone()


def _changes(territory: Territory, current: list[tuple]) -> dict[str, tuple[str, pgcopy.Column]]:
    """The new placement of every case whose placement differs from the stored one, as staging columns
    (foreign keys typed later)."""
    ids, lon, lat, grid, worker, staff, rule, distance, code = (np.array(c) for c in zip(*current, strict=True))
    lon, lat, distance = lon.astype(np.float64), lat.astype(np.float64), distance.astype(np.float64)
    new = place_points(territory, lon, lat, code.astype(object))
    same_distance = (new.distance_m == distance) | (np.isnan(new.distance_m) & np.isnan(distance))
    differs = np.flatnonzero((new.grid_id != grid) | (new.worker_id != worker) | (new.staff_id != staff)
                             | (new.rule_name != rule) | ~same_distance | (new.territory_code != code))
    return {
        "id": ("int8", pgcopy.Int8(ids[differs].astype(np.int64))),
        "grid_id": ("key", new.grid_id[differs]), "community_id": ("key", new.community_id[differs]),
        "street_id": ("key", new.street_id[differs]),
        "territory_code": ("text", pgcopy.Text(new.territory_code[differs])),
        "assignee_id": ("key", new.worker_id[differs]), "assignee_staff_id": ("key", new.staff_id[differs]),
        "assignment_rule": ("text", pgcopy.coded_text(new.rule_name[differs])),
        "assignment_distance_m": ("float8", pgcopy.Float8(new.distance_m[differs])),
        "warnings": ("jsonb", pgcopy.coded_text(new.warnings[differs], prefix=b"\x01")),
        "old_grid_id": ("key", grid[differs]), "old_assignee_id": ("key", worker[differs]),
        "old_assignee_staff_id": ("key", staff[differs]),
    }


def _typed(columns: dict, types: dict[str, str]) -> dict[str, tuple[str, pgcopy.Column]]:
    """Foreign keys get the type the cases table gives them (bigint, or integer for users)."""
    out = {}
    for name, (kind, values) in columns.items():
        out[name] = key_column(types[name.removeprefix("old_")], values) if kind == "key" else (kind, values)
    return out
