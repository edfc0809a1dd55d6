"""Which grid a point belongs to, and who answers for that grid.

Rules, in order (the rule used and the distance are stored on the case):
1. covering_grid: the grid whose polygon covers the point. A point exactly on a shared boundary is covered
   by several grids; it goes to the one with the lowest code. Codes number grids west→east, north→south,
   so the rule is deterministic and easy to explain: the boundary belongs to the north-western grid.
2. nearest_grid: a point outside every grid goes to the nearest grid within
   settings.GRIDGIS["ASSIGN_MAX_DISTANCE_M"] (default 50 m), measured on the spheroid.
3. unassigned: otherwise the case waits in the command centre's unassigned queue.

The assignee is the grid's primary worker, else its first deputy, else a staff member of its community.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import connection

from gridgis.territory.models import District, Grid
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
