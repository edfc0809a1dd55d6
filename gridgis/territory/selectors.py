"""Reads of the territory.

coverage_frames: communities, grids and buildings as GeoDataFrames for geodata.coverage — used by the
check_coverage command and by the importer after each import. One query per layer; geometries leave
PostGIS as WKB and become shapely geometries in one vectorised call (GEOS objects one by one through
GeoDjango cost more than the query for 25,000 buildings).
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from .models import Building, Community, Grid

WGS84 = "EPSG:4326"


def _frame(rows: QuerySet, columns: list[str]) -> gpd.GeoDataFrame:
    """A GeoDataFrame from a values_list whose last value is the geometry's WKB."""
    records = list(rows.annotate(wkb=AsWKB("geom")).values_list(*columns, "wkb"))
    geoms = shapely.from_wkb([bytes(r[-1]) if r[-1] is not None else None for r in records])
    data = {name: [r[i] for r in records] for i, name in enumerate(columns)}
    return gpd.GeoDataFrame(data, geometry=list(geoms), columns=columns, crs=WGS84)


def _communities(codes: list[str] | None) -> QuerySet:
    rows = Community.objects.order_by("code")
    return rows if codes is None else rows.filter(code__in=codes)


def _grids(codes: list[str] | None) -> QuerySet:
    rows = Grid.objects.order_by("code").annotate(community_code=F("community__code"))
    return rows if codes is None else rows.filter(community__code__in=codes)


def _buildings(codes: list[str] | None) -> QuerySet:
    rows = Building.objects.order_by("code").annotate(grid_code=F("grid__code"))
    if codes is None:
        return rows
    # Buildings of the communities' grids, and unassigned ones lying in those communities.
    lying_in = Community.objects.filter(code__in=codes, geom__intersects=OuterRef("geom"))
    return rows.filter(Q(grid__community__code__in=codes) | Q(grid__isnull=True) & Exists(lying_in))


def coverage_frames(
    community_codes: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(communities, grids, buildings) of those communities (all when None), in EPSG:4326:
    communities: code, name; grids: code, name, community_code; buildings: code, address, grid_code
    (None when unassigned); each with its geometry."""
    codes = None if community_codes is None else list(community_codes)
    return (
        _frame(_communities(codes), ["code", "name"]),
        _frame(_grids(codes), ["code", "name", "community_code"]),
        _frame(_buildings(codes), ["code", "address", "grid_code"]),
    )
