"""Checking the input and cutting the problem into islands of units.

A unit is what may not be split: a building, or several whose footprints overlap (they can only go to
the same grid, or one of them would be cut). A MultiPolygon outline falls apart into islands; a grid
never spans two of them, so each island gets its own share of the n grids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

OVERLAP_M2 = 1e-6  # footprints sharing more area than this overlap; sharing a wall is touching


@dataclass
class Island:
    polygon: Polygon
    footprints: np.ndarray  # one footprint per unit, clipped to the island
    households: np.ndarray  # per unit
    members: list[np.ndarray]  # per unit, the indices of its buildings in the caller's list
    grids: int = 0  # how many grids this island gets


def check_outline(outline) -> list[Polygon]:
    if not isinstance(outline, Polygon | MultiPolygon):
        raise ValueError(f"outline must be a shapely Polygon or MultiPolygon, not {type(outline).__name__}")
    if not outline.is_valid:
        raise ValueError(f"outline is not a valid polygon: {shapely.is_valid_reason(outline)}")
    if outline.is_empty or outline.area <= 0:
        raise ValueError("outline is empty")
    return [p for p in shapely.get_parts(outline) if p.area > 0]


def check_buildings(buildings) -> tuple[np.ndarray, np.ndarray]:
    footprints, households = [], []
    for i, item in enumerate(buildings):
        try:
            footprint, count = item
        except (TypeError, ValueError):
            raise ValueError(f"building {i} must be a (footprint, households) pair") from None
        if not isinstance(footprint, Polygon | MultiPolygon) or footprint.is_empty:
            raise ValueError(f"building {i}: footprint must be a non-empty shapely Polygon")
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ValueError(f"building {i}: households must be an integer ≥ 0, not {count!r}")
        footprints.append(footprint)
        households.append(int(count))
    footprints = np.array(footprints, dtype=object)
    invalid = ~shapely.is_valid(footprints)
    footprints[invalid] = [_polygonal(shapely.make_valid(f)) for f in footprints[invalid]]
    return footprints, np.array(households, dtype=np.int64)


def check_n(n, buildings: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise ValueError(f"n must be an integer, not {n!r}")
    if not 1 <= n <= buildings:
        raise ValueError(f"n must be between 1 and the number of buildings ({buildings}), not {n}")


def islands_of(parts: list[Polygon], footprints: np.ndarray, households: np.ndarray) -> list[Island]:
    """Each building goes to the island holding most of it, clipped to it; overlapping ones are merged."""
    parts = np.asarray(parts, dtype=object)
    shapely.prepare(parts)
    building_index, part_index = shapely.STRtree(parts).query(footprints, predicate="intersects")
    # most footprints lie wholly inside one island: only the others need the (slow) intersection
    area = shapely.area(footprints[building_index])
    partly = ~shapely.covers(parts[part_index], footprints[building_index])
    area[partly] = shapely.area(shapely.intersection(footprints[building_index[partly]], parts[part_index[partly]]))
    best = np.full(len(footprints), -1)
    best_area = np.zeros(len(footprints))
    for b, p, a in zip(building_index, part_index, area, strict=True):
        if a > best_area[b]:
            best[b], best_area[b] = p, a
    outside = np.flatnonzero(best < 0)
    if len(outside):
        raise ValueError(f"building {int(outside[0])} lies outside the outline ({len(outside)} buildings do)")
    islands = []
    for p, polygon in enumerate(parts):
        mine = np.flatnonzero(best == p)
        clipped = footprints[mine]
        crossing = ~shapely.covers(polygon, clipped)
        clipped[crossing] = [_polygonal(shapely.intersection(f, polygon)) for f in clipped[crossing]]
        islands.append(_merge_overlapping(polygon, clipped, households[mine], mine))
    return islands


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _merge_overlapping(polygon: Polygon, footprints: np.ndarray, households: np.ndarray,
                       indices: np.ndarray) -> Island:
    if len(footprints) == 0:
        return Island(polygon, footprints, households, [])
    a, b = shapely.STRtree(footprints).query(footprints, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    overlap = shapely.area(shapely.intersection(footprints[a], footprints[b])) > OVERLAP_M2
    root = connected_labels(len(footprints), a[overlap], b[overlap])
    labels, unit = np.unique(root, return_inverse=True)
    if len(labels) == len(footprints):
        return Island(polygon, footprints, households, [indices[[i]] for i in range(len(footprints))])
    merged = np.empty(len(labels), dtype=object)
    members = []
    for u in range(len(labels)):
        mine = np.flatnonzero(unit == u)
        merged[u] = footprints[mine[0]] if len(mine) == 1 else shapely.union_all(footprints[mine])
        members.append(indices[mine])
    return Island(polygon, merged, np.bincount(unit, weights=households).astype(np.int64), members)


def connected_labels(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each node 0..count-1, the smallest node of its connected component (edges a–b)."""
    label = np.arange(count)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    while True:
        low = np.minimum(label[a], label[b])
        hooked = label.copy()
        np.minimum.at(hooked, label[a], low)  # roots hook onto the smaller root across each edge
        np.minimum.at(hooked, label[b], low)
        while True:  # pointer jumping: every node straight to its root
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, label):
            return label
        label = hooked


def allot_grids(islands: list[Island], n: int) -> None:
    """Every island at least one grid, at most one per unit; the rest to whichever island has the most
    households per grid so far (D'Hondt), which keeps the largest grid as small as it can be."""
    if n < len(islands):
        raise ValueError(f"the outline has {len(islands)} separate parts and a grid cannot span two of them: "
                         f"n must be at least {len(islands)}")
    capacity = np.array([max(len(i.footprints), 1) for i in islands])
    if n > capacity.sum():
        raise ValueError(f"n = {n} exceeds the {capacity.sum()} groups of buildings that can be told apart "
                         "(buildings whose footprints overlap always share a grid)")
    weight = np.array([i.households.sum() + 1e-6 * len(i.footprints) for i in islands], dtype=float)
    grids = np.ones(len(islands), dtype=np.int64)
    for _ in range(n - len(islands)):
        quotient = np.where(grids < capacity, weight / grids, -1.0)
        grids[int(np.argmax(quotient))] += 1
    for island, k in zip(islands, grids, strict=True):
        island.grids = int(k)
