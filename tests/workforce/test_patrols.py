"""Patrols API: a worker's GPS track per session, its geodesic length, who may see and write it, and what a
bad or repeated batch does (nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from pyproj import Geod
from rest_framework.test import APIClient

from gridgis.workforce.models import Patrol

pytest_plugins = ["tests.territory_factories"]

START = "/api/v1/patrols/"
ACTIVE = "/api/v1/patrols/active/"


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def walk(start: dt.datetime, n: int = 5, *, step_s: int = 30) -> list[dict]:
    """A walk north along lon 122.995 (bob's west grid) from lat 41.095, 0.001° (~111 m) every `step_s`."""
    return [{"lon": 122.995, "lat": round(41.095 + 0.001 * i, 6), "t": ms(start + dt.timedelta(seconds=step_s * i)),
             "accuracy": 8} for i in range(n)]


def send(client, patrol_id: int, points: list[dict], key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/patrols/{patrol_id}/points/", {"points": points}, format="json", **headers)


def started(client, since: dt.timedelta = dt.timedelta(minutes=30)) -> int:
    """A patrol started `since` ago (as a phone that queued its start offline says)."""
    response = client.post(START, {"started_at": (timezone.now() - since).isoformat()}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()["id"]


@pytest.mark.django_db
def test_a_track_is_measured_on_the_spheroid(api, bob):
    client = api(bob)
    begin = timezone.now() - dt.timedelta(minutes=10)
    patrol = started(client, dt.timedelta(minutes=10))
    response = send(client, patrol, walk(begin))
    assert response.status_code == 200, response.content
    body = response.json()
    # 0.004° of latitude at 41.1° N is 444.3 m on the WGS84 ellipsoid.
    expected = Geod(ellps="WGS84").inv(122.995, 41.095, 122.995, 41.099)[2]
    assert abs(expected - 444.3) < 0.5
    assert body["distance_m"] == pytest.approx(expected, abs=0.2)
    assert body["accepted"] == 5
    assert body["point_count"] == 5
    assert body["last_point_at"].endswith("+08:00")  # Asia/Shanghai

    row = Patrol.objects.get(pk=patrol)
    assert row.track.geom_type == "LineString"
    assert row.track.srid == 4326
    assert len(row.track.coords) == 5

    end = client.post(f"/api/v1/patrols/{patrol}/end/", {}, format="json").json()
    assert end["active"] is False
    assert end["ended_at"]
    assert end["duration_s"] >= 10 * 60 - 5
    assert end["track"]["type"] == "LineString"
    assert len(end["track"]["coordinates"]) == 5


@pytest.mark.django_db
def test_poor_fixes_jumps_and_late_points_are_dropped(api, bob):
    client = api(bob)
    patrol = started(client)
    begin = timezone.now() - dt.timedelta(minutes=10)
    points = walk(begin, 3)
    points.append({"lon": 122.995, "lat": 41.0985, "t": ms(begin + dt.timedelta(seconds=95)), "accuracy": 80})
    # 1.1 km in 10 s: ~400 km/h, a multipath jump
    points.append({"lon": 122.995, "lat": 41.108, "t": ms(begin + dt.timedelta(seconds=70)), "accuracy": 5})
    points.reverse()  # out of order within the batch: sorted first
    body = send(client, patrol, points).json()
    assert (body["accepted"], body["ignored"]) == (3, 2)

    # A point older than the track's end is ignored, a later one appended.
    late = [{"lon": 122.9951, "lat": 41.0951, "t": ms(begin + dt.timedelta(seconds=5)), "accuracy": 5},
            {"lon": 122.995, "lat": 41.098, "t": ms(begin + dt.timedelta(seconds=120)), "accuracy": 5}]
    body = send(client, patrol, late).json()
    assert (body["accepted"], body["ignored"], body["point_count"]) == (1, 1, 4)
    # So is a fix from before the patrol began.
    before = [{"lon": 122.995, "lat": 41.1, "t": ms(timezone.now() - dt.timedelta(hours=1)), "accuracy": 5}]
    assert send(client, started(client), before).json()["accepted"] == 0
    coords = Patrol.objects.get(pk=patrol).track.coords
    assert [round(lat, 4) for _, lat in coords] == [41.095, 41.096, 41.097, 41.098]


@pytest.mark.django_db
def test_a_batch_sent_twice_with_its_key_is_applied_once(api, bob):
    client = api(bob)
    patrol = started(client)
    points = walk(timezone.now() - dt.timedelta(minutes=5), 3)
    first = send(client, patrol, points, key="batch-7f3c").json()
    again = send(client, patrol, points, key="batch-7f3c").json()
    assert first["accepted"] == 3
    assert again["replayed"] is True
    assert again["accepted"] == 0
    assert again["point_count"] == 3
    assert again["distance_m"] == first["distance_m"]
    # Even under a new key (a client that lost its key), points already in the track are not added again.
    other = send(client, patrol, points, key="batch-other").json()
    assert other["accepted"] == 0
    assert other["point_count"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize(("points", "field"), [
    ([{"lon": 122.995, "lat": 95, "t": 1_700_000_000_000}], "lat"),
    ([{"lon": "east", "lat": 41.1, "t": 1_700_000_000_000}], "lon"),
    ([{"lon": 122.995, "lat": 41.1}], "t"),
    ([{"lon": 122.995, "lat": 41.1, "t": "yesterday"}], "t"),
    ([{"lon": 122.995, "lat": 41.1, "t": 4_000_000_000_000}], "t"),  # the year 2096
    ([{"lon": 122.995, "lat": 41.1, "t": 1_700_000_000_000, "accuracy": -3}], "accuracy"),
])
def test_a_bad_point_is_a_400_naming_the_field_and_nothing_changes(api, bob, points, field):
    client = api(bob)
    patrol = started(client)
    good = walk(timezone.now() - dt.timedelta(minutes=5), 2)
    response = send(client, patrol, [*good, *points])
    assert response.status_code == 400
    assert field in response.json()["points"]["2"]
    assert Patrol.objects.get(pk=patrol).point_count == 0


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"points": []}, {"points": "here"}])
def test_a_batch_without_points_is_a_400(api, bob, body):
    client = api(bob)
    patrol = started(client)
    response = client.post(f"/api/v1/patrols/{patrol}/points/", body, format="json")
    assert response.status_code == 400
    assert "points" in response.json()


@pytest.mark.django_db
def test_a_bad_start_time_or_key_is_a_400(api, bob):
    client = api(bob)
    response = client.post(START, {"started_at": "2001-01-01T00:00:00+08:00"}, format="json")
    assert response.status_code == 400
    assert "started_at" in response.json()
    assert not Patrol.objects.exists()
    patrol = started(client)
    response = send(client, patrol, walk(timezone.now() - dt.timedelta(minutes=1), 2), key="k" * 201)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


@pytest.mark.django_db
def test_one_active_patrol_per_worker(api, bob):
    client = api(bob)
    first = client.post(START, {}, format="json")
    again = client.post(START, {}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    client.post(f"/api/v1/patrols/{first.json()['id']}/end/", {}, format="json")
    assert client.post(START, {}, format="json").status_code == 201
    assert Patrol.objects.filter(ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_forgotten_patrol_is_ended_when_the_next_one_starts(api, bob):
    client = api(bob)
    old = started(client)
    Patrol.objects.filter(pk=old).update(started_at=timezone.now() - dt.timedelta(hours=5))
    new = client.post(START, {}, format="json")
    assert new.status_code == 201
    assert new.json()["id"] != old
    assert Patrol.objects.get(pk=old).ended_at is not None


@pytest.mark.django_db
def test_only_grid_workers_patrol(api, alice):
    response = api(alice).post(START, {}, format="json")
    assert response.status_code == 403
    assert not Patrol.objects.exists()


@pytest.mark.django_db
def test_only_the_owner_writes_and_only_the_scope_reads(api, bob, charlie, alice):
    patrol = started(api(bob))
    send(api(bob), patrol, walk(timezone.now() - dt.timedelta(minutes=5), 3))
    more = walk(timezone.now() - dt.timedelta(minutes=1), 2)
    # charlie (another grid) does not even learn it exists; alice (command centre) sees it but may not write.
    assert send(api(charlie), patrol, more).status_code == 404
    assert api(charlie).post(f"/api/v1/patrols/{patrol}/end/", {}, format="json").status_code == 404
    assert api(charlie).get(f"/api/v1/patrols/{patrol}/").status_code == 404
    assert send(api(alice), patrol, more).status_code == 403
    assert api(alice).post(f"/api/v1/patrols/{patrol}/end/", {}, format="json").status_code == 403
    assert Patrol.objects.get(pk=patrol).point_count == 3
    assert Patrol.objects.get(pk=patrol).ended_at is None

    assert [p["id"] for p in api(bob).get(START).json()["results"]] == [patrol]
    assert api(charlie).get(START).json()["results"] == []
    listed = api(alice).get(START, {"active": "true"}).json()["results"]
    assert [(p["id"], p["worker"]["name"], p["grid_codes"]) for p in listed] == [(patrol, "王博", ["210302001002001"])]


@pytest.mark.django_db
def test_active_patrols_are_linestring_features_in_scope(api, bob, charlie, alice, django_user_model):
    patrol = started(api(bob))
    send(api(bob), patrol, walk(timezone.now() - dt.timedelta(minutes=5), 3))
    lone = started(api(charlie))  # one fix so far: a zero-length line
    send(api(charlie), lone, [{"lon": 123.005, "lat": 41.1, "t": ms(timezone.now()), "accuracy": 5}])

    collection = api(alice).get(ACTIVE).json()
    assert collection["type"] == "FeatureCollection"
    by_id = {f["properties"]["id"]: f for f in collection["features"]}
    assert set(by_id) == {patrol, lone}
    feature = by_id[patrol]
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == 3
    assert set(feature["properties"]) == {"id", "worker_name", "grid_codes", "started_at", "distance_m",
                                          "last_point_at"}
    assert feature["properties"]["worker_name"] == "王博"
    assert feature["properties"]["grid_codes"] == ["210302001002001"]
    assert feature["properties"]["distance_m"] > 200
    assert by_id[lone]["geometry"]["coordinates"] == [[123.005, 41.1], [123.005, 41.1]]

    assert {f["properties"]["id"] for f in api(charlie).get(ACTIVE).json()["features"]} == {lone}
    stranger = django_user_model.objects.create_user("dora", password="x-pass-123")
    assert api(stranger).get(ACTIVE).json()["features"] == []

    api(bob).post(f"/api/v1/patrols/{patrol}/end/", {}, format="json")
    assert {f["properties"]["id"] for f in api(alice).get(ACTIVE).json()["features"]} == {lone}
    assert APIClient().get(ACTIVE).status_code == 403


@pytest.mark.django_db
def test_points_after_the_end_are_refused_and_ending_twice_is_harmless(api, bob):
    client = api(bob)
    patrol = started(client)
    send(client, patrol, walk(timezone.now() - dt.timedelta(minutes=5), 2))
    first = client.post(f"/api/v1/patrols/{patrol}/end/", {}, format="json").json()
    second = client.post(f"/api/v1/patrols/{patrol}/end/", {}, format="json").json()
    assert first["ended_at"] == second["ended_at"]
    late = [{"lon": 122.995, "lat": 41.1, "t": ms(timezone.now()), "accuracy": 5}]
    response = send(client, patrol, late)
    assert response.status_code == 409
    assert response.json()["code"] == "patrol_ended"
    assert Patrol.objects.get(pk=patrol).point_count == 2
