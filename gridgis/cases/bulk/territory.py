"""The territory as the bulk paths need it: every grid (geometry as WKB) with its community, street and the
person who answers for it, and the districts, read in two queries and held as arrays; a PointAssigner over
the grids places points by the rules of gridgis.cases.assignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.contrib.auth import get_user_model
from psycopg import sql

from geodata.assign_points import PointAssigner
from gridgis.cases.assignment import max_distance_m
from gridgis.territory.models import Community, District, Grid
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole

# The assignee rule of assignment.assignee_for, for every grid at once: the primary worker, else the first
# deputy (both by worker_id), else the first active community staff member (by user id).
_GRIDS = """
SELECT g.id, g.code, ST_AsBinary(g.geom), g.community_id, c.street_id,
  COALESCE(
    (SELECT w.id FROM {workers} w JOIN {assignments} a ON a.worker_id = w.id
     WHERE a.grid_id = g.id AND a.role = %(primary)s ORDER BY w.worker_id LIMIT 1),
    (SELECT w.id FROM {workers} w JOIN {assignments} a ON a.worker_id = w.id
     WHERE a.grid_id = g.id AND a.role = %(deputy)s ORDER BY w.worker_id LIMIT 1)),
  (SELECT u.id FROM {users} u JOIN {roles} r ON r.user_id = u.id
   WHERE r.role = %(staff)s AND r.scope_code = c.code AND u.is_active ORDER BY u.id LIMIT 1)
FROM {grids} g JOIN {communities} c ON c.id = g.community_id
WHERE g.retired_at IS NULL  -- a grid the planner retired takes no new cases
ORDER BY g.id
"""
_DISTRICTS = "SELECT code, ST_AsBinary(geom) FROM {districts} ORDER BY code"


@dataclass
class Territory:
    grid_id: np.ndarray  # int64, one entry per grid
    code: np.ndarray  # grid codes
    community_id: np.ndarray
    street_id: np.ndarray
    worker_id: np.ndarray  # the grid's worker, -1 for none
    staff_id: np.ndarray  # when it has no worker: a staff member of its community, -1 for none
    grids: PointAssigner
    district_code: np.ndarray
    districts: PointAssigner  # covering only

    def district_of(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The code of the district covering each point (lowest code on a boundary), "" for none."""
        found = self.districts.assign(lon, lat).grid_index
        return np.where(found >= 0, self.district_code[np.maximum(found, 0)], "")


def load_territory(cursor) -> Territory:
    """Reads the grids and districts through `cursor` (a psycopg cursor, in the caller's transaction)."""
    names = {key: sql.Identifier(model._meta.db_table) for key, model in (
        ("workers", GridWorker), ("assignments", GridAssignment), ("users", get_user_model()),
        ("roles", StaffRole), ("grids", Grid), ("communities", Community), ("districts", District))}
    cursor.execute(sql.SQL(_GRIDS).format(**names), {"primary": GridAssignment.Role.PRIMARY.value,
                                                      "deputy": GridAssignment.Role.DEPUTY.value,
                                                      "staff": StaffRole.Role.COMMUNITY_STAFF.value})
    rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    ids = np.array(columns[0], dtype=np.int64)
    codes = np.array(columns[1], dtype=object)
    geoms = shapely.from_wkb([bytes(wkb) for wkb in columns[2]]) if rows else np.array([], dtype=object)
    cursor.execute(sql.SQL(_DISTRICTS).format(**names))
    district_rows = cursor.fetchall()
    district_code = np.array([code for code, _ in district_rows], dtype=object)
    district_geoms = shapely.from_wkb([bytes(wkb) for _, wkb in district_rows]) if district_rows else []
    return Territory(
        grid_id=ids, code=codes, community_id=_ids(columns[3]), street_id=_ids(columns[4]),
        worker_id=_ids(columns[5]), staff_id=_ids(columns[6]),
        # place() breaks equal distances by grid id; covering ties go to the lowest code either way
        grids=PointAssigner(codes, geoms, max_distance_m=max_distance_m(), tie_key=ids),
        district_code=district_code,
        districts=PointAssigner(district_code, district_geoms, max_distance_m=0),
    )


def _ids(values) -> np.ndarray:
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)
