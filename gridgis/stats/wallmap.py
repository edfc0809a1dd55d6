"""Reads of the command centre's wall map (/wall/): the live (open) cases in view, each grid's open load, and
the live counts. Every read starts from cases_for, so a viewer never sees, counts or clusters a case outside
their scope.

Cases in view. A view is a bounding box and a zoom level. When the box holds few open cases (≤ POINT_LIMIT)
that do not crowd their cells (≤ cell_points() a cell on average, zoomed out), or the map is zoomed in to
POINTS_ZOOM or beyond, the cases come as points; otherwise as clusters on a fixed world grid of CELL_PX screen
pixels at that zoom (cells do not move when the map pans), each with its count, its overdue and supervised
counts and the mean position of its cases. How the clusters are made depends on
the zoom:
- up to GRID_ZOOM a grid (网格) is about a cell or smaller: the clusters are made from the open cases counted per
  territory code — one pass over a covering partial index (migration stats/0002), no geometry read — placed
  at each grid's label point;
- above it, PostGIS groups the cases' own points in the box (the partial GiST index of stats/0001).
The per-code counts also give the grid loads (choropleth) and the live counts. They are cached per user until
the next case event (the CaseEvent id moves on every intake and transition) or for CACHE_S at most (deadlines
pass without events), so the several reads of one page, and its pans, cost one pass.

Why aggregates and not ST_AsMVT vector tiles: a cluster needs counts of its own (overdue, supervised) that a
tile of points would leave to the browser, Leaflet draws no vector tiles without a plugin we do not ship, and
the tiles of a zoomed-out city hold every point — measured in bench/wallmap.py: ~2.8 MB of tiles and seconds
of SQL for 100,000 cases, against ~1.5 KB of clusters.

Overdue means what the indicators (stats.selectors) say: flagged overdue, or past the deadline (a clock paused
for a pending extension only up to the pause). Cases without a location (not yet placed) are counted in the
live counts but cannot be drawn.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Polygon
from django.db import connections, transaction
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    ExpressionWrapper,
    FloatField,
    Func,
    Max,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Floor
from django.utils import timezone

from gridgis.cases.actors import Actor, actor_for
from gridgis.cases.models import Case, CaseEvent
from gridgis.cases.selectors import cases_for
from gridgis.cases.worktime import SHANGHAI
from gridgis.territory.models import Grid

OPEN = Case.OPEN_STATUSES
CELL_PX = 80  # a cluster's cell, in screen pixels at the zoom asked for
# Up to here clusters come from per-grid counts: at z15 a grid (~400 m) spans ~110 px, so each grid is about
# one bubble, and zoomed further out the cells merge neighbouring grids.
GRID_ZOOM = 15
POINTS_ZOOM = 18  # from here on always points: a screen at z18 is ~0.5 × 0.35 km
MAX_POINTS = 3000  # … but never more than this many (`truncated` says so)
GRID_CODE_LENGTH = 15
CACHE_S = 30.0  # per-code counts live until the next case event, or this long at most
GRID_POINTS_S = 300.0  # grids' label points (the territory changes rarely)

# Bits of a point's flags.
OVERDUE, SUPERVISED, URGENT = 1, 2, 4


def point_limit() -> int:
    """A view holding at most this many open cases is sent as points (unless they crowd, see cell_points)."""
    return int(settings.GRIDGIS.get("WALL_POINT_LIMIT", 800))


def cell_points() -> float:
    """Zoomed out (≤ GRID_ZOOM), when the occupied cluster cells hold more than this many cases each on average,
    their markers would pile up on one another: the view comes as clusters even when it holds few cases in all
    (the demo city's ~500 open cases at z12 drew a blot of dots). An average, not the busiest cell: one busy
    corner must not turn a street of single cases into bubbles saying "1"."""
    return float(settings.GRIDGIS.get("WALL_CELL_POINTS", 3))


@dataclass(frozen=True)
class View:
    west: float
    south: float
    east: float
    north: float
    zoom: int

    @property
    def box(self) -> Polygon:
        return Polygon.from_bbox((self.west, self.south, self.east, self.north))

    def holds(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def open_cases(user, actor: Actor | None = None) -> QuerySet[Case]:
    """The live cases the user sees: open (neither closed nor voided), through cases_for."""
    return cases_for(user, actor).filter(status__in=OPEN)


def overdue(now: dt.datetime) -> Q:
    return Q(overdue=True) | Q(deadline__lt=Coalesce("deadline_paused_at", Value(now)))


def _x():
    return Func("location", function="ST_X", output_field=FloatField())


def _y():
    return Func("location", function="ST_Y", output_field=FloatField())


# --- open cases per territory code, cached until the next case event --------------------------------------

class _Cache:
    """Per process: user id → (event watermark, taken at, counts). A dict and a lock; entries of other users
    are dropped once stale, so it holds about one entry per user active in the last CACHE_S."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[int, tuple[int, float, dict]] = {}

    def get(self, user_id: int, watermark: int) -> dict | None:
        with self.lock:
            entry = self.entries.get(user_id)
        if entry and entry[0] == watermark and time.monotonic() - entry[1] < CACHE_S:
            return entry[2]
        return None

    def put(self, user_id: int, watermark: int, counts: dict) -> None:
        now = time.monotonic()
        with self.lock:
            if len(self.entries) > 256:
                self.entries = {k: v for k, v in self.entries.items() if now - v[1] < CACHE_S}
            self.entries[user_id] = (watermark, now, counts)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


code_counts_cache = _Cache()


def _watermark() -> int:
    return CaseEvent.objects.aggregate(top=Max("pk"))["top"] or 0


def code_counts(user, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict[str, list[int]]:
    """Per territory code: [open, overdue, supervised] cases in the user's scope (codes without open cases left
    out). One index-only pass over the covering partial index of migration stats/0002."""
    if user is None or not user.is_authenticated:
        return {}
    watermark = _watermark()
    cached = code_counts_cache.get(user.pk, watermark)
    if cached is not None:
        return cached
    now = now or timezone.now()
    # Counting a column of the index (never null), not the id: the id is not in it, and would cost a heap visit.
    code = "territory_code"
    rows = (
        open_cases(user, actor).values(code).order_by()
        .annotate(n=Count(code), late=Count(code, filter=overdue(now)), watched=Count(code, filter=Q(supervised=True)))
        .values_list(code, "n", "late", "watched")
    )
    counts = {code: [n, late, watched] for code, n, late, watched in rows}
    code_counts_cache.put(user.pk, watermark, counts)
    return counts


def grid_loads(user, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict[str, list[int]]:
    """Per grid code: [open, overdue, supervised] cases, for the choropleth (grids without open cases left out)."""
    return {code: row for code, row in code_counts(user, now=now, actor=actor).items()
            if len(code) == GRID_CODE_LENGTH}


_grid_points: tuple[float, dict[str, tuple[float, float]]] | None = None


def grid_points() -> dict[str, tuple[float, float]]:
    """Grid code → a point inside the grid (lon, lat), where its cases are drawn when zoomed out."""
    global _grid_points
    if _grid_points is None or time.monotonic() - _grid_points[0] > GRID_POINTS_S:
        rows = Grid.objects.annotate(label=PointOnSurface("geom")).values_list("code", "label")
        _grid_points = (time.monotonic(), {code: (p.x, p.y) for code, p in rows if p is not None})
    return _grid_points[1]


# --- cases in view ---------------------------------------------------------------------------------------

def in_view(user, view: View, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict:
    """The open cases in the view: {"mode": "points", cases, truncated} or {"mode": "clusters", clusters}."""
    now = now or timezone.now()
    actor = actor if actor is not None else actor_for(user)
    limit = MAX_POINTS if view.zoom >= POINTS_ZOOM else point_limit()
    by_grid = None
    if view.zoom <= GRID_ZOOM:
        by_grid = _grid_cells(code_counts(user, now=now, actor=actor), view)
        total = sum(cell[2] for cell in by_grid)
        if total > limit or total > cell_points() * len(by_grid):
            return _clusters_body(view, by_grid)
    cases = open_cases(user, actor).filter(location__bboverlaps=view.box).order_by()
    rows = _points(cases, now, limit + 1)
    if len(rows) <= limit or view.zoom >= POINTS_ZOOM:
        return {"mode": "points", "zoom": view.zoom, "truncated": len(rows) > limit, "count": min(len(rows), limit),
                "fields": ["id", "lon", "lat", "status", "flags"], "cases": rows[:limit]}
    return _clusters_body(view, by_grid if by_grid is not None else _point_cells(cases, view, now))


def _clusters_body(view: View, clusters: list[list]) -> dict:
    return {"mode": "clusters", "zoom": view.zoom, "count": sum(c[2] for c in clusters),
            "fields": ["lon", "lat", "count", "overdue", "supervised"], "clusters": clusters}


def _points(cases: QuerySet[Case], now: dt.datetime, limit: int) -> list[list]:
    late = ExpressionWrapper(overdue(now), output_field=BooleanField())
    rows = cases.annotate(lon=_x(), lat=_y(), late=late).values_list(
        "pk", "lon", "lat", "status", "late", "supervised", "priority")[:limit]
    return [
        [pk, round(lon, 6), round(lat, 6), status,
         (OVERDUE if is_late else 0) | (SUPERVISED if watched else 0) | (URGENT if priority == "urgent" else 0)]
        for pk, lon, lat, status, is_late, watched, priority in rows
    ]


def cell_size(view: View) -> tuple[float, float]:
    """Degrees of longitude and latitude spanning CELL_PX pixels at the view's zoom. Web Mercator stretches
    latitude by 1/cos(lat): taken at the whole degree nearest the view's middle, so panning within a city
    keeps the same cells."""
    width = 360 / 2 ** view.zoom * CELL_PX / 256
    middle = round((view.south + view.north) / 2)
    return width, width * math.cos(math.radians(middle))


def _grid_cells(counts: dict[str, list[int]], view: View) -> list[list]:
    """Clusters from per-grid counts, each grid's cases at its label point (cases not in a grid not drawn)."""
    width, height = cell_size(view)
    points = grid_points()
    cells: dict[tuple[int, int], list[float]] = {}
    for code, (n, late, watched) in counts.items():
        point = points.get(code)
        if point is None or not view.holds(*point):
            continue
        cell = cells.setdefault((math.floor(point[0] / width), math.floor(point[1] / height)), [0.0, 0.0, 0, 0, 0])
        cell[0] += point[0] * n
        cell[1] += point[1] * n
        cell[2] += n
        cell[3] += late
        cell[4] += watched
    return merged([[sx / n, sy / n, n, late, watched] for sx, sy, n, late, watched in cells.values()], view)


MERGE_CELLS = 0.75  # clusters closer than this many cells apart are drawn as one


def merged(clusters: list[list], view: View) -> list[list]:
    """Cases crowding near a shared edge of cells make neighbouring clusters whose bubbles overlap: biggest
    first, a cluster joins a kept one closer than MERGE_CELLS cells (counts added, position weighted)."""
    width, height = cell_size(view)
    kept: list[list[float]] = []  # anchor lon, lat; sums of lon, lat; count, overdue, supervised
    near: dict[tuple[int, int], list[int]] = {}
    for lon, lat, n, late, watched in sorted(clusters, key=lambda row: -row[2]):
        cx, cy = math.floor(lon / width), math.floor(lat / height)
        target = next((k for dx in (-1, 0, 1) for dy in (-1, 0, 1) for k in near.get((cx + dx, cy + dy), ())
                       if abs(kept[k][0] - lon) < MERGE_CELLS * width and abs(kept[k][1] - lat) < MERGE_CELLS * height),
                      None)
        if target is None:
            near.setdefault((cx, cy), []).append(len(kept))
            kept.append([lon, lat, lon * n, lat * n, n, late, watched])
        else:
            row = kept[target]
            row[2] += lon * n
            row[3] += lat * n
            row[4] += n
            row[5] += late
            row[6] += watched
    return [[round(sx / n, 5), round(sy / n, 5), n, late, watched] for _, _, sx, sy, n, late, watched in kept]


def _point_cells(cases: QuerySet[Case], view: View, now: dt.datetime) -> list[list]:
    width, height = cell_size(view)
    query = (
        cases.annotate(cx=Floor(_x() / Value(width)), cy=Floor(_y() / Value(height)))
        .values("cx", "cy")
        .annotate(n=Count("pk"), lon=Avg(_x()), lat=Avg(_y()), late=Count("pk", filter=overdue(now)),
                  watched=Count("pk", filter=Q(supervised=True)))
        .values_list("lon", "lat", "n", "late", "watched")
    )
    # The planner cannot guess how few cells there are and would sort every row on disk: room to hash them.
    with transaction.atomic(using=query.db), connections[query.db].cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '32MB'")
        rows = list(query)
    return merged([list(row) for row in rows], view)


# --- live counts -----------------------------------------------------------------------------------------

def start_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in Asia/Shanghai."""
    return dt.datetime.combine(now.astimezone(SHANGHAI).date(), dt.time.min, tzinfo=SHANGHAI)


def live_counts(user, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict:
    """Open, overdue and supervised cases now (from the per-code counts), and cases received today
    (Asia/Shanghai, any status)."""
    now = now or timezone.now()
    rows = code_counts(user, now=now, actor=actor).values()
    today = cases_for(user, actor).filter(received_at__gte=start_of_day(now)).count()
    return {"open": sum(r[0] for r in rows), "overdue": sum(r[1] for r in rows),
            "supervised": sum(r[2] for r in rows), "today_new": today,
            "as_of": timezone.localtime(now, SHANGHAI).isoformat()}
