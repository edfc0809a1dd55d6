"""Auto-partition (issue 6, point 5): n grids that tile the community exactly, never split a building,
are each one piece, balance households and put their boundaries in the streets."""

import math

import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from geodata.autopartition.synthetic import community
from geodata.partition import households_per_grid_to_n, partition, spread


def assert_grids(outline, buildings, parts, n):
    """Exactly n valid single polygons, no gaps, no overlaps, each building wholly inside exactly one."""
    assert len(parts) == n
    for part in parts:
        assert isinstance(part, Polygon)
        assert part.is_valid, shapely.is_valid_reason(part)
        assert part.area > 0
    area = outline.area
    union = shapely.union_all(parts)
    assert shapely.symmetric_difference(union, outline).area <= 1e-6 * area
    assert sum(p.area for p in parts) == pytest.approx(area, rel=1e-6)  # so overlaps are ≈ 0 too
    grids = np.array(parts, dtype=object)
    for i, (footprint, _) in enumerate(buildings):
        inside = shapely.area(shapely.intersection(grids, footprint))
        holders = np.flatnonzero(inside > 1e-6 * footprint.area)
        assert len(holders) == 1, f"building {i} is split between grids {holders.tolist()}"
        assert inside[holders[0]] == pytest.approx(footprint.area, rel=1e-9)


def same_grids(a, b):
    return [p.wkb for p in a] == [p.wkb for p in b]


def street_share(outline, buildings, parts, clear=4.0):
    """The share of the boundaries between grids lying at least `clear` metres from any building."""
    inner = shapely.difference(shapely.union_all([p.boundary for p in parts]), outline.boundary)
    points = shapely.line_interpolate_point(inner, np.arange(0, inner.length, 2.0))
    tree = shapely.STRtree([f for f, _ in buildings])
    (where, _), distance = tree.query_nearest(points, return_distance=True, all_matches=False)
    return float((distance[np.argsort(where)] >= clear).mean())


@pytest.fixture(scope="module")
def town():
    """5,000 buildings on 1.5 km², cut into 15 grids (once for all the tests that look at it)."""
    outline, buildings = community(5000, seed=1)
    return outline, buildings, partition(outline, buildings, 15, seed=0)


def test_a_community_of_5000_buildings_makes_15_exact_grids(town):
    outline, buildings, parts = town
    assert_grids(outline, buildings, parts, 15)


def test_the_15_grids_balance_households_within_the_planners_goal(town):
    _, buildings, parts = town
    result = spread(parts, buildings)
    assert sum(result["households"]) == sum(h for _, h in buildings)
    assert result["max_min"] <= 1.3
    assert result["cv"] <= 0.1


def test_grid_boundaries_run_down_the_streets_not_through_blocks(town):
    """Blocks are 3.5–4.5 m apart inside, streets 14–24 m wide: most boundary should keep 4 m clear."""
    outline, buildings, parts = town
    assert street_share(outline, buildings, parts) >= 0.7


def test_grids_are_compact(town):
    _, _, parts = town
    for part in parts:
        assert part.area / part.convex_hull.area >= 0.7  # no long arms or deep bays
        assert 4 * math.pi * part.area / part.length**2 >= 0.3  # no strips (a 1:5 rectangle is 0.44)


def test_same_seed_same_grids():
    outline, buildings = community(400, seed=7, area_m2=1.2e5)
    first = partition(outline, buildings, 6, seed=3)
    assert same_grids(first, partition(outline, buildings, 6, seed=3))
    assert_grids(outline, buildings, first, 6)


def test_one_grid_is_the_outline_itself():
    outline, buildings = community(50, seed=2, area_m2=2e4)
    parts = partition(outline, buildings, 1)
    assert len(parts) == 1
    assert parts[0].equals(outline)


def test_as_many_grids_as_buildings_gives_each_building_its_own_grid():
    outline, buildings = community(60, seed=3, area_m2=2.5e4)
    parts = partition(outline, buildings, 60)
    assert_grids(outline, buildings, parts, 60)
    assert sorted(spread(parts, buildings)["households"]) == sorted(h for _, h in buildings)


def terraces():
    """Six rows of twenty houses sharing their side walls."""
    return [(box(c * 10, r * 30, c * 10 + 10, r * 30 + 12), 3 + (r * 20 + c) % 5) for r in range(6) for c in range(20)]


@pytest.mark.parametrize("n", [2, 7, 40, 120])
def test_houses_sharing_walls_are_never_split(n):
    outline = box(-10, -10, 210, 180)
    buildings = terraces()
    assert_grids(outline, buildings, partition(outline, buildings, n), n)


def test_an_outline_with_a_lake_in_it():
    outline = box(0, 0, 400, 400).difference(box(150, 150, 250, 250))
    buildings = [(box(x, y, x + 12, y + 8), 5) for x in range(10, 390, 20) for y in range(10, 390, 16)
                 if not box(140, 140, 260, 260).intersects(box(x, y, x + 12, y + 8))]
    parts = partition(outline, buildings, 5)
    assert_grids(outline, buildings, parts, 5)
    lake = box(150, 150, 250, 250)
    assert all(p.intersection(lake).area < 1e-6 for p in parts)
    assert spread(parts, buildings)["max_min"] <= 1.3


def islands():
    outline = MultiPolygon([box(0, 0, 200, 200), box(300, 0, 500, 100), box(600, 0, 650, 50)])
    buildings = [(box(x, y, x + 10, y + 6), 4) for x in range(10, 190, 20) for y in range(10, 190, 14)]
    buildings += [(box(x, y, x + 10, y + 6), 2) for x in range(310, 490, 20) for y in range(10, 90, 14)]
    return outline, buildings


def test_islands_get_their_own_grids_and_no_grid_spans_two():
    outline, buildings = islands()
    parts = partition(outline, buildings, 8)
    assert_grids(outline, buildings, parts, 8)
    for part in parts:
        assert sum(part.intersection(island).area > 1e-6 for island in outline.geoms) == 1
    # the empty island is a grid of its own; the big island, with most households, gets most grids
    assert sum(p.within(outline.geoms[0].buffer(1e-6)) for p in parts) >= 5
    assert sum(p.equals(outline.geoms[2]) for p in parts) == 1


def test_fewer_grids_than_islands_is_refused():
    outline, buildings = islands()
    with pytest.raises(ValueError, match="3 separate parts"):
        partition(outline, buildings, 2)


@pytest.mark.parametrize("n", [0, -1, 121, 2.5, True, "3", None])
def test_bad_n_is_refused_with_the_reason(n):
    outline = box(-10, -10, 210, 180)
    with pytest.raises(ValueError, match="n must be"):
        partition(outline, terraces(), n)


def test_bad_input_is_refused_with_the_reason():
    outline = box(0, 0, 100, 100)
    house = box(10, 10, 20, 20)
    with pytest.raises(ValueError, match="outside the outline"):
        partition(outline, [(house, 2), (box(200, 200, 210, 210), 3)], 2)
    with pytest.raises(ValueError, match="households"):
        partition(outline, [(house, -1)], 1)
    with pytest.raises(ValueError, match="not a valid polygon"):
        partition(Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), [(house, 1)], 1)
    with pytest.raises(ValueError, match="outline must be"):
        partition(house.boundary, [(house, 1)], 1)


def test_overlapping_footprints_always_share_a_grid():
    outline = box(0, 0, 100, 40)
    buildings = [(box(10, 10, 30, 20), 5), (box(25, 12, 40, 22), 5), (box(60, 10, 80, 20), 10)]
    parts = partition(outline, buildings, 2)
    assert_grids(outline, buildings, parts, 2)
    assert sorted(spread(parts, buildings)["households"]) == [10, 10]
    with pytest.raises(ValueError, match="overlap"):
        partition(outline, buildings, 3)


def test_a_building_across_the_community_edge_keeps_its_inside_part_in_one_grid():
    outline = box(0, 0, 100, 40)
    buildings = [(box(-5, 10, 15, 20), 8), (box(40, 10, 55, 20), 8), (box(70, 10, 85, 20), 8)]
    parts = partition(outline, buildings, 3)
    assert_grids(outline, [(f.intersection(outline), h) for f, h in buildings], parts, 3)


def test_a_building_in_two_wings_stays_in_one_grid():
    wings = MultiPolygon([box(10, 10, 20, 30), box(24, 10, 34, 30)])
    buildings = [(wings, 20), *[(box(x, 10, x + 10, 30), 20) for x in range(45, 200, 15)]]
    outline = box(0, 0, 210, 40)
    parts = partition(outline, buildings, 4)
    assert_grids(outline, buildings, parts, 4)


def test_buildings_without_households_still_split_evenly_by_count():
    outline = box(-10, -10, 210, 180)
    buildings = [(footprint, 0) for footprint, _ in terraces()]
    parts = partition(outline, buildings, 4)
    assert_grids(outline, buildings, parts, 4)
    counts = [sum(p.contains(f.centroid) for f, _ in buildings) for p in parts]
    assert max(counts) <= 1.3 * min(counts)


@pytest.mark.parametrize(("total", "target", "n"), [(1000, 300, 3), (1050, 300, 4), (1049, 300, 3),
                                                    (100, 300, 1), (0, 300, 1), (40000, 400, 100)])
def test_households_per_grid_to_n_rounds_to_nearest(total, target, n):
    assert households_per_grid_to_n(total, target) == n


def test_households_per_grid_to_n_needs_a_positive_target():
    with pytest.raises(ValueError, match="positive"):
        households_per_grid_to_n(1000, 0)


def test_spread_counts_each_building_in_the_grid_holding_most_of_it():
    parts = [box(0, 0, 10, 10), box(10, 0, 20, 10)]
    buildings = [(box(1, 1, 3, 3), 4), (box(8, 1, 11, 3), 6), (box(12, 1, 14, 3), 2)]  # the 2nd is mostly left
    result = spread(parts, buildings)
    assert result["households"] == [10, 2]
    assert result["max_min"] == pytest.approx(5.0)
    assert result["cv"] == pytest.approx(np.std([10, 2]) / 6)
    assert spread([box(0, 0, 1, 1), box(5, 5, 6, 6)], buildings)["max_min"] == math.inf


@st.composite
def small_communities(draw):
    """A box (sometimes with a lake, sometimes two islands) with houses on a jittered lattice, some
    filling their lot (touching their neighbours); random households; a random n."""
    columns, rows = draw(st.integers(1, 8)), draw(st.integers(1, 6))
    lot = draw(st.sampled_from([8.0, 15.0, 30.0]))
    shape = draw(st.sampled_from(["box", "lake", "islands"]))
    outline = box(-5, -5, columns * lot + 5, rows * lot + 5)
    if shape == "lake" and columns >= 3 and rows >= 3:
        outline = outline.difference(box(lot * 1.2, lot * 1.2, lot * 1.8, lot * 1.8))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    buildings = []
    for i in range(columns):
        for j in range(rows):
            x, y = i * lot, j * lot
            footprint = (box(x, y, x + lot, y + lot) if rng.random() < 0.3 else
                         box(x + rng.uniform(0.5, 2), y + rng.uniform(0.5, 2), x + lot - rng.uniform(0.5, 2),
                             y + lot - rng.uniform(0.5, 2)))
            if footprint.within(outline):
                buildings.append((footprint, int(rng.integers(0, 60))))
    if shape == "islands":
        shift = columns * lot + 40
        outline = MultiPolygon([outline, shapely.affinity.translate(outline, shift)])
        buildings += [(shapely.affinity.translate(f, shift), h) for f, h in buildings]
    islands = len(shapely.get_parts(outline))
    n = draw(st.integers(islands, max(islands, len(buildings))))
    return outline, buildings, n


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_communities(), st.integers(0, 3))
def test_any_small_community_gets_exact_grids(case, seed):
    outline, buildings, n = case
    if not buildings:
        with pytest.raises(ValueError, match="n must be"):
            partition(outline, buildings, n, seed=seed)
        return
    parts = partition(outline, buildings, n, seed=seed)
    assert_grids(outline, buildings, parts, n)
    assert same_grids(parts, partition(outline, buildings, n, seed=seed))
