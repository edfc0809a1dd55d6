"""Where the demo city lies: the real outline of 铁东区, the metric CRS it is built in, and a
population density field (a dense old centre by the railway station, thinning out to the hills)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:4550"  # CGCS2000 / 3-degree Gauss-Krüger CM 123°E: Anshan sits on its meridian
DISTRICT_CODE = "210302"
DEFAULT_OUTLINE = Path(__file__).resolve().parents[2] / "fixtures" / "anshan_districts.geojson"

# (lon, lat, peak, radius in metres): the station area, the 新兴/东长甸 side, a town in the hills.
DENSITY_CENTRES = (
    (122.998, 41.101, 1.0, 3300.0),
    (123.040, 41.076, 0.4, 2300.0),
    (123.130, 41.028, 0.12, 1600.0),
)
DENSITY_FLOOR = 0.045  # villages and hills: thin, never empty


def load_district_outline(path: Path = DEFAULT_OUTLINE, adcode: str = DISTRICT_CODE) -> tuple[str, BaseGeometry]:
    """The district's name and polygon in WGS84, repaired: published outlines may self-touch."""
    frame = gpd.read_file(path)
    match = frame[frame["adcode"].astype(str) == adcode]
    if match.empty:
        raise ValueError(f"{path} has no district with adcode {adcode}")
    return str(match["name"].iloc[0]), polygonal_part(shapely.make_valid(match.geometry.iloc[0]))


def polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    """make_valid may return lines and points beside the polygons; only the polygons are area."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


class Projection:
    """Metres for building the city, degrees for handing it over."""

    def __init__(self) -> None:
        self.to_metric = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
        self.to_wgs84 = Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)

    def metric(self, geoms):
        return shapely.transform(geoms, lambda xy: _apply(self.to_metric, xy))

    def wgs84(self, geoms):
        return shapely.transform(geoms, lambda xy: _apply(self.to_wgs84, xy))

    def metric_point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.to_metric.transform(lon, lat)
        return float(x), float(y)


def _apply(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


class DensityField:
    """Relative population density (peak 1 + floor) at metric coordinates."""

    def __init__(self, projection: Projection):
        self.centres = [(*projection.metric_point(lon, lat), peak, radius)
                        for lon, lat, peak, radius in DENSITY_CENTRES]
        self.core = self.centres[0][:2]
        self.peak = 1.0 + DENSITY_FLOOR

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        density = np.full(np.shape(x), DENSITY_FLOOR)
        for cx, cy, peak, radius in self.centres:
            density = density + peak * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / radius**2)
        return density

    def distance_to_core(self, x: float, y: float) -> float:
        return float(np.hypot(x - self.core[0], y - self.core[1]))
