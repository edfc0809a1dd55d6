"""Auto-partition of a community into n grids balanced by households (issue 6, point 5).

Pure shapely/numpy, no Django: the planner engine calls it with metric coordinates and stores the result.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from .graph import build_graph, sample
from .grouping import Grouper
from .prepare import allot_grids, check_buildings, check_n, check_outline, islands_of
from .tiling import tile

RETILES = 2  # redraws after buildings cut off from their grid went to a neighbour and upset the balance
ZERO_WEIGHT = 1e-3  # a building without households still counts a little, so empty land splits evenly


def partition(outline, buildings, n, *, seed=0) -> list[Polygon]:
    """n contiguous polygons tiling `outline`, each building wholly inside one of them, households
    balanced, boundaries in the gaps between buildings (streets where it can). Deterministic per seed.

    outline: Polygon or MultiPolygon in a metric CRS; a grid never spans two of its parts, so n must be
    at least their number (an island without buildings is one grid with no households).
    buildings: [(footprint Polygon, households ≥ 0)]; the part of a footprint outside the outline is
    ignored, footprints that overlap always share a grid.
    The grids come in the order the bisection made them: consecutive grids are neighbours.
    """
    parts = check_outline(outline)
    footprints, households = check_buildings(buildings)
    check_n(n, len(footprints))
    islands = islands_of(parts, footprints, households)
    allot_grids(islands, int(n))
    rng = np.random.default_rng(seed)
    result: list[Polygon] = []
    for island in islands:
        if island.grids == 1:
            result.append(island.polygon)
            continue
        samples = sample(island.polygon, island.footprints)
        graph = build_graph(island.polygon, island.footprints, samples)
        weights = island.households + ZERO_WEIGHT
        grouper = Grouper(graph, weights, rng)
        labels = grouper.groups(island.grids)
        for _ in range(RETILES + 1):
            before = labels.copy()
            grids = tile(island, samples, labels, island.grids)
            # a building cut off from its grid went to a neighbour: rebalance, and redraw if anything moved
            if np.array_equal(before, labels) or not grouper.rebalance(labels, island.grids):
                break
        result.extend(grids)
    return result


def households_per_grid_to_n(total_households: int, target: int) -> int:
    """How many grids give about `target` households each: the nearest whole number, at least 1."""
    if target <= 0:
        raise ValueError(f"target households per grid must be positive, not {target}")
    if total_households < 0:
        raise ValueError(f"total households must not be negative, not {total_households}")
    return max(1, (2 * int(total_households) + int(target)) // (2 * int(target)))


def spread(parts, buildings) -> dict:
    """Households per part (each building counted in the part holding most of its footprint), with
    max/min (inf when a part has none) and the coefficient of variation (population std / mean)."""
    parts = np.asarray(parts, dtype=object)
    footprints, households = check_buildings(buildings)
    totals = np.zeros(len(parts), dtype=np.int64)
    if len(footprints):
        b, p = shapely.STRtree(parts).query(footprints, predicate="intersects")
        overlap = shapely.area(shapely.intersection(footprints[b], parts[p]))
        best = np.full(len(footprints), -1)
        best_overlap = np.zeros(len(footprints))
        for i, j, a in zip(b, p, overlap, strict=True):
            if a > best_overlap[i]:
                best[i], best_overlap[i] = j, a
        inside = best >= 0
        totals = np.bincount(best[inside], weights=households[inside], minlength=len(parts)).astype(np.int64)
    mean = totals.mean() if len(totals) else 0.0
    low = totals.min() if len(totals) else 0
    return {
        "max_min": float(totals.max() / low) if low > 0 else float("inf"),
        "cv": float(totals.std() / mean) if mean > 0 else 0.0,
        "households": totals.tolist(),
    }
