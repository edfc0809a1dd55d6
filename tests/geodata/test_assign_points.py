"""geodata.assign_points: the bulk assignment gives, for every point, what the rules of
gridgis.cases.assignment give — checked against a brute force that tries every grid (shapely's
intersects_xy, which is PostGIS's ST_Covers for a point) and measures distances in a local azimuthal
equidistant projection centred on the point (pyproj), so nothing is shared with the code under test but
the point-in-polygon predicate. tests/cases/test_bulk.py checks the same against PostGIS itself.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from bench.assign import grid_codes, voronoi_tiling
from geodata.assign_points import COVERING, NEAREST, TIE_M, UNASSIGNED, PointAssigner

MAX_M = 50.0
SAME_DISTANCE_M = 0.001  # the brute force and the assigner agree on distances this closely


@cache
def tiling() -> tuple[np.ndarray, np.ndarray]:
    grids = voronoi_tiling(40, area_km2=1.2, seed=3)
    return grid_codes(len(grids)), grids


@cache
def assigner(cells_across: float | None = None) -> PointAssigner:
    codes, grids = tiling()
    return PointAssigner(codes, grids, max_distance_m=MAX_M, cells_across=cells_across)


def metres_to(lon: float, lat: float, geoms: np.ndarray) -> np.ndarray:
    """Metres from (lon, lat) to each of `geoms` on the WGS84 ellipsoid: in an azimuthal equidistant
    projection centred on the point, distances from the centre are true."""
    to_local = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84",
                                    always_xy=True)
    local = shapely.transform(geoms, lambda xy: np.stack(to_local.transform(xy[:, 0], xy[:, 1]), axis=1))
    return shapely.distance(local, shapely.Point(0, 0))


def brute_force(lon: float, lat: float, codes, grids, *, max_m: float = MAX_M, tie_key=None):
    """(grid index or -1, rule, metres) by trying every grid."""
    covering = [k for k in range(len(grids)) if shapely.intersects_xy(grids[k], lon, lat)]
    if covering:
        return min(covering, key=lambda k: codes[k]), COVERING, 0.0
    tie = codes if tie_key is None else tie_key
    metres = metres_to(lon, lat, grids)
    if len(grids) and metres.min() <= max_m:
        k = min(np.flatnonzero(metres <= metres.min() + TIE_M), key=lambda k: tie[k])  # equal within 1 mm
        return k, NEAREST, metres[k]
    return -1, UNASSIGNED, math.nan


def check(points: list[tuple[float, float]], codes=None, grids=None, chosen: PointAssigner | None = None,
          **brute) -> None:
    if grids is None:
        codes, grids = tiling()
    chosen = chosen or assigner()
    lon, lat = np.array(points, dtype=float).reshape(-1, 2).T
    result = chosen.assign(lon, lat)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        grid, rule, metres = brute_force(x, y, codes, grids, **brute)
        if rule != COVERING and abs(metres - chosen.max_distance_m) < SAME_DISTANCE_M:
            continue  # on the threshold itself: either answer is right to the millimetre
        got = (int(result.grid_index[i]), int(result.rule[i]))
        assert got == (grid, rule), f"point {x!r}, {y!r}: got {got}, brute force {(grid, rule, metres)}"
        if rule == NEAREST:
            assert result.distance_m[i] == pytest.approx(metres, abs=SAME_DISTANCE_M)
        elif rule == COVERING:
            assert result.distance_m[i] == 0.0
        else:
            assert math.isnan(result.distance_m[i])


# --- points hypothesis draws: anywhere, on vertices and edges, and just off the outer boundary ----------


def _vertices() -> np.ndarray:
    return shapely.get_coordinates(tiling()[1])


def _outer_ring() -> np.ndarray:
    return shapely.get_coordinates(shapely.union_all(tiling()[1]).exterior)


@st.composite
def anywhere(draw):
    xmin, ymin, xmax, ymax = shapely.total_bounds(tiling()[1])
    pad = 0.001  # ~80-110 m beyond the tiling: near misses and far ones
    return (draw(st.floats(xmin - pad, xmax + pad)), draw(st.floats(ymin - pad, ymax + pad)))


@st.composite
def on_vertex(draw):
    vertices = _vertices()
    x, y = vertices[draw(st.integers(0, len(vertices) - 1))]
    return float(x), float(y)


@st.composite
def on_edge(draw):
    """A point on an edge, as exactly as floating point allows (the same float may then fall either side of
    the edge: the brute force decides with the same predicate)."""
    vertices = _vertices()
    i = draw(st.integers(0, len(vertices) - 2))
    t = draw(st.floats(0, 1))
    (x1, y1), (x2, y2) = vertices[i], vertices[i + 1]
    return float(x1 + t * (x2 - x1)), float(y1 + t * (y2 - y1))


@st.composite
def off_the_edge(draw):
    """A point `d` metres outward from the tiling's outer boundary, d near 0 or near the 50 m limit."""
    ring = _outer_ring()
    i = draw(st.integers(0, len(ring) - 2))
    t = draw(st.floats(0.05, 0.95))
    d = draw(st.one_of(st.floats(0.0, 0.5), st.floats(MAX_M - 0.05, MAX_M + 0.05), st.floats(0, 80)))
    (x1, y1), (x2, y2) = ring[i], ring[i + 1]
    east = 111_320.0 * math.cos(math.radians(y1))
    nx, ny = (y2 - y1) * 110_574.0, -(x2 - x1) * east  # the outward normal of a counter-clockwise ring
    norm = math.hypot(nx, ny) or 1.0
    sign = 1.0 if shapely.LinearRing(ring).is_ccw else -1.0
    return (x1 + t * (x2 - x1) + sign * d * nx / norm / east, y1 + t * (y2 - y1) + sign * d * ny / norm / 110_574.0)


POINTS = st.lists(st.one_of(anywhere(), on_vertex(), on_edge(), off_the_edge()), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POINTS)
def test_it_places_every_point_as_the_rules_say(points):
    check(points)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POINTS, st.sampled_from([1.0, 3.0, 40.0]))
def test_the_cell_size_changes_nothing(points, cells_across):
    check(points, chosen=assigner(cells_across))


# --- the rules, one at a time -------------------------------------------------------------------------


def test_a_vertex_shared_by_three_grids_goes_to_the_lowest_code():
    codes, grids = tiling()
    vertices, owner = shapely.get_coordinates(grids, return_index=True)
    keys, counts = np.unique(vertices, axis=0, return_counts=True)
    x, y = keys[np.flatnonzero(counts >= 3)[0]]  # ring closings repeat a vertex: ≥ 3 still means ≥ 2 grids
    sharing = sorted({codes[k] for k in owner[(vertices == (x, y)).all(axis=1)]})
    assert len(sharing) >= 2
    result = assigner().assign([x], [y])
    assert codes[result.grid_index[0]] == sharing[0]
    assert result.rule[0] == COVERING


def test_every_cell_of_a_large_random_sample_agrees_with_the_brute_force():
    codes, grids = tiling()
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = shapely.total_bounds(grids)
    lon, lat = rng.uniform(xmin, xmax, 200_000), rng.uniform(ymin, ymax, 200_000)
    result = assigner().assign(lon, lat)
    by_code = np.argsort(codes)
    hits = np.stack([shapely.intersects_xy(grids[k], lon, lat) for k in by_code])  # grids in code order × points
    covered = hits.any(axis=0)
    expected = by_code[hits.argmax(axis=0)]  # the first hit in code order
    assert np.array_equal(result.grid_index[covered], expected[covered])
    assert (result.rule[covered] == COVERING).all()
    assert (result.rule[~covered] != COVERING).all()


def test_overlapping_grids_holes_and_islands():
    outer = shapely.box(123.0, 41.0, 123.01, 41.01)
    hole = shapely.box(123.004, 41.004, 123.006, 41.006)
    grids = np.array([
        shapely.Polygon(outer.exterior.coords, [hole.exterior.coords]),  # A: a grid with a hole
        hole,  # B: the island in it
        shapely.box(123.0, 41.0, 123.002, 41.002),  # C: overlapping A's corner (bad data, still decided)
        shapely.MultiPolygon([shapely.box(123.02, 41.0, 123.021, 41.001),
                              shapely.box(123.023, 41.0, 123.024, 41.001)]),  # D: two parts
    ], dtype=object)
    codes = np.array(["210302001001004", "210302001001003", "210302001001001", "210302001001002"])
    points = [(123.005, 41.005), (123.004, 41.005), (123.001, 41.001), (123.003, 41.001), (123.0205, 41.0005),
              (123.022, 41.0005), (123.0235, 41.0005), (123.012, 41.005), (123.0104, 41.005), (123.0, 41.0)]
    check(points, codes, grids, PointAssigner(codes, grids, max_distance_m=MAX_M))


def test_ties_in_distance_go_to_the_lowest_tie_key():
    west, east = shapely.box(123.0, 41.0, 123.01, 41.01), shapely.box(123.01, 41.0, 123.02, 41.01)
    grids, codes = np.array([west, east]), np.array(["210302001001001", "210302001001002"])
    north_of_corner = (123.01, 41.0101)  # ~11 m north of the corner both grids share
    for tie_key in ([2, 1], [1, 2]):
        chosen = PointAssigner(codes, grids, tie_key=tie_key)
        result = chosen.assign([north_of_corner[0]], [north_of_corner[1]])
        assert result.grid_index[0] == int(np.argmin(tie_key))
        assert result.rule[0] == NEAREST


def test_points_far_away_not_finite_or_beyond_the_limit_are_unassigned():
    result = assigner().assign([0.0, np.nan, 123.0, np.inf, -180.0], [0.0, 41.1, np.nan, 41.1, 90.0])
    assert (result.rule == UNASSIGNED).all()
    assert (result.grid_index == -1).all()
    assert np.isnan(result.distance_m).all()


def test_without_a_distance_there_is_no_nearest_grid():
    codes, grids = tiling()
    chosen = PointAssigner(codes, grids, max_distance_m=0)
    xmin, ymin, _, _ = shapely.total_bounds(grids)
    assert chosen.assign([xmin - 0.0001], [ymin + 0.001]).rule[0] == UNASSIGNED


def test_no_grids_no_assignment():
    result = PointAssigner([], []).assign([123.0], [41.1])
    assert result.rule[0] == UNASSIGNED


def test_lengths_must_match():
    with pytest.raises(ValueError, match="equal length"):
        PointAssigner(["210302001001001"], [])
    with pytest.raises(ValueError, match="same length"):
        assigner().assign([123.0, 123.1], [41.1])
