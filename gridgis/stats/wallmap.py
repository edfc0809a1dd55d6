"""Reads of the command centre's wall map (/wall/): the live (open) cases in view, each grid's open load, and
the live counts. Every read starts from cases_for, so a viewer never sees, counts or clusters a case outside
their scope.

Cases in view. A view is a bounding box and a zoom level. When the box holds few open cases (≤ POINT_LIMIT),
or the map is zoomed in to POINTS_ZOOM or beyond, the cases come as points; otherwise PostGIS aggregates them
into clusters on a fixed world grid of CELL_PX screen pixels at that zoom (cells do not move when the map
pans), each with its count, its overdue and supervised counts, and the mean position of its cases.

Why aggregates and not ST_AsMVT vector tiles: a cluster needs counts of its own (overdue, supervised) that a
tile of points would leave to the browser, Leaflet draws no vector tiles without a plugin we do not ship, and
tiles cut clusters at their edges. One GROUP BY per view over the partial GiST index of open cases
(migration stats/0001) answers the whole city in a few hundred bytes (see bench/wallmap.py for the figures).

Overdue means what the indicators (stats.selectors) say: flagged overdue, or past the deadline (a clock paused
for a pending extension only up to the pause). Cases without a location (not yet placed) are counted in the
live counts but cannot be drawn.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    ExpressionWrapper,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Floor, Length
from django.utils import timezone

from gridgis.cases.actors import Actor
from gridgis.cases.models import Case
from gridgis.cases.selectors import cases_for
from gridgis.cases.worktime import SHANGHAI

OPEN = Case.OPEN_STATUSES
CELL_PX = 80  # a cluster's cell, in screen pixels at the zoom asked for
POINTS_ZOOM = 17  # from here on always points: a screen at z17 is ~1.3 × 0.8 km
MAX_POINTS = 3000  # … but never more than this many (`truncated` says so)
GRID_CODE_LENGTH = 15

# Bits of a point's flags.
OVERDUE, SUPERVISED, URGENT = 1, 2, 4


def point_limit() -> int:
    """A view holding at most this many open cases is sent as points, whatever the zoom."""
    return int(settings.GRIDGIS.get("WALL_POINT_LIMIT", 800))


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


def open_cases(user, actor: Actor | None = None) -> QuerySet[Case]:
    """The live cases the user sees: open (neither closed nor voided), through cases_for."""
    return cases_for(user, actor).filter(status__in=OPEN)


def overdue(now: dt.datetime) -> Q:
    return Q(overdue=True) | Q(deadline__lt=Coalesce("deadline_paused_at", Value(now)))


def _x():
    return Func("location", function="ST_X", output_field=FloatField())


def _y():
    return Func("location", function="ST_Y", output_field=FloatField())


def in_view(user, view: View, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict:
    """The open cases in the view: {"mode": "points", cases, truncated} or {"mode": "clusters", clusters}."""
    now = now or timezone.now()
    cases = open_cases(user, actor).filter(location__bboverlaps=view.box).order_by()
    limit = MAX_POINTS if view.zoom >= POINTS_ZOOM else point_limit()
    rows = _points(cases, now, limit + 1)
    if len(rows) <= limit or view.zoom >= POINTS_ZOOM:
        return {"mode": "points", "zoom": view.zoom, "truncated": len(rows) > limit, "count": min(len(rows), limit),
                "fields": ["id", "lon", "lat", "status", "flags"], "cases": rows[:limit]}
    clusters = _clusters(cases, view, now)
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


def _clusters(cases: QuerySet[Case], view: View, now: dt.datetime) -> list[list]:
    width, height = cell_size(view)
    rows = (
        cases.annotate(cx=Floor(_x() / Value(width)), cy=Floor(_y() / Value(height)))
        .values("cx", "cy")
        .annotate(n=Count("pk"), lon=Avg(_x()), lat=Avg(_y()), late=Count("pk", filter=overdue(now)),
                  watched=Count("pk", filter=Q(supervised=True)))
        .values_list("lon", "lat", "n", "late", "watched")
    )
    return [[round(lon, 5), round(lat, 5), n, late, watched] for lon, lat, n, late, watched in rows]


def grid_loads(user, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict[str, list[int]]:
    """Per grid code: [open, overdue, supervised] cases, for the choropleth (grids without open cases left out)."""
    now = now or timezone.now()
    rows = (
        open_cases(user, actor).annotate(code_length=Length("territory_code"))
        .filter(code_length=GRID_CODE_LENGTH)
        .values("territory_code").order_by()
        .annotate(n=Count("pk"), late=Count("pk", filter=overdue(now)), watched=Count("pk", filter=Q(supervised=True)))
        .values_list("territory_code", "n", "late", "watched")
    )
    return {code: [n, late, watched] for code, n, late, watched in rows}


def start_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in Asia/Shanghai."""
    return dt.datetime.combine(now.astimezone(SHANGHAI).date(), dt.time.min, tzinfo=SHANGHAI)


def live_counts(user, *, now: dt.datetime | None = None, actor: Actor | None = None) -> dict:
    """Open, overdue and supervised cases now, and cases received today (Asia/Shanghai), in one query."""
    now = now or timezone.now()
    today = start_of_day(now)
    open_ = Q(status__in=OPEN)
    counts = cases_for(user, actor).filter(open_ | Q(received_at__gte=today)).aggregate(
        open=Count("pk", filter=open_),
        overdue=Count("pk", filter=open_ & overdue(now)),
        supervised=Count("pk", filter=open_ & Q(supervised=True)),
        today_new=Count("pk", filter=Q(received_at__gte=today)),
    )
    return {**counts, "as_of": timezone.localtime(now, SHANGHAI).isoformat()}
