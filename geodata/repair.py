"""Geometry repair for imported polygons, vectorised with shapely 2.

Every territorial geometry is stored as a valid MultiPolygon: invalid ones are repaired with
shapely.make_valid, keeping only the polygonal part, and each repair is reported with GEOS's reason and
the area change, so that a planner can judge whether the repair kept the intended shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod

_GEOD = Geod(ellps="WGS84")
_POLYGON = shapely.GeometryType.POLYGON.value


@dataclass(frozen=True)
class Repair:
    layer: str
    index: int
    code: str
    name: str
    reason: str  # shapely.is_valid_reason of the input
    area_before_m2: float
    area_after_m2: float

    @property
    def area_change_m2(self) -> float:
        return self.area_after_m2 - self.area_before_m2

    def __str__(self) -> str:
        change = self.area_change_m2
        share = f", {change / self.area_before_m2:+.2%}" if self.area_before_m2 else ""
        label = f"{self.code} {self.name}".strip()
        return (f"{self.layer} #{self.index} {label}: {self.reason}; area {self.area_before_m2:,.0f} → "
                f"{self.area_after_m2:,.0f} m² ({change:+,.0f} m²{share})")


def geodesic_area_m2(geom: shapely.Geometry) -> float:
    """Area on the WGS84 ellipsoid; for a self-intersecting ring, the area its outline encloses as drawn."""
    return abs(_GEOD.geometry_area_perimeter(geom)[0])


def promote(geoms: np.ndarray) -> np.ndarray:
    """Polygons become one-part MultiPolygons; MultiPolygons stay as they are (no copy)."""
    result = geoms.copy()
    single = np.flatnonzero(shapely.get_type_id(geoms) == _POLYGON)
    if len(single):
        result[single] = shapely.multipolygons(geoms[single].reshape(-1, 1))
    return result


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry as a MultiPolygon; None where nothing polygonal is left
    (e.g. a polygon that collapsed to a line)."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    # Collections (from make_valid) may hold MultiPolygons: flatten a second level.
    parts, inner = shapely.get_parts(parts, return_index=True)
    index = index[inner]
    keep = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    out = np.full(len(geoms), None, dtype=object)
    if keep.any():
        shapely.multipolygons(parts[keep], indices=index[keep], out=out)
    return out


def repair_polygons(
    layer: str, geoms: np.ndarray, codes: np.ndarray, names: np.ndarray
) -> tuple[np.ndarray, list[Repair], list[int]]:
    """Returns (valid MultiPolygons, the repairs made, positions that could not be repaired).

    `geoms` must hold only Polygons/MultiPolygons in lon/lat (type checks come before repair)."""
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    result = promote(geoms)
    if len(invalid):
        result[invalid] = _make_valid_polygonal(geoms[invalid])
    failed = [int(i) for i in invalid if result[i] is None]
    repairs = [
        _describe(layer, int(i), (str(codes[i]), str(names[i])), geoms[i], result[i])
        for i in invalid if result[i] is not None
    ]
    return result, repairs, failed


def _make_valid_polygonal(geoms: np.ndarray) -> np.ndarray:
    fixed = shapely.make_valid(geoms)
    polygonal = as_multipolygons(fixed)
    # Polygons extracted from a collection may touch along edges: union them into one valid shape.
    for i, geom in enumerate(polygonal):
        if geom is not None and not geom.is_valid:
            polygonal[i] = shapely.union_all(shapely.get_parts(geom))
    return polygonal


def _describe(
    layer: str, index: int, label: tuple[str, str], before: shapely.Geometry, after: shapely.Geometry
) -> Repair:
    return Repair(
        layer=layer,
        index=index,
        code=label[0],
        name=label[1],
        reason=shapely.is_valid_reason(before),
        area_before_m2=geodesic_area_m2(before),
        area_after_m2=geodesic_area_m2(after),
    )
