"""Property: any sequence of reshapes, splits, merges and creates keeps the community exactly tiled, every
building whole in exactly one grid (the one holding it), every open case in the grid covering it."""

from __future__ import annotations

import itertools
import math

import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.gridedit import Building, Community, EditError, OpenCase, Rules, create, merge, reshape, split
from geodata.gridedit.geometry import parts, shared_border

LON, LAT = 123.0, 41.1
D = 0.0025  # a grid cell ≈ 210 m × 280 m
COLS, ROWS = 3, 2
RULES = Rules(min_area_m2=400.0, min_width_m=4.0, tolerance_m2=1.0)


def community() -> Community:
    outline = shapely.box(LON, LAT, LON + COLS * D, LAT + ROWS * D)
    grids, n = {}, 1
    for row in reversed(range(ROWS)):
        for col in range(COLS):
            grids[f"G{n:03d}"] = shapely.box(LON + col * D, LAT + row * D, LON + (col + 1) * D, LAT + (row + 1) * D)
            n += 1
    size = 0.00015
    step = D / 3
    buildings = []
    for i, (x, y) in enumerate(itertools.product(range(3 * COLS), range(3 * ROWS))):
        # offset so that some straddle the cell borders
        bx, by = LON + x * step + step / 4, LAT + y * step + step * 0.6
        geom = shapely.box(bx, by, bx + size, by + size)
        owner = next(k for k, g in grids.items() if g.contains(geom.centroid))
        buildings.append(Building(i, geom, households=10 + i % 7, population=25 + i % 5, grid=owner))
    cases = []
    for i, (x, y) in enumerate(itertools.product(range(5), range(4))):
        point = shapely.Point(LON + (x + 0.37) * COLS * D / 5, LAT + (y + 0.41) * ROWS * D / 4)
        owner = min(k for k, g in grids.items() if g.covers(point))
        cases.append(OpenCase(1000 + i, point, owner))
    return Community(outline, grids, buildings, cases, rules=RULES, code="C")


def after(c: Community, outcome) -> Community:
    """The community as the commit would store it."""
    buildings = [Building(b.id, b.geom, b.households, b.population, outcome.buildings.get(b.id, b.grid))
                 for b in c.buildings]
    cases = [OpenCase(x.id, x.point, outcome.cases.get(x.id, x.grid)) for x in c.cases]
    return Community(c.outline, outcome.grids, buildings, cases, rules=c.rules, code=c.code, ruler=c.ruler)


def assert_tiled(c: Community) -> None:
    ruler = c.ruler
    covered = shapely.union_all(list(c.grids.values()))
    assert ruler.area(shapely.difference(c.outline, covered)) < 1.0
    assert ruler.area(shapely.difference(covered, c.outline)) < 1.0
    overlap = sum(ruler.area(shapely.intersection(a, b)) for a, b in itertools.combinations(c.grids.values(), 2))
    assert overlap < 1.0
    for code, g in c.grids.items():
        assert g.is_valid, code
        assert max(ruler.area(p) for p in parts(g)) >= c.rules.min_area_m2, code


def assert_people_placed(c: Community) -> None:
    for b in c.buildings:
        assert b.grid in c.grids, b
        held = shapely.area(shapely.intersection(c.grids[b.grid], b.geom)) / shapely.area(b.geom)
        others = [shapely.area(shapely.intersection(g, b.geom)) / shapely.area(b.geom)
                  for k, g in c.grids.items() if k != b.grid]
        assert held >= max(others, default=0.0), b
        assert held > 0.99, (b.id, b.grid, held)  # whole: never split between grids
    for x in c.cases:
        assert x.grid in c.grids
        assert c.grids[x.grid].distance(x.point) < 1e-9, (x.id, x.grid)
        assert x.grid == min(k for k, g in c.grids.items() if g.distance(x.point) < 1e-9)


fraction = st.floats(0.05, 0.95)
ops = st.one_of(
    st.tuples(st.just("reshape"), st.integers(0, 20), fraction, fraction, st.floats(0.1, 0.6), st.floats(0.1, 0.6),
              st.sampled_from(["grow", "shrink", "box"])),
    st.tuples(st.just("split"), st.integers(0, 20), fraction, fraction, st.floats(0, math.pi)),
    st.tuples(st.just("merge"), st.integers(0, 20), st.integers(0, 20)),
    st.tuples(st.just("create"), fraction, fraction, st.floats(0.1, 0.5), st.floats(0.1, 0.5)),
)


def _box(c: Community, fx: float, fy: float, w: float, h: float) -> shapely.Polygon:
    minx, miny, maxx, maxy = c.outline.bounds
    x, y = minx + fx * (maxx - minx), miny + fy * (maxy - miny)
    return shapely.box(x, y, x + w * D, y + h * D)


def apply(c: Community, op: tuple, new_code):
    codes = sorted(c.grids)
    kind = op[0]
    if kind == "reshape":
        code = codes[op[1] % len(codes)]
        box = _box(c, *op[2:6])
        grid = c.grids[code]
        geom = {"grow": shapely.union(grid, box), "shrink": shapely.difference(grid, box), "box": box}[op[6]]
        return reshape(c, code, geom)
    if kind == "split":
        code = codes[op[1] % len(codes)]
        minx, miny, maxx, maxy = c.grids[code].bounds
        x, y = minx + op[2] * (maxx - minx), miny + op[3] * (maxy - miny)
        dx, dy = math.cos(op[4]) * 4 * D, math.sin(op[4]) * 4 * D
        return split(c, code, shapely.LineString([(x - dx, y - dy), (x + dx, y + dy)]), new_code=new_code)
    if kind == "merge":
        code = codes[op[1] % len(codes)]
        near = [k for k in codes if k != code and shared_border(c.grids[code], c.grids[k], c.ruler) > 0.01]
        if not near:
            return None
        return merge(c, [code, near[op[2] % len(near)]])
    return create(c, _box(c, *op[1:5]), new_code=new_code)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=5))
def test_any_edit_sequence_keeps_the_tiling(sequence):
    c = community()
    counter = itertools.count(100)

    def new_code():
        return f"G{next(counter):03d}"

    for op in sequence:
        try:
            outcome = apply(c, op, new_code)
        except EditError as exc:
            refused = exc.field  # a refused edit changes nothing; it must name the field it refuses
            outcome = None
        else:
            refused = None
        assert refused in {None, "geometry", "line", "grids", "give_to"}
        if outcome is None:
            continue
        assert not set(outcome.new) & set(c.grids)  # a new grid never takes a code in use
        c = after(c, outcome)
        assert_tiled(c)
        assert_people_placed(c)
