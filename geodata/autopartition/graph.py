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
    ends, gabriel = _triangulate(samples.xy)
    samples.links = ends
    ua, ub = samples.owner[ends[:, 0]], samples.owner[ends[:, 1]]
    between = ua != ub
    ends, ua, ub, gabriel = ends[between], ua[between], ub[between], gabriel[between]
    start, end = samples.xy[ends[:, 0]], samples.xy[ends[:, 1]]
    length = np.hypot(*(start - end).T)
    key = np.minimum(ua, ub) * count + np.maximum(ua, ub)
    pairs, inverse = np.unique(key, return_inverse=True)
    contacts = np.bincount(inverse)
    gap = np.full(len(pairs), np.inf)
    np.minimum.at(gap, inverse, length)
    # Two units are neighbours where their Voronoi cells meet on land. A Gabriel link (nothing inside
    # the circle on it as diameter) has its midpoint on the cells' common edge, so one such midpoint on
    # land proves it; a long link round the back of other buildings, or across a bay, proves nothing.
    shapely.prepare(island)
    proof = gabriel & shapely.contains_xy(island, (start[:, 0] + end[:, 0]) / 2, (start[:, 1] + end[:, 1]) / 2)
    touching = np.bincount(inverse, weights=proof, minlength=len(pairs)) > 0
    facing = contacts * samples.spacing / 2  # a pair of facing walls L long gets about 2L/spacing links
    cost = facing / np.maximum(gap, MIN_GAP_M) ** 2
    a, b = np.divmod(pairs[touching], count)
    return Graph(a, b, cost[touching], centroid, orientation)


def _triangulate(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Delaunay edges (point index pairs) and whether each is a Gabriel edge: an edge is when the
    angle facing it is acute in both its triangles."""
    triangles = shapely.delaunay_triangles(shapely.multipoints(xy))  # a collection of closed 4-point rings
    corners = _point_index(xy, shapely.get_coordinates(triangles)).reshape(-1, 4)[:, :3]
    edges, acute = [], []
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        p, q, r = corners[:, i], corners[:, j], corners[:, k]
        edges.append(np.stack([np.minimum(p, q), np.maximum(p, q)], axis=1))
        acute.append(np.einsum("ij,ij->i", xy[p] - xy[r], xy[q] - xy[r]) > 0)
    edges, acute = np.concatenate(edges), np.concatenate(acute)
    key = edges[:, 0] * len(xy) + edges[:, 1]
    unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    gabriel = np.bincount(inverse, weights=~acute, minlength=len(unique)) == 0
    return edges[first], gabriel


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
