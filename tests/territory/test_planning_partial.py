"""The planner reads only the part of a community an edit works on (the grids meeting it, and the buildings and
open cases lying in them): on a community of 6 × 4 grids, with buildings straddling borders, buildings and
cases registered to the wrong grid and a case in a retired grid, every edit's preview says exactly what it says
when the whole community is read. And GET plan/ (built by PostGIS) lists every building."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from rest_framework.test import APIClient

from gridgis.cases.models import Case
from gridgis.territory.models import Building, Community, District, Grid, Street
from gridgis.territory.planning import edits, services
from gridgis.territory.planning.impact import impact
from gridgis.territory.planning.selectors import load_state
from gridgis.workforce.models import GridAssignment, GridWorker

LON, LAT, D = 123.0, 41.1, 0.002  # cells ≈ 170 m × 220 m
COLS, ROWS = 6, 4
COMMUNITY = "210302001007"


def rect(x0, y0, x1, y1) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


def cell(col, row) -> tuple[float, float, float, float]:
    return LON + col * D, LAT + row * D, LON + (col + 1) * D, LAT + (row + 1) * D


def code(col, row) -> str:
    return f"{COMMUNITY}{row * COLS + col + 1:03d}"


def ring(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def big_town(db):
    district = District.objects.create(code="210302", name="铁东区", geom=rect(122.9, 41.0, 123.1, 41.2))
    street = Street.objects.create(code="210302001", name="站前街道", district=district, geom=district.geom)
    community = Community.objects.create(code=COMMUNITY, name="大社区", street=street,
                                         geom=rect(LON, LAT, LON + COLS * D, LAT + ROWS * D))
    grids = {}
    for col, row in itertools.product(range(COLS), range(ROWS)):
        grids[col, row] = Grid.objects.create(code=code(col, row), community=community, geom=rect(*cell(col, row)))
        worker = GridWorker.objects.create(worker_id=f"W{col}{row}", name=f"网格员{col}{row}")
        GridAssignment.objects.create(worker=worker, grid=grids[col, row])
    retired = Grid.objects.create(code=f"{COMMUNITY}099", community=community, geom=rect(*cell(2, 2)))
    numbers = itertools.count(1)

    def building(x, y, grid, size=0.0002):
        n = next(numbers)
        Building.objects.create(code=f"Q{n}", address=f"大社区{n}号楼", grid=grid, households=10 + n % 30,
                                population=30, geom=rect(x - size, y - size, x + size, y + size))

    def case(x, y, grid):
        Case.objects.create(number=f"Q{next(numbers):07d}", description="井盖缺失", status="dispatched",
                            location=Point(x, y, srid=4326), grid=grid, community=community, street=street,
                            territory_code=grid.code, assignment_rule="covering_grid")

    for (col, row), grid in grids.items():
        x0, y0, _, _ = cell(col, row)
        for fx, fy in ((0.3, 0.3), (0.7, 0.7), (0.3, 0.7)):
            building(x0 + fx * D, y0 + fy * D, grid)
        building(x0 + D, y0 + 0.5 * D, grid)  # straddles the eastern border, registered to the west side
        case(x0 + 0.6 * D, y0 + 0.4 * D, grid)
    # Registered far away from where they stand.
    building(LON + 2.5 * D, LAT + 1.5 * D, grids[5, 3])
    case(LON + 2.6 * D, LAT + 1.6 * D, grids[0, 0])
    Building.objects.create(code="Q0", address="未分网格楼", grid=None, households=5, population=9,
                            geom=rect(LON + 2.8 * D, LAT + 1.2 * D, LON + 2.9 * D, LAT + 1.3 * D))
    case(LON + 2.5 * D, LAT + 2.5 * D, retired)
    Grid.all_objects.filter(pk=retired.pk).update(retired_at="2026-01-01T00:00:00Z")
    return community


EDITS = [
    {"op": "reshape", "grid": code(2, 1), "geometry": ring(LON + 2 * D, LAT + D, LON + 3.4 * D, LAT + 2 * D)},
    {"op": "reshape", "grid": code(2, 1), "geometry": ring(LON + 2 * D, LAT + D, LON + 2.6 * D, LAT + 2 * D)},
    {"op": "split", "grid": code(3, 2), "line": {"type": "LineString", "coordinates": [
        [LON + 3.5 * D, LAT + 1.9 * D], [LON + 3.5 * D, LAT + 3.1 * D]]}},
    {"op": "merge", "grids": [code(2, 1), code(2, 2)]},
    {"op": "create", "geometry": ring(LON + 1.8 * D, LAT + 1.8 * D, LON + 2.2 * D, LAT + 2.2 * D)},
]


@pytest.mark.parametrize("edit", EDITS, ids=[e["op"] + str(i) for i, e in enumerate(EDITS)])
def test_a_preview_read_on_part_of_the_community_says_what_one_read_on_all_of_it_says(big_town, edit):
    part, result = services._run(big_town, edit, final=False)
    assert part.loaded is not None  # it did read only a part
    assert len(part.loaded) < COLS * ROWS
    whole = load_state(big_town)
    whole.engine.check_coverage = False
    expected = impact(whole, edits.run(whole, edit, new_code=edits.next_codes(big_town)))
    assert result.body == expected.body
    assert result.body["impact"]["buildings_moved"] or result.body["impact"]["grids"]


def test_the_wrongly_registered_building_and_case_move_with_the_edit_that_covers_them(big_town):
    # Grid (2, 1) grows east: the building standing in it but registered to (5, 3) is placed again, into (2, 1),
    # and so is the case registered to (0, 0).
    _, result = services._run(big_town, EDITS[0], final=False)
    far = Building.objects.get(grid__code=code(5, 3), geom__intersects=Point(LON + 2.5 * D, LAT + 1.5 * D, srid=4326))
    moved = {m["id"]: (m["from"], m["to"]) for m in result.body["impact"]["buildings_moved"]}
    assert moved[far.pk] == (code(5, 3), code(2, 1))
    stray = Case.objects.get(grid__code=code(0, 0), location__intersects=rect(*cell(2, 1)))
    cases = {m["id"]: (m["from"], m["to"]) for m in result.body["impact"]["cases_moved"]}
    assert cases[stray.pk] == (code(0, 0), code(2, 1))


def test_plan_lists_every_building_with_its_grid_and_the_unassigned_one_without(big_town):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser(username="root", email="", password=None))
    response = client.get(f"/api/v1/communities/{COMMUNITY}/plan/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    features = {f["properties"]["id"]: f for f in body["buildings"]["features"]}
    assert len(features) == Building.objects.count()
    for b in Building.objects.select_related("grid"):
        assert features[b.pk]["properties"]["grid_code"] == (b.grid.code if b.grid else None)
    x, y = features[Building.objects.get(code="Q0").pk]["geometry"]["coordinates"][0][0][0]
    assert (round(x, 6), round(y, 6)) == (x, y)  # 6 decimals (≈10 cm) are enough to draw and snap to
    assert len(body["grids"]["features"]) == COLS * ROWS
