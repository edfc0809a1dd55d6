"""Which units face each other across which gap.

Points are sampled along every footprint's outline; their Delaunay triangulation links each unit to
the units it faces. Two units facing each other along a long side across a narrow gap (two houses
of a row) are costly to separate; across a street they are cheap. The same points later give the
Voronoi cells that turn groups of units into polygons, so grid boundaries run down the middle of gaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

MIN_GAP_M = 1.0  # gaps narrower than this (touching buildings) cost as much as this one
MAX_SPACING_M = 8.0
JITTER_STEPS = 10  # of 0.1 mm


@dataclass
class Samples:
    xy: np.ndarray  # (points, 2)
    owner: np.ndarray  # unit of each point
    spacing: float
    links: np.ndarray | None = None  # (edges, 2): the points' Delaunay triangulation, once built


@dataclass
class Graph:
    a: np.ndarray  # unit pairs, a < b
    b: np.ndarray
    cost: np.ndarray  # what cutting between a and b costs: facing length / gap²
    centroid: np.ndarray  # (units, 2)
    orientation: np.ndarray  # (units, 2): Σ edge length · (cos 4θ, sin 4θ) of each footprint's edges

    def neighbours(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR adjacency: (start offsets, neighbour units, costs)."""
        count = len(self.centroid)
        source = np.concatenate([self.a, self.b])
        target = np.concatenate([self.b, self.a])
        cost = np.concatenate([self.cost, self.cost])
        order = np.argsort(source, kind="stable")
        start = np.searchsorted(source[order], np.arange(count + 1))
        return start, target[order], cost[order]


def sample(island: Polygon, footprints: np.ndarray) -> Samples:
    """Points every `spacing` metres along the footprints' rings, duplicates (shared walls) once."""
    spacing = min(MAX_SPACING_M, max(0.5, math.sqrt(island.area / max(len(footprints), 1)) / 4))
    xy, owner, _ = _ring_coordinates(shapely.segmentize(footprints, spacing))
    xy = np.round(xy, 4)  # 0.1 mm: the same wall sampled from both sides gives the same points
    _, first = np.unique(xy, axis=0, return_index=True)  # also drops each ring's closing vertex
    first = np.sort(first)  # the footprints' order, not the coordinates': deterministic and local
    # Corners of aligned rectangles are cocircular by the dozen, which makes GEOS's Voronoi diagram
    # degenerate (zero-length edges, invalid cells); a millimetre's fixed jitter breaks the ties.
    jitter = np.random.default_rng(len(first)).integers(-JITTER_STEPS, JITTER_STEPS + 1, (len(first), 2))
    return Samples(np.round(xy[first] + jitter * 1e-4, 4), owner[first], spacing)


def _ring_coordinates(footprints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of all rings of all footprints, with the footprint and the ring of each."""
    rings, ring_owner = shapely.get_parts(shapely.boundary(footprints), return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    return xy, ring_owner[ring], ring


def build_graph(island: Polygon, footprints: np.ndarray, samples: Samples) -> Graph:
    count = len(footprints)
    centroid = shapely.get_coordinates(shapely.centroid(footprints))
    orientation = _orientation(footprints)
    if count < 2:
        empty = np.zeros(0, dtype=np.int64)
        return Graph(empty, empty, np.zeros(0), centroid, orientation)
    edges = shapely.delaunay_triangles(shapely.multipoints(samples.xy), only_edges=True)
    ends = _point_index(samples.xy, shapely.get_coordinates(edges)).reshape(-1, 2)
    samples.links = ends
    ua, ub = samples.owner[ends[:, 0]], samples.owner[ends[:, 1]]
    between = ua != ub
    ends, ua, ub = ends[between], ua[between], ub[between]
    length = np.hypot(*(samples.xy[ends[:, 0]] - samples.xy[ends[:, 1]]).T)
    lo, hi = np.minimum(ua, ub), np.maximum(ua, ub)
    key = lo * count + hi
    pairs, inverse = np.unique(key, return_inverse=True)
    contacts = np.bincount(inverse)
    gap = np.full(len(pairs), np.inf)
    np.minimum.at(gap, inverse, length)
    # The shortest link of each pair must stay on land: across a bay or a hole of the outline is no contact.
    shortest = np.full(len(pairs), -1)
    is_shortest = length == gap[inverse]
    shortest[inverse[is_shortest]] = np.flatnonzero(is_shortest)
    link = shapely.linestrings(np.stack([samples.xy[ends[shortest, 0]], samples.xy[ends[shortest, 1]]], axis=1))
    shapely.prepare(island)
    on_land = shapely.covers(island, link)
    facing = contacts * samples.spacing / 2  # a pair of facing walls L long gets about 2L/spacing links
    cost = facing / np.maximum(gap, MIN_GAP_M) ** 2
    a, b = np.divmod(pairs[on_land], count)
    return Graph(a, b, cost[on_land], centroid, orientation)


def _point_index(points: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Index into `points` of each of `coords` (the triangulation returns the input coordinates exactly)."""
    origin = points.min(axis=0)

    def key(xy: np.ndarray) -> np.ndarray:  # points lie on a 0.1 mm lattice: exact integers
        cells = np.rint((xy - origin) * 1e4).astype(np.int64)
        return cells[:, 0] << 32 | cells[:, 1]

    point_key = key(points)
    order = np.argsort(point_key)
    found = order[np.minimum(np.searchsorted(point_key[order], key(coords)), len(order) - 1)]
    if not np.array_equal(points[found], coords):
        raise RuntimeError("the triangulation moved its input points")
    return found


def _orientation(footprints: np.ndarray) -> np.ndarray:
    xy, owner, ring = _ring_coordinates(footprints)
    same = ring[1:] == ring[:-1]
    d = (xy[1:] - xy[:-1])[same]
    length = np.hypot(d[:, 0], d[:, 1])
    angle = 4 * np.arctan2(d[:, 1], d[:, 0])
    result = np.zeros((len(footprints), 2))
    np.add.at(result, owner[1:][same], np.column_stack([length * np.cos(angle), length * np.sin(angle)]))
    return result
