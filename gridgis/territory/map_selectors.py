"""Reads for the territory map and its API: each level as GeoJSON-ready rows, always inside the caller's
territorial scope (gridgis.workforce.selectors).

Geometries leave the database already written as GeoJSON (ST_AsGeoJSON, rounded to ~0.1 m), optionally
simplified first: building GEOS objects in Python for hundreds of polygons costs more than the query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.aggregates import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON, GeoFunc
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from gridgis.workforce.models import GridAssignment
from gridgis.workforce.selectors import EVERYTHING, in_scope, scope_prefixes

from .models import Building, Community, District, Grid, Street

# 6 decimals of a degree is ~0.1 m: finer digits only make the payload bigger.
COORDINATE_DECIMALS = 6

DIVISIONS = {"district": District, "street": Street, "community": Community, "grid": Grid}


class SimplifyPreserveTopology(GeoFunc):
    """ST_SimplifyPreserveTopology: never collapses a polygon or makes it invalid, unlike ST_Simplify. It
    returns a single-part MultiPolygon as a Polygon, so ST_Multi keeps the API's geometry type stable."""

    function = "ST_SimplifyPreserveTopology"
    template = "ST_Multi(%(function)s(%(expressions)s))"
    output_field = GeometryField(srid=4326)


def _geojson(tolerance: float | None) -> AsGeoJSON:
    geom = F("geom")
    if tolerance:
        geom = SimplifyPreserveTopology(geom, Value(tolerance, output_field=FloatField()))
    return AsGeoJSON(geom, precision=COORDINATE_DECIMALS)


def primary_worker_name() -> Subquery:
    """The name of a grid's primary worker, for annotating grid rows."""
    primary = GridAssignment.objects.filter(grid=OuterRef("pk"), role=GridAssignment.Role.PRIMARY)
    return Subquery(primary.values("worker__name")[:1])


def divisions(level: str, *, user, within: str = "", tolerance: float | None = None) -> QuerySet:
    """Polygons of one level (district, street, community, grid) that `user` may see, optionally only those
    under the territory code `within`, with `geojson` (simplified by `tolerance` degrees) and `parent_code`."""
    model = DIVISIONS[level]
    rows = (
        model.objects.filter(in_scope(scope_prefixes(user)))
        .annotate(geojson=_geojson(tolerance))
        .defer("geom", "updated_at")
        .order_by("code")
    )
    if model.PARENT_FIELD:
        rows = rows.annotate(parent_code=F(f"{model.PARENT_FIELD}__code"))
    if level == "grid":
        rows = rows.annotate(primary_worker=primary_worker_name())
    if within:
        rows = rows.filter(code__startswith=within)
    return rows


def grid_with_workers(*, user) -> QuerySet:
    """Grids `user` may see, each with its assignments and workers' names (for a detail view)."""
    primary_first = Case(When(role=GridAssignment.Role.PRIMARY, then=0), default=1)
    assignments = (
        GridAssignment.objects.select_related("worker").only("role", "grid_id", "worker__name")
        .order_by(primary_first, "worker__name")
    )
    return divisions("grid", user=user).prefetch_related(Prefetch("assignments", queryset=assignments))


def _buildings_scope(prefixes: tuple[str, ...]) -> Q:
    condition = in_scope(prefixes, field="grid__code", with_ancestors=False)
    if prefixes == EVERYTHING:
        # A building outside every grid belongs to no one's territory but the whole city's.
        condition |= Q(grid__isnull=True)
    return condition


def buildings(*, user, within: str = "") -> QuerySet:
    """Buildings in `user`'s scope (optionally under the territory code `within`), with `geojson` and
    `grid_code`."""
    rows = (
        Building.objects.filter(_buildings_scope(scope_prefixes(user)))
        .annotate(geojson=_geojson(None), grid_code=F("grid__code"))
        .defer("geom", "updated_at", "road", "house_number", "building_number")
        .order_by("code")
    )
    if within:
        rows = rows.filter(grid__code__startswith=within)
    return rows


@dataclass(frozen=True)
class TerritorySummary:
    """What the side panel shows: counts per level, the streets with theirs, and the data's age."""

    districts: int
    streets: int
    communities: int
    grids: int
    buildings: int
    households: int
    street_rows: list
    updated_at: object


def territory_summary(*, user) -> TerritorySummary:
    prefixes = scope_prefixes(user)
    grids = Grid.objects.filter(in_scope(prefixes))
    totals = grids.aggregate(n=Count("pk"), households=Sum("households"), updated=Max("updated_at"))
    street_rows = list(
        Street.objects.filter(in_scope(prefixes))
        .annotate(
            n_communities=Count("communities", filter=in_scope(prefixes, field="communities__code"),
                                distinct=True),
            n_grids=Count("communities__grids", filter=in_scope(prefixes, field="communities__grids__code")),
        )
        .values("code", "name", "n_communities", "n_grids")
        .order_by("code")
    )
    return TerritorySummary(
        districts=District.objects.filter(in_scope(prefixes)).count(),
        streets=len(street_rows),
        communities=Community.objects.filter(in_scope(prefixes)).count(),
        grids=totals["n"],
        buildings=Building.objects.filter(_buildings_scope(prefixes)).count(),
        households=totals["households"] or 0,
        street_rows=street_rows,
        updated_at=totals["updated"],
    )


def territory_centre() -> tuple[float, float] | None:
    """The centre of all districts' extent (lon, lat), where an empty map should open; None with no data."""
    extent = District.objects.aggregate(extent=Extent("geom"))["extent"]
    if extent is None:
        return None
    minx, miny, maxx, maxy = extent
    return (minx + maxx) / 2, (miny + maxy) / 2
