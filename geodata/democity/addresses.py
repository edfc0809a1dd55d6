"""Standard addresses (GB/T 37149) for the buildings: road, house number (门牌号), building number
(楼牌号).

Each building fronts its nearest road. Buildings of one grid on one side of a road, close together
along it, form a compound that shares a house number; house numbers grow along the road from its
start (west or north end), odd on the left, even on the right (左单右双), with gaps where the road
runs on without a gate. Inside a compound, buildings are numbered row by row from the road.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

COMPOUND_SPAN_M = 160.0  # a compound's buildings lie within this stretch of the road
COMPOUND_MAX = 12
METRES_PER_NUMBER = 40.0  # house numbers advance about this much per number on each side


@dataclass(frozen=True)
class Road:
    name: str
    line: LineString  # straight, from the road's start (W or N end)
    geom: BaseGeometry  # where it runs (the edge between the parts it separates)
    half_width: float


def address_numbers(centres: np.ndarray, grid_index: np.ndarray, roads: list[Road]) -> pd.DataFrame:
    """Per building (metric centre points): road index, house number and building number."""
    fronting = nearest_road(centres, roads)
    lines = np.asarray([roads[r].line for r in fronting], dtype=object)
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    frame = pd.DataFrame({
        "road": fronting,
        "grid": grid_index,
        "left": side_of(starts, ends, centres),
        "along": shapely.line_locate_point(lines, centres),
        "depth": shapely.distance(np.asarray([roads[r].geom for r in fronting], dtype=object), centres),
    })
    frame["compound"] = compounds(frame)
    frame["house_number"] = house_numbers(frame)
    frame["building_number"] = building_numbers(frame)
    return frame[["road", "house_number", "building_number"]]


def nearest_road(centres: np.ndarray, roads: list[Road]) -> np.ndarray:
    tree = shapely.STRtree(np.asarray([r.geom for r in roads], dtype=object))
    source, target = tree.query_nearest(centres, all_matches=False)
    fronting = np.empty(len(centres), dtype=int)
    fronting[source] = target
    return fronting


def side_of(starts: np.ndarray, ends: np.ndarray, points: np.ndarray) -> np.ndarray:
    """True where the point lies left of the road, facing from its start to its end."""
    sx, sy = shapely.get_x(starts), shapely.get_y(starts)
    ex, ey = shapely.get_x(ends), shapely.get_y(ends)
    px, py = shapely.get_x(points), shapely.get_y(points)
    return (ex - sx) * (py - sy) - (ey - sy) * (px - sx) > 0


def compounds(frame: pd.DataFrame) -> np.ndarray:
    """Compound ids: runs of buildings of one grid, one road side, within a stretch of the road."""
    ordered = frame.sort_values(["road", "left", "grid", "along"], kind="stable")
    ids = np.empty(len(frame), dtype=int)
    current, start, size, key = -1, 0.0, 0, None
    for row, road, left, grid, along in zip(ordered.index, ordered["road"], ordered["left"], ordered["grid"],
                                            ordered["along"], strict=True):
        if (road, left, grid) != key or along - start > COMPOUND_SPAN_M or size >= COMPOUND_MAX:
            current, start, size, key = current + 1, along, 0, (road, left, grid)
        ids[row] = current
        size += 1
    return ids


def house_numbers(frame: pd.DataFrame) -> pd.Series:
    """One number per compound, increasing along each road side, odd left, even right."""
    per_compound = frame.groupby("compound").agg(road=("road", "first"), left=("left", "first"),
                                                 along=("along", "mean"))
    numbers = {}
    for (_road, left), group in per_compound.sort_values("along", kind="stable").groupby(["road", "left"]):
        parity = 1 if left else 2
        previous = parity - 2
        for compound, along in zip(group.index, group["along"], strict=True):
            by_distance = 2 * int(along // METRES_PER_NUMBER) + parity
            previous = max(previous + 2, by_distance)
            numbers[compound] = previous
    return frame["compound"].map(numbers)


def building_numbers(frame: pd.DataFrame) -> pd.Series:
    """1, 2, 3 … inside each compound: the row nearest the road first, then along the road."""
    ordered = frame.assign(row=(frame["depth"] // 15).astype(int)).sort_values(
        ["compound", "row", "along"], kind="stable")
    numbers = ordered.groupby("compound").cumcount() + 1
    return numbers.reindex(frame.index)
