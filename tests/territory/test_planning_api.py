"""The planner's API: plan, preview, commit, restore, versions; bad input, stale versions and scope."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection
from rest_framework.test import APIClient

from gridgis.cases.models import Case, CaseEvent
from gridgis.territory.models import (
    Building,
    Community,
    CommunityVersion,
    District,
    Grid,
    GridChangeNotice,
    Street,
)
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole

LON, LAT, D = 123.0, 41.1, 0.0025  # cells ≈ 210 m × 280 m
COMMUNITY = "210302001002"
URL = f"/api/v1/communities/{COMMUNITY}/"
_numbers = itertools.count(1)


def rect(x0, y0, x1, y1) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


def cell(col, row) -> tuple[float, float, float, float]:
    return LON + col * D, LAT + row * D, LON + (col + 1) * D, LAT + (row + 1) * D


def code(n: int) -> str:
    return f"{COMMUNITY}{n:03d}"


def ring(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def town(db):
    """明达社区: six grids, 001–003 north (west→east), 004–006 south; four buildings of 30 households in
    each grid (one per quarter), a primary worker per grid, an open and a closed case in grid 002's west half."""
    district = District.objects.create(code="210302", name="铁东区", geom=rect(122.9, 41.0, 123.1, 41.2))
    street = Street.objects.create(code="210302001", name="站前街道", district=district,
                                   geom=rect(122.9, 41.0, 123.1, 41.2))
    community = Community.objects.create(code=COMMUNITY, name="明达社区", street=street,
                                         geom=rect(LON, LAT, LON + 3 * D, LAT + 2 * D))
    n = 0
    for row in (1, 0):
        for col in range(3):
            n += 1
            grid = Grid.objects.create(code=code(n), name=f"明达第{n}网格", community=community,
                                       households=120, population=360, geom=rect(*cell(col, row)))
            worker = GridWorker.objects.create(worker_id=f"W{n}", name=f"网格员{n}")
            GridAssignment.objects.create(worker=worker, grid=grid, role=GridAssignment.Role.PRIMARY)
            x0, y0, _, _ = cell(col, row)
            for i, (fx, fy) in enumerate([(0.25, 0.75), (0.75, 0.75), (0.25, 0.25), (0.75, 0.25)]):
                bx, by = x0 + fx * D, y0 + fy * D
                Building.objects.create(code=f"B{n}{i}", address=f"明达社区{n}号院{i + 1}号楼", grid=grid,
                                        households=30, population=90,
                                        geom=rect(bx - 0.0001, by - 0.0001, bx + 0.0001, by + 0.0001))
    g2 = Grid.objects.get(code=code(2))
    spot = Point(LON + 1.25 * D, LAT + 1.5 * D, srid=4326)
    for status in ("dispatched", "closed"):
        Case.objects.create(number=f"P{next(_numbers):07d}", description="路灯不亮", status=status, location=spot,
                            grid=g2, community=community, street=street, territory_code=g2.code,
                            assignee=g2.workers.first(), assignment_rule="covering_grid")
    return community


def user_with_role(name: str, role: str, scope: str):
    user = get_user_model().objects.create_user(username=name, password="pw-12345678")
    StaffRole.objects.create(user=user, role=role, scope_code=scope)
    return user


@pytest.fixture
def planner(town):
    return user_with_role("pat", StaffRole.Role.PLANNER, "210302001")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def state() -> str:
    """A fingerprint of everything an edit may change."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT string_agg(code || ST_AsText(geom) || coalesce(retired_at::text, '') || households, '|'
                              ORDER BY code)
            FROM territory_grid""")
        grids = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(code || coalesce(grid_id::text, ''), '|' ORDER BY code) "
                       "FROM territory_building")
        buildings = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(number || grid_id || coalesce(assignee_id::text, ''), '|' ORDER BY number) "
                       "FROM cases_case")
        cases = cursor.fetchone()[0]
    versions = CommunityVersion.objects.count()
    return hashlib.sha256(f"{grids}#{buildings}#{cases}#{versions}".encode()).hexdigest()


# 001 takes the west half of 002: its two western buildings and the open case move to 001.
TAKE_WEST_HALF = {"op": "reshape", "grid": code(1), "geometry": ring(LON, LAT + D, LON + 1.5 * D, LAT + 2 * D)}


def test_plan_shows_grids_workers_buildings_and_the_version(planner):
    body = client_for(planner).get(URL + "plan/").json()
    assert body["version"] == 1
    assert body["community"]["code"] == COMMUNITY
    assert body["community"]["geometry"]["type"] == "MultiPolygon"
    assert body["target"] == {"min_households": 300, "max_households": 500}
    grids = {f["properties"]["code"]: f["properties"] for f in body["grids"]["features"]}
    assert sorted(grids) == [code(n) for n in range(1, 7)]
    assert grids[code(2)]["seq"] == 2
    assert grids[code(2)]["open_cases"] == 1
    assert grids[code(2)]["workers"] == [{"id": GridWorker.objects.get(worker_id="W2").pk, "name": "网格员2",
                                          "role": "primary"}]
    assert len(body["buildings"]["features"]) == 24
    assert {f["properties"]["grid_code"] for f in body["buildings"]["features"]} == set(grids)


def test_preview_says_who_and_what_moves_and_changes_nothing(planner):
    before = state()
    response = client_for(planner).post(URL + "plan/preview/", {"version": 1, "edit": TAKE_WEST_HALF}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    rows = {r["code"]: r for r in body["impact"]["grids"]}
    assert set(rows) == {code(1), code(2)}
    assert rows[code(1)]["households_before"] == 120
    assert rows[code(1)]["households_after"] == 180
    assert rows[code(2)]["households_after"] == 60
    assert rows[code(2)]["status"] == "changed"
    assert {(b["code"], b["from"], b["to"]) for b in body["impact"]["buildings_moved"]} == {
        ("B20", code(2), code(1)), ("B22", code(2), code(1))}
    [moved] = body["impact"]["cases_moved"]
    assert (moved["from"], moved["to"]) == (code(2), code(1))
    assert moved["worker_from"] == "网格员2"
    assert moved["worker_to"] == "网格员1"
    assert moved["assignee_to"] == {"id": GridWorker.objects.get(worker_id="W1").pk, "name": "网格员1",
                                    "kind": "worker"}
    assert {w["name"] for w in body["impact"]["workers_affected"]} == {"网格员1", "网格员2"}
    after = {f["properties"]["code"]: f["properties"] for f in body["grids_after"]["features"]}
    assert after[code(1)]["households"] == 180
    assert after[code(1)]["open_cases"] == 1
    assert state() == before


def test_commit_moves_buildings_and_open_cases_and_keeps_closed_ones(planner):
    response = client_for(planner).post(URL + "plan/commit/", {"version": 1, "edit": TAKE_WEST_HALF,
                                                               "reason": "2号网格户数过多"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 2
    g1, g2 = Grid.objects.get(code=code(1)), Grid.objects.get(code=code(2))
    assert Building.objects.get(code="B20").grid == g1
    assert Building.objects.get(code="B21").grid == g2
    assert (g1.households, g2.households) == (180, 60)
    assert g1.geom.contains(Point(LON + 1.2 * D, LAT + 1.5 * D, srid=4326))
    open_case = Case.objects.get(status="dispatched")
    assert open_case.grid == g1
    assert open_case.assignee.name == "网格员1"
    assert open_case.territory_code == g1.code
    event = CaseEvent.objects.get(case=open_case, action="reassign")
    assert event.data["from_grid"] == code(2)
    assert event.data["grid"] == code(1)
    assert event.actor == planner
    timeline = client_for(planner).get(f"/api/v1/cases/{open_case.pk}/timeline/").json()
    assert timeline[-1]["label"] == "重新分派"  # the case's history says why its grid changed
    assert Case.objects.get(status="closed").grid == g2  # closed in 002, stays there
    assert GridChangeNotice.objects.filter(worker__worker_id="W2", version__version=2).exists()
    versions = client_for(planner).get(URL + "versions/").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["is_current"]
    assert versions[0]["reason"] == "2号网格户数过多"
    assert versions[0]["created_by"] == "pat"
    assert versions[0]["grids"] == [code(1), code(2)]
    assert client_for(planner).get(URL + "plan/").json()["version"] == 2


def test_stale_version_is_a_conflict_and_changes_nothing(planner):
    client = client_for(planner)
    assert client.post(URL + "plan/commit/", {"version": 1, "edit": TAKE_WEST_HALF, "reason": "a"},
                       format="json").status_code == 201
    before = state()
    other = {"op": "merge", "grids": [code(5), code(6)]}
    response = client.post(URL + "plan/commit/", {"version": 1, "edit": other, "reason": "b"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert [c["version"] for c in body["changes"]] == [2]
    assert body["changes"][0]["reason"] == "a"
    assert state() == before


def test_restore_brings_an_earlier_version_back_as_a_new_version(planner):
    client = client_for(planner)
    original = Grid.objects.get(code=code(1)).geom
    client.post(URL + "plan/commit/", {"version": 1, "edit": TAKE_WEST_HALF, "reason": "a"}, format="json")
    response = client.post(URL + "plan/restore/", {"version": 2, "to_version": 1, "reason": "撤销"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 3
    assert Grid.objects.get(code=code(1)).geom.equals(original)
    assert Building.objects.get(code="B20").grid.code == code(2)
    assert Case.objects.get(status="dispatched").grid.code == code(2)
    assert [v["version"] for v in client.get(URL + "versions/").json()] == [3, 2, 1]


def test_a_restore_can_be_previewed_and_brings_a_retired_grid_back(planner):
    client = client_for(planner)
    client.post(URL + "plan/commit/", {"version": 1, "edit": {"op": "merge", "grids": [code(5), code(6)]},
                                       "reason": "合并"}, format="json")
    before = state()
    response = client.post(URL + "plan/preview/", {"version": 2, "edit": {"op": "restore", "to_version": 1}},
                           format="json")
    assert response.status_code == 200, response.json()
    rows = {r["code"]: r["status"] for r in response.json()["impact"]["grids"]}
    assert rows == {code(5): "changed", code(6): "new"}
    names = {f["properties"]["code"]: f["properties"]["name"] for f in response.json()["grids_after"]["features"]}
    assert names[code(6)] == "明达第6网格"
    assert state() == before
    bad = client.post(URL + "plan/preview/", {"version": 2, "edit": {"op": "restore", "to_version": 9}}, format="json")
    assert bad.status_code == 400
    assert "to_version" in bad.json()
    response = client.post(URL + "plan/restore/", {"version": 2, "to_version": 1, "reason": "撤销合并"}, format="json")
    assert response.status_code == 201
    assert Grid.objects.get(code=code(6)).retired_at is None
    assert Building.objects.get(code="B60").grid.code == code(6)


def test_merge_retires_and_a_retired_code_is_never_reused(planner):
    client = client_for(planner)
    response = client.post(URL + "plan/commit/", {"version": 1, "edit": {"op": "merge", "grids": [code(1), code(2)]},
                                                  "reason": "合并"}, format="json")
    assert response.status_code == 201, response.json()
    retired = Grid.all_objects.get(code=code(2))
    assert retired.retired_at is not None
    assert not Grid.objects.filter(code=code(2)).exists()
    assert Case.objects.get(status="closed").grid == retired  # the closed case still points at its grid
    assert Case.objects.get(status="dispatched").grid.code == code(1)
    # 002's worker now helps in the merged grid
    assert GridAssignment.objects.get(worker__worker_id="W2").grid.code == code(1)
    line = {"type": "LineString", "coordinates": [[LON + 0.5 * D, LAT + 2.1 * D], [LON + 0.5 * D, LAT + 0.9 * D]]}
    response = client.post(URL + "plan/commit/", {"version": 2, "edit": {"op": "split", "grid": code(1), "line": line},
                                                  "reason": "拆分"}, format="json")
    assert response.status_code == 201, response.json()
    [new] = [r for r in response.json()["impact"]["grids"] if r["status"] == "new"]
    assert new["code"] == code(7)  # not 002: retired codes count
    assert Grid.objects.get(code=code(7)).name == "明达社区第7网格"
    assert Grid.objects.get(code=code(7)).workers.filter(worker_id="W1").exists()  # inherits the workers


def test_create_takes_the_area_from_the_grids_under_it(planner):
    geometry = ring(LON + 0.5 * D, LAT + 0.2 * D, LON + 1.5 * D, LAT + 0.8 * D)
    response = client_for(planner).post(URL + "plan/commit/", {"version": 1, "edit": {"op": "create",
                                                               "geometry": geometry}, "reason": "新小区"},
                                        format="json")
    assert response.status_code == 201, response.json()
    rows = {r["code"]: r["status"] for r in response.json()["impact"]["grids"]}
    assert rows == {code(4): "changed", code(5): "changed", code(7): "new"}
    assert Building.objects.get(code="B52").grid.code == code(7)


def test_a_small_self_intersection_is_repaired_and_reported(planner):
    # A thin bowtie: the ring crosses itself near its first corner; one lobe is a crumb, the other the shape.
    x0, y0, x1, y1 = LON, LAT + D, LON + 1.5 * D, LAT + 2 * D
    loop = [[x0, y0], [x1, y1], [x1, y0], [x0, y0 + 0.00002], [x0, y0]]
    edit = {"op": "reshape", "grid": code(1), "geometry": {"type": "Polygon", "coordinates": [loop]}}
    response = client_for(planner).post(URL + "plan/preview/", {"version": 1, "edit": edit}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["repairs"]
    assert "自相交" in response.json()["repairs"][0]


BOWTIE = {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + D, LAT + D], [LON + D, LAT], [LON, LAT + D],
                                              [LON, LAT]]]}
BAD = [
    ("bowtie", {"version": 1, "edit": {"op": "reshape", "grid": code(4), "geometry": BOWTIE}}, "geometry"),
    ("outside", {"version": 1, "edit": {"op": "create", "geometry": ring(LON + 1, LAT, LON + 1.01, LAT + 0.01)}},
     "geometry"),
    ("line misses", {"version": 1, "edit": {"op": "split", "grid": code(1), "line": {
        "type": "LineString", "coordinates": [[LON + 2.2 * D, LAT + 1.1 * D], [LON + 2.8 * D, LAT + 1.9 * D]]}}},
     "line"),
    ("line stops inside", {"version": 1, "edit": {"op": "split", "grid": code(1), "line": {
        "type": "LineString", "coordinates": [[LON + 0.5 * D, LAT + 2.1 * D], [LON + 0.5 * D, LAT + 1.5 * D]]}}},
     "line"),
    ("not touching", {"version": 1, "edit": {"op": "merge", "grids": [code(1), code(3)]}}, "grids"),
    ("corner only", {"version": 1, "edit": {"op": "merge", "grids": [code(1), code(5)]}}, "grids"),
    ("swallows a grid", {"version": 1, "edit": {"op": "reshape", "grid": code(1),
                                                "geometry": ring(LON, LAT + D, LON + 2 * D, LAT + 2 * D)}}, "geometry"),
    ("too small", {"version": 1, "edit": {"op": "create", "geometry": ring(LON + 0.1 * D, LAT + 0.1 * D,
                                                                        LON + 0.15 * D, LAT + 0.15 * D)}}, "geometry"),
    ("unknown grid", {"version": 1, "edit": {"op": "reshape", "grid": code(9), "geometry": ring(LON, LAT, LON + D,
                                                                                              LAT + D)}}, "grid"),
    ("unknown op", {"version": 1, "edit": {"op": "explode"}}, "op"),
    ("version text", {"version": "1", "edit": TAKE_WEST_HALF}, "version"),
    ("no version", {"edit": TAKE_WEST_HALF}, "version"),
    ("not geojson", {"version": 1, "edit": {"op": "create", "geometry": {"type": "Polygon", "coordinates": 5}}},
     "geometry"),
    ("give_to far away", {"version": 1, "edit": {**TAKE_WEST_HALF, "geometry": ring(LON, LAT + D, LON + 0.5 * D,
                                                                                  LAT + 2 * D),
                                                 "give_to": code(6)}}, "give_to"),
    ("merge one", {"version": 1, "edit": {"op": "merge", "grids": [code(1)]}}, "grids"),
]


@pytest.mark.parametrize(("body", "field"), [pytest.param(b, f, id=name) for name, b, f in BAD])
def test_bad_edits_name_the_field_and_change_nothing(planner, body, field):
    client = client_for(planner)
    before = state()
    for path in ("plan/preview/", "plan/commit/"):
        response = client.post(URL + path, {**body, "reason": "试"}, format="json")
        assert response.status_code == 400, (path, response.json())
        assert field in response.json(), response.json()
        assert response.json()[field][0]
    assert state() == before


def test_an_ambiguous_self_intersection_is_marked(planner):
    response = client_for(planner).post(URL + "plan/preview/", BAD[0][1], format="json")
    spot = response.json()["spot"]
    assert spot["type"] == "Point"
    assert spot["coordinates"] == pytest.approx([LON + D / 2, LAT + D / 2])


def test_commit_needs_a_reason(planner):
    before = state()
    for reason in (None, "", "   "):
        body = {"version": 1, "edit": TAKE_WEST_HALF} | ({} if reason is None else {"reason": reason})
        response = client_for(planner).post(URL + "plan/commit/", body, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
    assert state() == before


def test_planners_only_and_only_in_their_scope(town, planner):
    elsewhere = user_with_role("quinn", StaffRole.Role.PLANNER, "210303")
    centre = user_with_role("cc", StaffRole.Role.COMMAND_CENTRE, "210302")
    before = state()
    for user, expected in ((elsewhere, 404), (centre, 403)):
        client = client_for(user)
        assert client.get(URL + "plan/").status_code == expected
        assert client.get(URL + "versions/").status_code == expected
        for path in ("plan/preview/", "plan/commit/"):
            response = client.post(URL + path, {"version": 1, "edit": TAKE_WEST_HALF, "reason": "x"}, format="json")
            assert response.status_code == expected
        assert client.post(URL + "plan/restore/", {"version": 1, "to_version": 1, "reason": "x"},
                           format="json").status_code == expected
    assert client_for(planner).get("/api/v1/communities/210302001999/plan/").status_code == 404
    assert state() == before


def test_retired_grids_leave_the_map_api(planner):
    client_for(planner).post(URL + "plan/commit/", {"version": 1, "edit": {"op": "merge", "grids": [code(5), code(6)]},
                                                    "reason": "合并"}, format="json")
    root = get_user_model().objects.create_superuser(username="root", password="pw-12345678")
    features = client_for(root).get("/api/v1/territory/grids/", {"community": COMMUNITY}).json()
    codes = {f["properties"]["code"] for f in features.get("features", features.get("results", {}).get("features", []))}
    assert code(6) not in codes
    assert code(5) in codes
