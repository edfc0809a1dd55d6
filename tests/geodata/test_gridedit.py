"""The edit engine, op by op: what moves where, and what it refuses (naming the field)."""

from __future__ import annotations

import itertools

import pytest
import shapely

from geodata.gridedit import Building, Community, EditError, OpenCase, Rules, create, merge, reshape, restore, split
from geodata.gridedit.geometry import Ruler, clean_outline

LON, LAT, D = 123.0, 41.1, 0.0025
RULES = Rules(min_area_m2=1000.0, min_width_m=10.0)


def box(col0, row0, col1, row1) -> shapely.Polygon:
    return shapely.box(LON + col0 * D, LAT + row0 * D, LON + col1 * D, LAT + row1 * D)


def town(buildings=(), cases=()) -> Community:
    """A 3 × 1 strip of grids A B C (west → east)."""
    grids = {"A": box(0, 0, 1, 1), "B": box(1, 0, 2, 1), "C": box(2, 0, 3, 1)}
    return Community(box(0, 0, 3, 1), grids, list(buildings), list(cases), rules=RULES, code="X")


def codes():
    counter = itertools.count(1)
    return lambda: f"N{next(counter)}"


def area(c: Community, geom) -> float:
    return c.ruler.area(geom)


def test_a_grown_grid_takes_the_area_from_its_neighbour():
    c = town()
    out = reshape(c, "A", box(0, 0, 1.4, 1))
    assert out.changed == {"A", "B"}
    assert area(c, out.grids["A"]) == pytest.approx(area(c, box(0, 0, 1.4, 1)), rel=1e-6)
    assert area(c, out.grids["B"]) == pytest.approx(area(c, box(1.4, 0, 2, 1)), rel=1e-6)
    assert out.grids["C"] is c.grids["C"]


def test_an_area_given_up_goes_to_the_longest_border_or_where_the_planner_says():
    c = town()
    shrunk = box(0, 0, 0.6, 1)
    out = reshape(c, "A", shrunk)
    assert area(c, out.grids["B"]) == pytest.approx(area(c, box(0.6, 0, 2, 1)), rel=1e-6)
    # B's middle given up: the piece borders A and C equally long, so the lower code wins; C when asked for
    out = reshape(c, "B", shapely.union(box(1, 0, 2, 0.3), box(1, 0.7, 2, 1)))
    assert out.grids["A"].covers(box(1.1, 0.4, 1.9, 0.6))
    out = reshape(c, "B", shapely.union(box(1, 0, 2, 0.3), box(1, 0.7, 2, 1)), give_to="C")
    assert out.grids["C"].covers(box(1.1, 0.4, 1.9, 0.6))


def test_a_building_cut_by_the_new_border_goes_whole_to_the_grid_holding_most_of_it():
    straddling = Building(1, box(0.9, 0.4, 1.2, 0.5), households=40, grid="B")  # 2/3 east of x=1
    c = town([straddling])
    out = reshape(c, "A", box(0, 0, 1.05, 1))  # the new border cuts it, now mostly in B still
    assert out.buildings[1] == "B"
    assert out.grids["B"].covers(straddling.geom)
    assert not out.grids["A"].intersects(straddling.geom.buffer(-1e-9))


def test_slivers_are_absorbed_and_a_grid_reduced_below_the_minimum_is_refused():
    c = town()
    # A takes B but for a 2 m strip along C: the strip is narrower than 10 m, so it is refused as B's remains
    with pytest.raises(EditError) as exc:
        reshape(c, "A", box(0, 0, 1.99, 1))
    assert exc.value.field == "geometry"
    # a grid cut in two by a neighbour keeps its big part; a crumb goes to the neighbour with the longest border
    out = reshape(c, "A", shapely.union(box(0, 0, 1, 1), box(1, 0.98, 2.02, 1)))
    assert out.changed == {"A", "B", "C"}
    assert len(shapely.get_parts(out.grids["B"])) == 1


def test_split_keeps_the_code_on_the_largest_piece_and_numbers_the_rest():
    c = town()
    out = split(c, "B", shapely.LineString([(LON + 1.3 * D, LAT - D), (LON + 1.3 * D, LAT + 2 * D)]),
                new_code=codes())
    assert out.new == ["N1"]
    assert area(c, out.grids["B"]) > area(c, out.grids["N1"])
    with pytest.raises(EditError) as exc:
        split(c, "B", shapely.LineString([(LON + 1.3 * D, LAT + 0.5 * D), (LON + 1.3 * D, LAT + 2 * D)]),
              new_code=codes())
    assert exc.value.field == "line"


def test_merge_needs_a_shared_border_not_a_corner():
    c = town()
    out = merge(c, ["B", "A"])
    assert out.retired == ["A"]
    assert area(c, out.grids["B"]) == pytest.approx(area(c, box(0, 0, 2, 1)), rel=1e-6)
    with pytest.raises(EditError) as exc:
        merge(c, ["A", "C"])
    assert exc.value.field == "grids"


def test_create_and_restore_move_cases_to_the_grid_covering_them():
    case = OpenCase(7, shapely.Point(LON + 1.5 * D, LAT + 0.5 * D), "B")
    c = town(cases=[case])
    out = create(c, box(1.2, 0.2, 1.8, 0.8), new_code=codes())
    assert out.cases[7] == "N1"
    after = Community(c.outline, out.grids, [], [OpenCase(7, case.point, "N1")], rules=RULES, ruler=c.ruler)
    back = restore(after, c.grids)
    assert back.retired == ["N1"]
    assert back.cases[7] == "B"


def test_a_case_on_a_shared_border_goes_to_the_lowest_code():
    on_border = OpenCase(8, shapely.Point(LON + 1.4 * D, LAT + 0.5 * D), "A")
    out = reshape(town(cases=[on_border]), "A", box(0, 0, 1.4, 1))
    assert out.cases[8] == "A"


def test_outlines_are_repaired_only_when_the_repair_is_unambiguous():
    ruler = Ruler.for_shape(box(0, 0, 1, 1))
    x0, y0, x1, y1 = LON, LAT, LON + D, LAT + D
    thin_bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y0 + D / 100)])
    cleaned = clean_outline(thin_bowtie, "geometry", ruler)
    assert cleaned.repair
    assert cleaned.geom.is_valid
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    with pytest.raises(EditError) as exc:
        clean_outline(bowtie, "geometry", ruler)
    assert exc.value.spot.equals_exact(shapely.Point(LON + D / 2, LAT + D / 2), 1e-9)
    with pytest.raises(EditError) as exc:
        reshape(town(), "A", box(5, 5, 6, 6))
    assert "之外" in exc.value.message
