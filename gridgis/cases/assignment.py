"""Which grid a point belongs to, and who answers for that grid.

Rules, in order (the rule used and the distance are stored on the case):
1. covering_grid: the grid whose polygon covers the point. A point exactly on a shared boundary is covered
   by several grids; it goes to the one with the lowest code. Codes number grids west→east, north→south,
   so the rule is deterministic and easy to explain: the boundary belongs to the north-western grid.
2. nearest_grid: a point outside every grid goes to the nearest grid within
   settings.GRIDGIS["ASSIGN_MAX_DISTANCE_M"] (default 50 m), measured on the spheroid.
3. unassigned: otherwise the case waits in the command centre's unassigned queue.

The assignee is the grid's primary worker, else its first deputy, else a staff member of its community.

`route` applies all of it (and finds the district of a point outside every grid) in one SQL statement, for
intake's one-report-at-a-time path; `place` and `assignee_for` state the same rules as ORM queries.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import connection

from gridgis.prepared import fetchone_prepared
from gridgis.territory.models import Community, District, Grid, Street
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole


@dataclass(frozen=True)
class Placement:
    grid: Grid | None
    rule: str  # a Case.AssignmentRule value
    distance_m: float | None


def max_distance_m() -> float:
    return float(settings.GRIDGIS.get("ASSIGN_MAX_DISTANCE_M", 50.0))


def grid_covering(point: Point) -> Grid | None:
    """The grid covering `point`; on a shared boundary the lowest code wins."""
    return (
        Grid.objects.filter(geom__covers=point)
        .select_related("community__street")
        .order_by("code")
        .first()
    )


def nearest_grid(point: Point, *, within_m: float) -> tuple[Grid, float] | None:
    """The nearest grid within `within_m` metres and its distance. The KNN operator finds the candidate by
    index; the distance is then measured on the spheroid (geography) for the threshold."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)
            FROM territory_grid
            WHERE retired_at IS NULL
            ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)
            LIMIT 3
            """,
            [point.x, point.y, point.x, point.y],
        )
        rows = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))
    if not rows or rows[0][1] > within_m:
        return None
    grid = Grid.objects.select_related("community__street").get(pk=rows[0][0])
    return grid, float(rows[0][1])


def place(point: Point | None) -> Placement:
    if point is None:
        return Placement(None, "unassigned", None)
    grid = grid_covering(point)
    if grid is not None:
        return Placement(grid, "covering_grid", 0.0)
    nearest = nearest_grid(point, within_m=max_distance_m())
    if nearest is not None:
        return Placement(nearest[0], "nearest_grid", round(nearest[1], 2))
    return Placement(None, "unassigned", None)


def district_covering(point: Point) -> District | None:
    return District.objects.filter(geom__covers=point).order_by("code").first()


@dataclass(frozen=True)
class Assignee:
    worker: GridWorker | None = None
    staff: object | None = None  # a User with a community_staff role


def _worker_with_role(grid: Grid, role: str) -> GridWorker | None:
    return GridWorker.objects.filter(assignments__grid=grid, assignments__role=role).order_by("worker_id").first()


def _community_staff(grid: Grid):
    return (
        get_user_model().objects.filter(
            staff_roles__role=StaffRole.Role.COMMUNITY_STAFF,
            staff_roles__scope_code=grid.community.code,
            is_active=True,
        )
        .order_by("id")
        .first()
    )


def assignee_for(grid: Grid | None) -> Assignee:
    """The grid's primary worker, else its first deputy, else a staff member of its community."""
    if grid is None:
        return Assignee()
    worker = _worker_with_role(grid, GridAssignment.Role.PRIMARY) or _worker_with_role(
        grid, GridAssignment.Role.DEPUTY
    )
    if worker is not None:
        return Assignee(worker=worker)
    return Assignee(staff=_community_staff(grid))


@dataclass(frozen=True)
class Routed:
    placement: Placement
    assignee: Assignee
    district_code: str  # the district covering a point outside every grid ("" when none, or on a grid)


# Grids in force are those of Grid's default manager: its SQL (compiled once) is the `grids` subquery, which
# PostgreSQL pulls up, so the spatial index still serves ST_Covers and the KNN order. The UNION ALL under
# LIMIT 1 runs its second branch (nearest grid) only when the first (covering grid) finds nothing.
_ROUTE = """
WITH p AS MATERIALIZED (SELECT ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326) AS pt)
SELECT h.rule, h.distance_m, g.id, g.code, g.name, c.id, c.code, c.name, s.id, s.code, s.name,
       w.id, w.worker_id, w.user_id, w.name, w.phone, u.id, u.username, u.first_name, u.last_name, d.code
FROM p
LEFT JOIN LATERAL (
  (SELECT g.id, 'covering_grid' AS rule, 0.0::float8 AS distance_m FROM ({grids}) g
   WHERE ST_Covers(g.geom, p.pt) ORDER BY g.code LIMIT 1)
  UNION ALL
  (SELECT n.id, 'nearest_grid', n.d FROM (
     SELECT k.id, k.d FROM (SELECT g.id, ST_Distance(g.geom::geography, p.pt::geography) AS d FROM ({grids}) g
                            ORDER BY g.geom <-> p.pt LIMIT 3) k
     ORDER BY k.d, k.id LIMIT 1) n
   WHERE n.d <= %(within)s)
  LIMIT 1
) h ON true
LEFT JOIN territory_grid g ON g.id = h.id
LEFT JOIN territory_community c ON c.id = g.community_id
LEFT JOIN territory_street s ON s.id = c.street_id
LEFT JOIN LATERAL (
  SELECT w.* FROM workforce_gridworker w JOIN workforce_gridassignment a ON a.worker_id = w.id
  WHERE a.grid_id = g.id AND a.role IN (%(primary)s, %(deputy)s)
  ORDER BY a.role = %(primary)s DESC, w.worker_id LIMIT 1
) w ON true
LEFT JOIN LATERAL (
  SELECT u.* FROM auth_user u JOIN workforce_staffrole r ON r.user_id = u.id
  WHERE g.id IS NOT NULL AND w.id IS NULL AND r.role = %(staff)s AND r.scope_code = c.code AND u.is_active
  ORDER BY u.id LIMIT 1
) u ON true
LEFT JOIN LATERAL (
  SELECT d.code FROM territory_district d WHERE h.id IS NULL AND ST_Covers(d.geom, p.pt) ORDER BY d.code LIMIT 1
) d ON true
"""


@functools.cache
def _route_sql() -> tuple[str, tuple]:
    grids, params = Grid.objects.values("id", "code", "geom").query.sql_with_params()
    if params:  # the manager's filter has parameters: they would need numbering in; none so far
        raise NotImplementedError("route(): Grid's default manager filters with parameters")
    return _ROUTE.replace("{grids}", grids), params


def _partial(model, **values):
    """A model instance from some of its columns; the others load on access (as with .only())."""
    names = set(values)
    return model.from_db("default", names,
                         [values[f.attname] for f in model._meta.concrete_fields if f.attname in names])


def route(point: Point | None) -> Routed:
    """place(point), assignee_for(its grid) and, off every grid, the district covering the point, in one query.
    The grid comes with its community and street (names and codes; their polygons load only on access)."""
    if point is None:
        return Routed(Placement(None, "unassigned", None), Assignee(), "")
    query, _ = _route_sql()
    (rule, distance, grid_id, grid_code, grid_name, community_id, community_code, community_name, street_id,
     street_code, street_name, worker_pk, worker_no, worker_user, worker_name, worker_phone, staff_id,
     staff_username, staff_first, staff_last, district_code) = fetchone_prepared(query, {
        "x": point.x, "y": point.y, "within": max_distance_m(), "primary": GridAssignment.Role.PRIMARY.value,
        "deputy": GridAssignment.Role.DEPUTY.value, "staff": StaffRole.Role.COMMUNITY_STAFF.value})
    if grid_id is None:
        return Routed(Placement(None, "unassigned", None), Assignee(), district_code or "")
    street = _partial(Street, id=street_id, code=street_code, name=street_name)
    community = _partial(Community, id=community_id, code=community_code, name=community_name, street_id=street_id)
    community.street = street
    grid = _partial(Grid, id=grid_id, code=grid_code, name=grid_name, community_id=community_id)
    grid.community = community
    if worker_pk is not None:
        assignee = Assignee(worker=_partial(GridWorker, id=worker_pk, worker_id=worker_no, user_id=worker_user,
                                            name=worker_name, phone=worker_phone))
    elif staff_id is not None:
        assignee = Assignee(staff=_partial(get_user_model(), id=staff_id, username=staff_username,
                                           first_name=staff_first, last_name=staff_last))
    else:
        assignee = Assignee()
    return Routed(Placement(grid, rule, 0.0 if rule == "covering_grid" else round(distance, 2)), assignee, "")
