"""Geometry helpers of the grid editor: measuring in metres, polygon parts, shared borders, cleaning drawn
outlines.

Overlays run in the CRS the shapes are stored in (WGS84 for the platform, metres in tests), so an edge two
grids share stays the same straight segment on both sides (see geodata.coverage); only measurements
(areas, widths, border lengths) are made in a local equal-area projection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from .errors import EditError

_POLYGON = 3
_NESTED = (4, 5, 6, 7)
EMPTY = shapely.Polygon()
# Densify before projecting areas (coverage.MEASURE_STEP_DEG): a straight lon/lat edge is a curve in LAEA.
_STEP_DEG = 1e-4


class Ruler:
    """Measures shapes in metres. `crs=None`: the shapes are already in metres (tests, partition output)."""

    def __init__(self, centre: tuple[float, float] | None = None):
        self.metric = centre is None
        if self.metric:
            self._transformer = None
            self.eps = 1e-3  # 1 mm: what counts as "on" a border
        else:
            self._transformer = _laea(round(centre[0], 3), round(centre[1], 3))
            self.eps = 1e-8  # ~1 mm in degrees

    @classmethod
    def for_shape(cls, geom: BaseGeometry, *, wgs84: bool = True) -> Ruler:
        if not wgs84:
            return cls(None)
        c = geom.centroid
        return cls((c.x, c.y))

    def project(self, geom):
        if self.metric:
            return geom
        return shapely.transform(geom, self._xy)

    def unproject(self, geom):
        """From the local metres back to the storage CRS (for shapes made in metres, e.g. partitions)."""
        if self.metric:
            return geom
        return shapely.transform(geom, lambda xy: np.column_stack(
            self._transformer.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))

    def area(self, geom) -> float:
        if geom is None or geom.is_empty:
            return 0.0
        if self.metric:
            return float(geom.area)
        return float(shapely.area(self.project(shapely.segmentize(geom, _STEP_DEG))))

    def length(self, geom) -> float:
        if geom is None or geom.is_empty:
            return 0.0
        return float(shapely.length(self.project(geom)))

    def narrower_than(self, geom, width_m: float) -> bool:
        """True when no disc of diameter `width_m` fits inside (the shape vanishes when eroded by half)."""
        if width_m <= 0:
            return False
        return bool(shapely.buffer(self.project(geom), -width_m / 2, quad_segs=2).is_empty)

    def _xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(self._transformer.transform(coords[:, 0], coords[:, 1]))


@lru_cache(maxsize=64)
def _laea(lon: float, lat: float) -> Transformer:
    """WGS84 ↔ LAEA centred on (lon, lat), as an explicit pipeline: the same operation Transformer.from_crs
    finds, without its search of PROJ's database (tens of ms per call, per preview)."""
    pipeline = (f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
                f"+step +proj=laea +lat_0={lat} +lon_0={lon} +ellps=WGS84")
    return Transformer.from_pipeline(pipeline)


def parts(geom) -> list[BaseGeometry]:
    """The non-empty polygons in `geom` (collections flattened; lines and points dropped)."""
    if geom is None or geom.is_empty:
        return []
    found = np.array([geom], dtype=object)
    while np.isin(shapely.get_type_id(found), _NESTED).any():
        found = shapely.get_parts(found)
    return [p for p in found if shapely.get_type_id(p) == _POLYGON and not p.is_empty]


def polygonal(geom) -> BaseGeometry:
    """The polygonal part of an overlay result, as one geometry (EMPTY if none)."""
    found = parts(geom)
    if not found:
        return EMPTY
    return found[0] if len(found) == 1 else shapely.MultiPolygon(found)


def union(geoms) -> BaseGeometry:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    return polygonal(shapely.union_all(geoms)) if geoms else EMPTY


def shared_border(a, b, ruler: Ruler) -> float:
    """Length in metres of the border `a` and `b` share (robust to vertices a hair apart)."""
    if a.is_empty or b.is_empty or not a.intersects(b.buffer(ruler.eps * 10, quad_segs=1)):
        return 0.0
    line = shapely.intersection(a.boundary, b.buffer(ruler.eps, quad_segs=1))
    return ruler.length(line)


@dataclass(frozen=True)
class Cleaned:
    geom: BaseGeometry
    repair: str = ""  # what make_valid did, for the preview's `repairs`


_SPOT = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]")
# A repair is unambiguous when one part of make_valid's result holds nearly all of the area drawn: a tiny
# loop at a vertex, a spike. Two lobes of a figure eight are a question only the planner can answer.
_KEEP_SHARE = 0.95


def clean_outline(geom: BaseGeometry | None, field: str, ruler: Ruler) -> Cleaned:
    """A drawn outline made usable, or EditError naming `field` (with the spot of a bad self-intersection)."""
    if geom is None or geom.is_empty or shapely.get_type_id(geom) not in (_POLYGON, 6):
        raise EditError(field, "必须是多边形（GeoJSON Polygon）")
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    if geom.is_valid:
        return Cleaned(geom)
    reason = shapely.is_valid_reason(geom)
    found = parts(shapely.make_valid(geom))
    areas = [ruler.area(p) for p in found]
    total = sum(areas)
    if total > 0:
        best = int(np.argmax(areas))
        if areas[best] >= _KEEP_SHARE * total:
            dropped = total - areas[best]
            return Cleaned(found[best], f"{field}: 轮廓自相交（{reason}），已自动修复，去掉 {dropped:,.1f} m² 的小环")
    match = _SPOT.search(reason)
    spot = shapely.Point(float(match.group(1)), float(match.group(2))) if match else None
    raise EditError(field, f"轮廓自相交，无法确定应保留哪一部分，请在标出的位置修改（{reason}）", spot=spot)
