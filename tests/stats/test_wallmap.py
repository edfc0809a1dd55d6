"""The wall map's data API (/api/v1/wall/): open cases in view as points or clusters, per-grid load and live
counts — counted right, only ever within the caller's scope, and bad views refused naming the field."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from gridgis.cases import transitions as t
from gridgis.cases.models import Case
from gridgis.stats import wallmap
from tests.cases.workflow_helpers import EAST, FAR, WEST, new_case, walk

pytest_plugins = ["tests.territory_factories", "tests.cases.workflow_fixtures"]

pytestmark = pytest.mark.django_db

TOWN = "122.98,41.08,123.02,41.12"
BOTH = "122.9,41.0,123.3,41.4"  # the town and the far district
CASES, GRIDS, SUMMARY = "/api/v1/wall/cases/", "/api/v1/wall/grids/", "/api/v1/wall/summary/"


@pytest.fixture
def town_cases(people):
    """Open in the west grid: plain, overdue, supervised (dispatched); open in the east grid: overdue;
    closed and voided in the west grid; open in the far district."""
    alice, bob = people["alice"], people["bob"]
    plain = new_case(at=WEST)
    late_west = new_case(at=(122.996, 41.101))
    watched = walk(new_case(at=(122.994, 41.099)), "dispatched", dispatcher=alice, handler=bob)
    watched = t.case_supervise(case=watched, by=alice, note="限期办结")
    late_east = new_case(at=EAST)
    Case.objects.filter(pk__in=[late_west.pk, late_east.pk]).update(deadline=timezone.now() - dt.timedelta(hours=2))
    closed = walk(new_case(at=WEST), "closed", dispatcher=alice, handler=bob)
    voided = t.case_void(case=new_case(at=WEST), by=alice, reason="重复")
    far = new_case(at=FAR)
    return {"plain": plain, "late_west": late_west, "watched": watched, "late_east": late_east, "closed": closed,
            "voided": voided, "far": far}


@pytest.fixture(autouse=True)
def _no_cached_counts():
    wallmap.code_counts_cache.clear()
    yield
    wallmap.code_counts_cache.clear()


def get(user, url, **params):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client.get(url, params)


def ids(body) -> set[int]:
    assert body["mode"] == "points"
    return {row[0] for row in body["cases"]}


def test_points_are_the_open_cases_in_view_with_their_flags(people, town_cases):
    body = get(people["alice"], CASES, bbox=BOTH, zoom=14).json()
    c = town_cases
    assert ids(body) == {c["plain"].pk, c["late_west"].pk, c["watched"].pk, c["late_east"].pk}
    assert body["fields"] == ["id", "lon", "lat", "status", "flags"]
    flags = {row[0]: row[4] for row in body["cases"]}
    assert flags[c["plain"].pk] == 0
    assert flags[c["late_west"].pk] == wallmap.OVERDUE
    assert flags[c["watched"].pk] == wallmap.SUPERVISED
    row = next(r for r in body["cases"] if r[0] == c["plain"].pk)
    assert row[1:4] == [WEST[0], WEST[1], "received"]
    assert body["truncated"] is False


def test_a_view_holding_too_many_cases_comes_as_clusters_that_add_up(people, town_cases, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "WALL_POINT_LIMIT": 2}
    body = get(people["alice"], CASES, bbox=BOTH, zoom=12).json()
    assert body["mode"] == "clusters"
    clusters = body["clusters"]
    assert sum(row[2] for row in clusters) == body["count"] == 4  # the far district's case is not alice's
    assert sum(row[3] for row in clusters) == 2  # overdue
    assert sum(row[4] for row in clusters) == 1  # supervised
    for lon, lat, *_ in clusters:
        assert 122.98 <= lon <= 123.02
        assert 41.08 <= lat <= 41.12
    # Zoomed out far enough, the town is one cell.
    assert get(people["alice"], CASES, bbox=BOTH, zoom=8).json()["clusters"] == [
        [pytest.approx(clusters[0][0], abs=0.01), pytest.approx(clusters[0][1], abs=0.01), 4, 2, 1]]


def test_zoomed_in_clusters_are_made_from_the_cases_own_points(people, town_cases, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "WALL_POINT_LIMIT": 2}
    zoom = wallmap.GRID_ZOOM + 1
    body = get(people["alice"], CASES, bbox=BOTH, zoom=zoom).json()
    assert body["mode"] == "clusters"
    assert sum(row[2] for row in body["clusters"]) == 4
    assert sum(row[3] for row in body["clusters"]) == 2
    assert sum(row[4] for row in body["clusters"]) == 1
    # West and east grids are ~800 m apart: at this zoom never in one cell.
    assert len(body["clusters"]) >= 2
    settings.GRIDGIS = {**settings.GRIDGIS, "WALL_POINT_LIMIT": 0}
    assert [row[2:] for row in get(people["olga"], CASES, bbox=BOTH, zoom=zoom).json()["clusters"]] == [[1, 0, 0]]


def test_a_case_event_refreshes_the_counts_at_once(people, town_cases):
    assert get(people["alice"], SUMMARY).json()["open"] == 4
    new_case(at=EAST)
    assert get(people["alice"], SUMMARY).json()["open"] == 5
    assert get(people["alice"], GRIDS).json()["grids"]["210302001002002"] == [2, 1, 0]


def test_zoomed_in_the_points_come_whatever_their_number_capped(people, town_cases, settings, monkeypatch):
    settings.GRIDGIS = {**settings.GRIDGIS, "WALL_POINT_LIMIT": 2}
    monkeypatch.setattr(wallmap, "MAX_POINTS", 3)
    body = get(people["alice"], CASES, bbox=TOWN, zoom=wallmap.POINTS_ZOOM).json()
    assert body["mode"] == "points"
    assert len(body["cases"]) == 3
    assert body["truncated"] is True


def test_nobody_sees_a_case_outside_their_scope_in_any_view(people, town_cases):
    c = town_cases
    olga, bob, charlie = people["olga"], people["bob"], people["charlie"]
    # olga: command centre of the far district only.
    assert ids(get(olga, CASES, bbox=BOTH, zoom=14).json()) == {c["far"].pk}
    assert ids(get(olga, CASES, bbox=TOWN, zoom=14).json()) == set()
    assert get(olga, GRIDS).json()["grids"] == {"210303001001001": [1, 0, 0]}
    assert get(olga, SUMMARY).json()["open"] == 1
    # bob works the west grid, charlie the east one.
    assert ids(get(bob, CASES, bbox=BOTH, zoom=14).json()) == {c["plain"].pk, c["late_west"].pk, c["watched"].pk}
    assert ids(get(charlie, CASES, bbox=BOTH, zoom=14).json()) == {c["late_east"].pk}
    assert set(get(charlie, GRIDS).json()["grids"]) == {"210302001002002"}


def test_clusters_never_count_a_case_outside_the_scope(people, town_cases, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "WALL_POINT_LIMIT": 0}
    body = get(people["olga"], CASES, bbox=BOTH, zoom=8).json()
    assert body["mode"] == "clusters"
    assert [row[2:] for row in body["clusters"]] == [[1, 0, 0]]
    assert get(people["charlie"], CASES, bbox=BOTH, zoom=8).json()["clusters"][0][2:] == [1, 1, 0]


def test_grid_loads_count_open_overdue_and_supervised_cases(people, town_cases, town):
    assert get(people["alice"], GRIDS).json()["grids"] == {town.west.code: [3, 1, 1], town.east.code: [1, 1, 0]}
    assert get(people["root"], GRIDS).json()["grids"]["210303001001001"] == [1, 0, 0]


def test_live_counts(people, town_cases):
    counts = get(people["alice"], SUMMARY).json()
    assert {k: counts[k] for k in ("open", "overdue", "supervised", "today_new")} == {
        "open": 4, "overdue": 2, "supervised": 1, "today_new": 6}  # received today: closed and voided too
    assert counts["as_of"].endswith("+08:00")


def test_today_starts_at_midnight_in_shanghai(people, town_cases):
    case = town_cases["plain"]
    midnight = wallmap.start_of_day(timezone.now())
    Case.objects.filter(pk=case.pk).update(received_at=midnight - dt.timedelta(seconds=1))
    assert get(people["alice"], SUMMARY).json()["today_new"] == 5
    assert midnight.utcoffset() == dt.timedelta(hours=8)


@pytest.mark.parametrize(("params", "field"), [
    ({"zoom": 12}, "bbox"),
    ({"bbox": "1,2,3", "zoom": 12}, "bbox"),
    ({"bbox": "a,b,c,d", "zoom": 12}, "bbox"),
    ({"bbox": "123.1,41.0,123.0,41.2", "zoom": 12}, "bbox"),
    ({"bbox": "nan,41.0,123.0,41.2", "zoom": 12}, "bbox"),
    ({"bbox": "-200,41.0,123.0,41.2", "zoom": 12}, "bbox"),
    ({"bbox": TOWN}, "zoom"),
    ({"bbox": TOWN, "zoom": -1}, "zoom"),
    ({"bbox": TOWN, "zoom": 23}, "zoom"),
    ({"bbox": TOWN, "zoom": "near"}, "zoom"),
])
def test_a_bad_view_is_refused_naming_the_field(alice, params, field):
    response = get(alice, CASES, **params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0]


def test_anonymous_callers_get_nothing(town_cases):
    for url, params in ((CASES, {"bbox": TOWN, "zoom": 12}), (GRIDS, {}), (SUMMARY, {})):
        assert get(None, url, **params).status_code in (401, 403)


def test_clusters_crowding_a_shared_cell_edge_are_drawn_as_one():
    view = wallmap.View(122.9, 41.0, 123.3, 41.4, zoom=16)
    width, _ = wallmap.cell_size(view)
    edge = math.floor(123.0 / width) * width  # a cell boundary near lon 123.0
    rows = [[edge - width * 0.1, 41.1, 30, 3, 1], [edge + width * 0.1, 41.1, 10, 1, 0],
            [edge + width * 5, 41.1, 7, 0, 2]]
    near, far = sorted(wallmap.merged(rows, view), key=lambda row: -row[2])
    assert near[2:] == [40, 4, 1]
    assert near[0] == pytest.approx(edge - width * 0.05, abs=1e-5)  # weighted by the counts
    assert far[2:] == [7, 0, 2]


def test_a_few_cases_crowding_one_spot_come_as_clusters_when_zoomed_out(people, town_cases):
    """The demo city's ~500 open cases at z12 were sent as points (under the point limit) and drew a blot of
    overlapping dots: zoomed out, cells holding more than cell_points() cases on average make the view clusters."""
    extra = 2 * int(wallmap.cell_points())
    for _ in range(extra):
        new_case(at=WEST)
    body = get(people["alice"], CASES, bbox=TOWN, zoom=13).json()
    assert body["mode"] == "clusters"
    assert body["count"] == 4 + extra
    # Zoomed in past the grid level the same cases are points again, every one of them.
    zoomed_in = get(people["alice"], CASES, bbox=TOWN, zoom=wallmap.GRID_ZOOM + 1).json()
    assert len(ids(zoomed_in)) == 4 + extra


def test_cases_spread_one_or_two_a_cell_stay_points_when_zoomed_out(people, town_cases):
    """…but cases spread thin stay dots with their status colours, not bubbles saying "1"."""
    body = get(people["alice"], CASES, bbox=TOWN, zoom=14).json()
    assert len(ids(body)) == 4
