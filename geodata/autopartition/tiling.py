"""Groups of units into polygons that tile their island exactly.

Every sample point on a footprint's outline gets its Voronoi cell; a group's cells, dissolved and
clipped to the island, make its region, whose edges run down the middle of the gaps between its
buildings and the next group's. The region may still nick a neighbour's footprint (or miss a corner of
its own), so each group's polygon is its region minus the other groups' footprints plus its own:
no building is split, and no area is lost or counted twice. Bits a neighbour's footprint cuts off
from their group go to the group they share the longest border with.
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.errors
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from .graph import Samples
from .prepare import Island

MAX_ROUNDS = 20


def tile(island: Island, samples: Samples, labels: np.ndarray, k: int) -> list[BaseGeometry]:
    """One polygon per group, tiling island.polygon; `labels` is updated when a bit moves."""
    if k == 1:
        return [island.polygon]
    point_group = labels[samples.owner]
    used = _near_boundaries(samples.links, point_group)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(samples.xy[used]),
                                                       extend_to=island.polygon, ordered=True))
    odd = np.flatnonzero(shapely.get_type_id(cells) != shapely.GeometryType.POLYGON)
    for i in odd:  # GEOS may return a cell with a zero-length line beside its polygon
        cells[i] = shapely.union_all([p for p in shapely.get_parts(cells[i]) if p.geom_type == "Polygon"])
    point_group = point_group[used]
    regions = np.array([_dissolve(cells[point_group == g]) for g in range(k)], dtype=object)
    shapely.prepare(island.polygon)
    regions = shapely.intersection(regions, island.polygon)
    footprints = island.footprints
    tree = shapely.STRtree(footprints)
    pieces = []
    for g in range(k):
        near = tree.query(regions[g], predicate="intersects")
        others = near[labels[near] != g]
        piece = regions[g]
        if len(others):
            piece = shapely.difference(piece, shapely.union_all(footprints[others]))
        own = footprints[labels == g]
        shapely.prepare(piece)
        sticking_out = own[~shapely.covers(piece, own)]  # most lie well inside their own region
        pieces.append(shapely.union_all([piece, *sticking_out]) if len(sticking_out) else piece)
    return absorb_fragments(pieces, footprints, island.households, labels)


def _dissolve(cells: np.ndarray) -> BaseGeometry:
    """Voronoi cells share their edges exactly, so the fast coverage union usually applies; points on
    a perfect lattice (all cocircular) can make GEOS node them imperfectly, then a full union it is."""
    try:
        return shapely.coverage_union_all(cells)
    except shapely.errors.GEOSException:
        pass
    try:
        return shapely.union_all(cells)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(cells), grid_size=1e-4)


def _near_boundaries(links: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The points whose Voronoi cells decide where groups meet: those with a Delaunay neighbour in
    another group, and all their neighbours. A point's cell depends only on its Delaunay neighbours,
    so the cells of the first kind come out exactly as in the diagram of all points, and they wall off
    every group's interior; leaving the interior points out only merges cells within one group."""
    frontier = np.zeros(len(group), dtype=bool)
    crossing = group[links[:, 0]] != group[links[:, 1]]
    frontier[links[crossing].ravel()] = True
    used = frontier.copy()
    used[links[frontier[links[:, 0]] | frontier[links[:, 1]]].ravel()] = True
    return used


def absorb_fragments(pieces: list[BaseGeometry], footprints: np.ndarray, households: np.ndarray,
                     labels: np.ndarray) -> list[BaseGeometry]:
    """Each group keeps its part holding most of its households (then buildings, then area); every
    other part joins the neighbour it shares the longest border with, buildings and all."""
    points = shapely.point_on_surface(footprints)
    for _ in range(MAX_ROUNDS):
        moved = False
        for g, piece in enumerate(pieces):
            parts = [p for p in shapely.get_parts(piece) if p.area > 0]
            if len(parts) <= 1:
                pieces[g] = parts[0] if parts else piece
                continue
            mine = np.flatnonzero(labels == g)
            holds = [shapely.contains(part, points[mine]) for part in parts]
            rank = [(households[mine[h]].sum(), h.sum(), part.area) for h, part in zip(holds, parts, strict=True)]
            keep = max(range(len(parts)), key=lambda i: rank[i])
            pieces[g] = parts[keep]
            for i, part in enumerate(parts):
                if i == keep:
                    continue
                target = _longest_border(part, pieces, g)
                pieces[target] = shapely.union(pieces[target], part)
                labels[mine[holds[i]]] = target
            moved = True
        if not moved:
            return pieces
    raise RuntimeError("could not make every grid one piece")


def _longest_border(part: Polygon, pieces: list[BaseGeometry], own: int) -> int:
    pieces = np.asarray(pieces, dtype=object)
    candidates = np.flatnonzero(shapely.intersects(pieces, part))
    candidates = candidates[candidates != own]
    shared = shapely.length(shapely.intersection(part.boundary, shapely.boundary(pieces[candidates])))
    return int(candidates[np.argmax(shared)])
