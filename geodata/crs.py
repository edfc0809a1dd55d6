"""Coordinate reference systems of imported files: which one applies, whether the coordinates are
plausible for it, and reprojection to WGS84 (EPSG:4326), the storage CRS.

CGCS2000 geographic (EPSG:4490) differs from WGS84 by centimetres: it is relabelled, not transformed.
Survey data arrives in CGCS2000 Gauss-Krüger zones (EPSG:4491–4554); pyproj handles all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84 = CRS.from_epsg(4326)
# Geographic CRSs taken as equal to WGS84 at the scale of a city (product.md "Places and coordinates").
SAME_AS_WGS84 = {4326, 4490}
# Projected data more than this far (degrees) outside its CRS's area of use is declared wrongly.
AREA_OF_USE_MARGIN_DEG = 3.0


class CRSProblem(ValueError):
    """A CRS that cannot be used (unknown code, not 2D, …); the message says why."""


@dataclass(frozen=True)
class Implausible:
    index: int  # position of the feature in its layer
    reason: str


@lru_cache(maxsize=32)
def _to_lonlat(crs: CRS) -> Transformer:
    # Building a transformer searches PROJ's database (~0.1 s): once per CRS is enough.
    return Transformer.from_crs(crs, WGS84, always_xy=True)


def parse_crs(text: str) -> CRS:
    """`EPSG:4550`, `4550`, or anything else pyproj understands."""
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise CRSProblem(f"unknown CRS {text!r}: {exc}") from exc


def resolve_crs(declared: str | CRS | None, override: str | CRS | None = None) -> CRS:
    """The CRS a layer's coordinates are in: the override, else what the file declares, else WGS84
    (GeoJSON without a declared CRS is WGS84 by RFC 7946)."""
    chosen = override if override is not None else declared
    if chosen is None or chosen == "":
        return WGS84
    return chosen if isinstance(chosen, CRS) else parse_crs(str(chosen))


def is_wgs84_equivalent(crs: CRS) -> bool:
    epsg = crs.to_epsg()
    if epsg in SAME_AS_WGS84:
        return True
    # OGC:CRS84 (lon/lat WGS84) has no EPSG code of its own.
    return crs.is_geographic and crs.equals(WGS84, ignore_axis_order=True)


def label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def implausible_features(geoms: np.ndarray, crs: CRS) -> list[Implausible]:
    """Features whose coordinates cannot be in `crs`: degrees out of range, or projected coordinates
    that land far outside the CRS's area of use (a projected file declared as degrees, a zone-prefixed
    easting declared in a CRS without the prefix, …)."""
    if len(geoms) == 0:
        return []
    bounds = shapely.bounds(geoms)  # NaN rows for empty/null geometries: reported elsewhere
    if crs.is_geographic:
        return _out_of_degree_range(bounds, crs)
    return _outside_area_of_use(bounds, crs)


def _out_of_degree_range(bounds: np.ndarray, crs: CRS) -> list[Implausible]:
    xmin, ymin, xmax, ymax = bounds.T
    with np.errstate(invalid="ignore"):
        bad = (xmin < -180) | (xmax > 180) | (ymin < -90) | (ymax > 90)
    return [
        Implausible(int(i), f"coordinates ({bounds[i][0]:.6g}, {bounds[i][1]:.6g}) are not degrees: "
                            f"longitude must lie in ±180 and latitude in ±90 for {label(crs)} "
                            "(a projected file declared as degrees? use --crs)")
        for i in np.flatnonzero(bad)
    ]


def _outside_area_of_use(bounds: np.ndarray, crs: CRS) -> list[Implausible]:
    area = crs.area_of_use
    lon, lat = _to_lonlat(crs).transform((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if area is None:
        outside = ~np.isfinite(lon) | ~np.isfinite(lat)
    else:
        m = AREA_OF_USE_MARGIN_DEG
        with np.errstate(invalid="ignore"):
            inside = (lon >= area.west - m) & (lon <= area.east + m) & (lat >= area.south - m) & (
                lat <= area.north + m)
        outside = ~inside & ~np.isnan(bounds[:, 0])
    return [Implausible(int(i), _outside_reason(bounds[i], lon[i], lat[i], crs)) for i in np.flatnonzero(outside)]


def _outside_reason(bounds: np.ndarray, lon: float, lat: float, crs: CRS) -> str:
    area = crs.area_of_use
    where = f"lands at lon {lon:.3f}, lat {lat:.3f}" if np.isfinite(lon) and np.isfinite(lat) else (
        "cannot be transformed")
    use = f"; {label(crs)} is used within lon {area.west}…{area.east}, lat {area.south}…{area.north}" if area else ""
    return (f"coordinates ({bounds[0]:.6g}, {bounds[1]:.6g}) {where}{use} "
            "(wrong CRS declared? use --crs)")


def to_wgs84(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Reprojects shapely geometries (vectorised) to WGS84 lon/lat."""
    if is_wgs84_equivalent(crs):
        return geoms
    transformer = _to_lonlat(crs)
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
