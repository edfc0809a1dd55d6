"""After any sequence of committed edits the database still holds an exact tiling: checked in PostGIS, not in
the engine's own terms. Also auto-partition, the live notification and two planners racing."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
from django.db import connection

from bench.scratch import conninfo
from gridgis.territory.models import Building, CommunityVersion, Grid
from gridgis.workforce.models import StaffRole

from .test_planning_api import COMMUNITY, LAT, LON, URL, D, client_for, code, ring, town, user_with_role  # noqa: F401


@pytest.fixture
def planner(town):  # noqa: F811
    return user_with_role("pat", StaffRole.Role.PLANNER, "210302001")


def assert_tiled_in_postgis() -> None:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT ST_Area(ST_SymDifference(c.geom, (SELECT ST_Union(g.geom) FROM territory_grid g
                                                     WHERE g.community_id = c.id AND g.retired_at IS NULL))::geography)
            FROM territory_community c WHERE c.code = %s""", [COMMUNITY])
        assert cursor.fetchone()[0] < 1.0  # m²
        cursor.execute("""
            SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
            FROM territory_grid a JOIN territory_grid b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
            WHERE a.retired_at IS NULL AND b.retired_at IS NULL""")
        assert cursor.fetchone()[0] < 1.0
        # every building in exactly one current grid, the one holding (nearly all of) it
        cursor.execute("""
            SELECT b.code, g.retired_at IS NULL, ST_Area(ST_Intersection(b.geom, g.geom)) / ST_Area(b.geom)
            FROM territory_building b JOIN territory_grid g ON g.id = b.grid_id""")
        for building, current, share in cursor.fetchall():
            assert current, building
            assert share > 0.99, building
        # every open case in the current grid covering its point
        cursor.execute("""
            SELECT c.number, g.retired_at IS NULL, ST_Covers(g.geom, c.location)
            FROM cases_case c JOIN territory_grid g ON g.id = c.grid_id
            WHERE c.status NOT IN ('closed', 'voided')""")
        for number, current, covers in cursor.fetchall():
            assert current, number
            assert covers, number
        # households recomputed from buildings
        cursor.execute("""
            SELECT g.code, g.households, coalesce((SELECT sum(households) FROM territory_building b
                                                   WHERE b.grid_id = g.id), 0)
            FROM territory_grid g WHERE g.retired_at IS NULL""")
        for grid, stored, counted in cursor.fetchall():
            assert stored == counted, grid


SEQUENCE = [
    {"op": "reshape", "grid": code(1), "geometry": ring(LON, LAT + 0.7 * D, LON + 1.3 * D, LAT + 2 * D)},
    {"op": "split", "grid": code(5), "line": {"type": "LineString", "coordinates": [
        [LON + 0.9 * D, LAT + 0.5 * D], [LON + 2.1 * D, LAT + 0.55 * D]]}},
    {"op": "merge", "grids": [code(2), code(3)]},
    {"op": "create", "geometry": ring(LON + 1.6 * D, LAT + 0.1 * D, LON + 2.6 * D, LAT + 0.9 * D)},
    {"op": "reshape", "grid": code(4), "geometry": ring(LON, LAT, LON + 1.1 * D, LAT + 0.8 * D), "give_to": code(1)},
]


def test_the_database_stays_tiled_through_a_sequence_of_commits_and_an_undo(planner):
    client = client_for(planner)
    version = 1
    for edit in SEQUENCE:
        response = client.post(URL + "plan/commit/", {"version": version, "edit": edit, "reason": "调整"},
                               format="json")
        assert response.status_code == 201, (edit, response.json())
        version = response.json()["version"]
        assert_tiled_in_postgis()
    response = client.post(URL + "plan/restore/", {"version": version, "to_version": 3, "reason": "撤销"},
                           format="json")
    assert response.status_code == 201, response.json()
    assert_tiled_in_postgis()
    assert sorted(Grid.objects.filter(community__code=COMMUNITY).values_list("code", flat=True)) == sorted(
        CommunityVersion.objects.get(version=3).grid_rows.values_list("code", flat=True))


def test_auto_partition_balances_households_and_commits_like_any_edit(planner):
    client = client_for(planner)
    preview = client.post(URL + "plan/preview/", {"version": 1, "edit": {"op": "partition", "n": 4}}, format="json")
    assert preview.status_code == 200, preview.json()
    after = [f["properties"]["households"] for f in preview.json()["grids_after"]["features"]]
    assert len(after) == 4
    assert sum(after) == 720
    assert max(after) / min(after) <= 1.3
    response = client.post(URL + "plan/commit/", {"version": 1, "edit": {"op": "partition", "households_per_grid": 240},
                                                  "reason": "按户数重划"}, format="json")
    assert response.status_code == 201, response.json()
    assert Grid.objects.filter(community__code=COMMUNITY).count() == 3
    assert_tiled_in_postgis()
    assert not Building.objects.filter(grid__retired_at__isnull=False).exists()


def test_partition_needs_a_count(planner):
    response = client_for(planner).post(URL + "plan/preview/", {"version": 1, "edit": {"op": "partition", "n": 0}},
                                        format="json")
    assert response.status_code == 400
    assert "n" in response.json()


@pytest.mark.django_db(transaction=True)
def test_a_commit_is_announced_on_the_territory_channel_after_it_commits(planner):
    with psycopg.connect(conninfo(connection.settings_dict["NAME"]), autocommit=True) as listener:
        listener.execute("LISTEN gridgis_territory")
        response = client_for(planner).post(URL + "plan/commit/", {
            "version": 1, "edit": {"op": "merge", "grids": [code(5), code(6)]}, "reason": "合并"}, format="json")
        assert response.status_code == 201
        [note] = list(listener.notifies(timeout=5, stop_after=1))
    assert json.loads(note.payload) == {"community": COMMUNITY, "version": 2}


@pytest.mark.django_db(transaction=True)
def test_two_planners_racing_one_wins_the_other_gets_409(planner):
    other = user_with_role("pia", StaffRole.Role.PLANNER, "210302")
    edits = [(planner, {"op": "merge", "grids": [code(5), code(6)]}),
             (other, {"op": "merge", "grids": [code(1), code(2)]})]
    results = {}
    start = threading.Barrier(2)

    def run(user, edit):
        start.wait()
        try:
            results[user.username] = client_for(user).post(URL + "plan/commit/", {
                "version": 1, "edit": edit, "reason": "并发"}, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in edits]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [201, 409]
    assert CommunityVersion.objects.filter(community__code=COMMUNITY).count() == 2  # the baseline and the winner
    assert Grid.objects.filter(community__code=COMMUNITY).count() == 5
    assert_tiled_in_postgis()
