"""Balanced recursive bisection: a polygon into k contiguous parts of nearly equal population.

Each cut is a straight line through the weighted quantile of density samples, laid across the part's
long axis. In town it snaps to the city's two main road directions (a street lattice, as in Anshan's
centre); out in the hills it follows the lie of the land. Every cut may become a road, so streets,
communities and grids end up bounded by roads, as they are in a real city.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from .outline import polygonal_part

PRECISION_M = 0.01  # every overlay snaps to this grid, so both sides of a cut share identical edges
SAMPLES_PER_PART = 900
ORGANIC_BEYOND_M = 6500.0  # farther from the centre than this, cuts follow the land, not the lattice
MIN_SHARE = 0.02  # a cut leaving less than this share of the area on one side is no cut
# Grids balance households (density¹); streets and communities balance something between households
# and land, as real ones do: a street in the hills is larger, but not twenty times larger.
LEVEL_WEIGHT_POWER = {0: 0.75, 1: 0.9, 2: 1.0}
ANGLE_TRIES_DEG = (0, 12, -12, 25, -25, 90, 70, 110, 45, -45)


@dataclass(frozen=True)
class Cut:
    line: LineString  # the straight cut across its part, running W→E or N→S: house numbers follow it
    shared: BaseGeometry  # where the two halves meet: the road, if the cut becomes one
    level: int  # 0: between streets, 1: between communities, 2: between grids


class Splitter:
    """Splits polygons into k parts of equal weight and records each cut."""

    def __init__(self, density: Callable, core_distance: Callable, rng: np.random.Generator,
                 lattice_angle: float):
        self.density = density
        self.core_distance = core_distance
        self.rng = rng
        self.lattice_angle = lattice_angle
        self.cuts: list[Cut] = []

    def split(self, poly: BaseGeometry, k: int, level: int) -> list[BaseGeometry]:
        if k <= 1:
            return [poly]
        k_first = k // 2
        first, second = self._bisect(poly, k_first / k, level)
        return self.split(first, k_first, level) + self.split(second, k - k_first, level)

    def _bisect(self, poly: BaseGeometry, fraction: float, level: int) -> tuple[BaseGeometry, BaseGeometry]:
        """Streets and communities get the most compact of all candidate cuts; grids, being many,
        the first clean one (the long-axis cut, which is usually compact enough)."""
        x, y = sample_points(poly)
        weights = self.density(x, y) ** LEVEL_WEIGHT_POWER[min(level, 2)]
        in_town = self.core_distance(poly.centroid.x, poly.centroid.y) < ORGANIC_BEYOND_M
        best: tuple[float, tuple] | None = None
        for angle, off_lattice in self._candidate_angles(poly, in_town):
            halves = halve(poly, x, y, weights, fraction, angle)
            if halves is None:
                continue
            stray = stray_area(halves[0]) + stray_area(halves[1])
            cost = (1 + 10 * stray / poly.area) * (1.1 if off_lattice and in_town else 1.0)
            if level < 2:
                cost *= max(roundness(halves[0]), roundness(halves[1]))
            if best is None or cost < best[0]:
                best = (cost, halves)
            if stray == 0 and level >= 2:
                break
        if best is None:
            raise RuntimeError(f"cannot split a part of {poly.area:.0f} m²")
        first, second, line = best[1]
        first, second = reunite_strays(first, second)
        self.cuts.append(Cut(line, shared_edge(first, second), level))
        return first, second

    def _candidate_angles(self, poly: BaseGeometry, in_town: bool) -> list[tuple[float, bool]]:
        """Directions of the cut's normal, each with whether it leaves the street lattice: the long
        axis first, so parts stay compact."""
        axis = long_axis_angle(poly)
        if in_town:
            axis = snap_to_lattice(axis, self.lattice_angle) + self.rng.normal(0.0, math.radians(1.5))
        else:
            axis += self.rng.uniform(-math.radians(20), math.radians(20))
        return [(axis + math.radians(d), d % 90 != 0) for d in ANGLE_TRIES_DEG]


def sample_points(poly: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """A regular sample of points inside the polygon, dense enough to weigh it."""
    shapely.prepare(poly)
    minx, miny, maxx, maxy = poly.bounds
    spacing = math.sqrt(poly.area / SAMPLES_PER_PART)
    while True:
        gx, gy = np.meshgrid(np.arange(minx + spacing / 2, maxx, spacing),
                             np.arange(miny + spacing / 2, maxy, spacing))
        gx, gy = gx.ravel(), gy.ravel()
        inside = shapely.contains_xy(poly, gx, gy)
        if inside.sum() >= 60 or spacing < 0.5:
            return gx[inside], gy[inside]
        spacing /= 2


def long_axis_angle(poly: BaseGeometry) -> float:
    corners = shapely.get_coordinates(shapely.minimum_rotated_rectangle(poly))
    edge_a, edge_b = corners[1] - corners[0], corners[2] - corners[1]
    longer = edge_a if np.hypot(*edge_a) >= np.hypot(*edge_b) else edge_b
    return math.atan2(longer[1], longer[0])


def snap_to_lattice(angle: float, lattice: float) -> float:
    """The lattice direction (lattice + n·90°) closest to `angle`, as lines (modulo 180°)."""
    options = [lattice + n * math.pi / 2 for n in range(-4, 5)]
    return min(options, key=lambda a: abs(math.remainder(angle - a, math.pi)))


def halve(poly, x, y, weights, fraction, angle):
    """Cuts `poly` by the line normal to `angle` that leaves `fraction` of the weight on its near
    side. Returns (near, far, straight line) or None when one side would be a sliver."""
    nx, ny = math.cos(angle), math.sin(angle)
    minx, miny, maxx, maxy = poly.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    reach = math.hypot(maxx - minx, maxy - miny)
    along = (x - cx) * nx + (y - cy) * ny
    order = np.argsort(along, kind="stable")
    cumulative = np.cumsum(weights[order])
    at = min(int(np.searchsorted(cumulative, fraction * cumulative[-1])), len(order) - 1)
    offset = float(along[order][at])

    def point(u: float, t: float) -> tuple[float, float]:
        return cx + u * nx - t * ny, cy + u * ny + t * nx

    near_side = Polygon([point(offset - 2 * reach, -reach), point(offset, -reach),
                         point(offset, reach), point(offset - 2 * reach, reach)])
    near = polygonal_part(shapely.intersection(poly, near_side, grid_size=PRECISION_M))
    far = polygonal_part(shapely.difference(poly, near_side, grid_size=PRECISION_M))
    if near.is_empty or far.is_empty or min(near.area, far.area) < MIN_SHARE * poly.area:
        return None
    line = shapely.clip_by_rect(LineString([point(offset, -reach), point(offset, reach)]), *poly.bounds)
    return near, far, oriented(line)


def oriented(line: LineString) -> LineString:
    """West→east for lines running mostly east-west, north→south for the others."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    if abs(x1 - x0) >= abs(y1 - y0):
        return line if x0 <= x1 else line.reverse()
    return line if y0 >= y1 else line.reverse()


def roundness(geom: BaseGeometry) -> float:
    """Perimeter² / (4π·area): 1 for a disc, 1.27 for a square, large for a sliver."""
    return geom.length**2 / (4 * math.pi * geom.area)


def stray_area(geom: BaseGeometry) -> float:
    """Area outside the largest part: zero for a single polygon."""
    areas = shapely.area(shapely.get_parts(geom))
    return float(areas.sum() - areas.max()) if len(areas) > 1 else 0.0


def main_part(geom: BaseGeometry) -> tuple[BaseGeometry, list[BaseGeometry]]:
    parts = list(shapely.get_parts(geom))
    if len(parts) <= 1:
        return geom, []
    parts.sort(key=lambda p: -p.area)
    return parts[0], parts[1:]


def reunite_strays(first: BaseGeometry, second: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """A straight cut through a concave part can leave pieces of one side cut off from the rest;
    every such piece borders the other side along the cut, so it joins that side."""
    first, strays = main_part(first)
    if strays:
        second = shapely.union_all([second, *strays], grid_size=PRECISION_M)
    second, strays = main_part(second)
    if strays:
        first = shapely.union_all([first, *strays], grid_size=PRECISION_M)
    return first, second


def shared_edge(first: BaseGeometry, second: BaseGeometry) -> BaseGeometry:
    common = shapely.intersection(first.boundary, second.boundary, grid_size=PRECISION_M)
    lines = [p for p in shapely.get_parts(common) if p.geom_type == "LineString"]
    return shapely.line_merge(shapely.multilinestrings(lines)) if lines else LineString()
