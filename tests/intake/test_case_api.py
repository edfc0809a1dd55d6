"""POST /api/v1/cases/ and GET /api/v1/cases/{id}/ as a phone app or hotline system uses them."""

import json
import re

import pytest
from django.contrib.gis.geos import Point
from pyproj import Geod

from geodata.china_coords import wgs84_to_bd09, wgs84_to_gcj02
from gridgis.cases.models import Case

from .conftest import EAST, WEST, point

URL = "/api/v1/cases/"
GEOD = Geod(ellps="WGS84")


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def report(**fields) -> dict:
    body = {"description": "楼下垃圾堆了三天没人清理", "category": "SJ0102", "location": point(*WEST),
            "channel": "app", "reporter_name": "张三", "reporter_phone": "13812345678"}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def test_a_report_in_the_west_grid_goes_to_its_grid_worker(town, bob, alice, api):
    response = api(alice).post(URL, report(), format="json")
    assert response.status_code == 201, response.json()
    case = response.json()
    assert re.fullmatch(r"\d{8}\d{7}", case["number"])
    assert case["status"] == "received"
    assert case["grid"] == {"code": town.west.code, "name": town.west.name}
    assert case["community"]["code"] == town.community.code
    assert case["street"]["code"] == town.street.code
    assert case["assignee"]["name"] == "王博"
    assert case["assignment"] == {"rule": "covering_grid", "distance_m": 0.0}
    assert case["geocode"]["method"] == "point"
    assert case["location"]["coordinates"] == pytest.approx(list(WEST))
    assert case["deadline"] is not None
    assert api(alice).get(f"{URL}{case['id']}/").json() == case


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_phone_coordinates_are_stored_back_in_wgs84(town, bob, alice, api, crs, forward):
    shifted = forward(*EAST)
    assert metres_between(shifted, EAST) > 100  # the shift is real, so storing it shifted would be caught
    response = api(alice).post(URL, report(location=point(*shifted), crs=crs), format="json")
    stored = response.json()["location"]["coordinates"]
    assert metres_between(tuple(stored), EAST) < 0.5
    assert response.json()["grid"]["code"] == town.east.code


def test_a_point_on_the_shared_boundary_goes_to_the_north_western_grid(town, alice, api):
    on_boundary = (123.0, 41.10)
    codes = {api(alice).post(URL, report(location=point(*on_boundary)), format="json").json()["grid"]["code"]
             for _ in range(3)}
    assert codes == {town.west.code}


def test_a_point_just_outside_every_grid_goes_to_the_nearest_within_50_m(town, alice, api):
    # 30 m east of the east grid's edge at 123.01 (1° of longitude ≈ 84 km at 41.1°N).
    lon = 123.01 + 30 / 84_000
    case = api(alice).post(URL, report(location=point(lon, 41.10)), format="json").json()
    assert case["grid"]["code"] == town.east.code
    assert case["assignment"]["rule"] == "nearest_grid"
    assert case["assignment"]["distance_m"] == pytest.approx(30, abs=2)


def test_a_point_far_outside_the_territory_is_kept_unassigned_with_a_warning(town, alice, api):
    beijing = (116.397, 39.909)
    response = api(alice).post(URL, report(location=point(*beijing)), format="json")
    assert response.status_code == 201
    case = response.json()
    assert case["grid"] is None
    assert case["assignee"] is None
    assert case["assignment"]["rule"] == "unassigned"
    assert case["warnings"]
    # Filed under the operator's district, so the command centre sees it in its unassigned queue.
    assert Case.objects.get(pk=case["id"]).territory_code == town.district.code


def test_the_same_idempotency_key_returns_the_same_case(town, alice, api):
    client = api(alice)
    first = client.post(URL, report(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, report(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1


def test_a_reused_idempotency_key_with_another_report_is_a_conflict(town, alice, api):
    client = api(alice)
    client.post(URL, report(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = client.post(URL, report(description="另一件事"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()
    assert Case.objects.count() == 1


def test_a_second_report_nearby_is_linked_as_a_possible_duplicate(town, alice, api):
    first = api(alice).post(URL, report(), format="json").json()
    nearby = (WEST[0] + 20 / 84_000, WEST[1])
    second = api(alice).post(URL, report(location=point(*nearby)), format="json").json()
    assert second["duplicate_of"] == {"id": first["id"], "number": first["number"]}
    other_kind = api(alice).post(URL, report(location=point(*nearby), category="SJ0201"), format="json").json()
    assert other_kind["duplicate_of"] is None


def _rejected(client, body, field, *, fmt="json"):
    """Posts a bad report (asking for English messages) and checks that nothing was created."""
    before = Case.objects.count()
    response = client.post(URL, body, format=fmt, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert Case.objects.count() == before
    return errors[field]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"description": None}, "description", "required"),
        ({"description": "   "}, "description", "blank"),
        ({"description": "垃圾" * 2001}, "description", "4000"),
        ({"location": None, "address": None}, "location", "address"),
        ({"crs": "epsg3857"}, "crs", "unknown crs"),
        ({"category": "XX9999"}, "category", "unknown category"),
        ({"location": point(41.10, 122.995)}, "location", "swapped"),
        ({"location": point(200.0, 41.1)}, "location", "longitude"),
        ({"location": {"type": "Point", "coordinates": [123.0]}}, "location", "GeoJSON Point"),
        ({"location": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}, "location", "GeoJSON Point"),
        ({"location": {"type": "Point", "coordinates": ["123", "41"]}}, "location", "GeoJSON Point"),
        ({"reporter_phone": "<script>"}, "reporter_phone", "digits"),
    ],
)
def test_bad_reports_are_refused_naming_the_field_and_create_nothing(town, alice, api, fields, field, reason):
    messages = _rejected(api(alice), report(**fields), field)
    assert reason.lower() in " ".join(messages).lower()


def test_nan_and_infinity_are_refused(town, alice, api):
    body = json.dumps(report()).replace("122.995", "NaN")
    before = Case.objects.count()
    response = api(alice).generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400
    assert Case.objects.count() == before
    form = report(location=json.dumps(point(0, 0)).replace("0, 0", "Infinity, 41"))
    response = api(alice).post(URL, form, format="multipart")
    assert response.status_code == 400
    assert "location" in response.json()


def test_html_in_a_description_is_kept_as_text(town, alice, api):
    hostile = '<img src=x onerror=alert(1)>'
    case = api(alice).post(URL, report(description=hostile), format="json").json()
    assert case["description"] == hostile


def test_anonymous_callers_cannot_report_or_read(town, alice, api):
    assert api(None).post(URL, report(), format="json").status_code in (401, 403)
    case = api(alice).post(URL, report(), format="json").json()
    assert api(None).get(f"{URL}{case['id']}/").status_code in (401, 403)


def test_a_case_outside_your_grid_does_not_exist_for_you(town, alice, bob, charlie, api):
    case = api(alice).post(URL, report(), format="json").json()  # in bob's west grid
    assert api(bob).get(f"{URL}{case['id']}/").status_code == 200
    assert api(charlie).get(f"{URL}{case['id']}/").status_code == 404
    assert api(charlie).get(f"{URL}{case['id'] + 999}/").status_code == 404


def test_the_reporter_is_masked_for_a_worker_who_does_not_handle_the_case(town, alice, bob, api):
    case = api(alice).post(URL, report(), format="json").json()
    assert case["reporter_phone"] == "13812345678"  # the operator who took the call
    seen_by_handler = api(bob).get(f"{URL}{case['id']}/").json()
    assert seen_by_handler["reporter_phone"] == "13812345678"
    Case.objects.filter(pk=case["id"]).update(assignee=None)
    seen_by_bystander = api(bob).get(f"{URL}{case['id']}/").json()
    assert seen_by_bystander["reporter_phone"] == "138****5678"
    assert seen_by_bystander["reporter_name"] == "张*"


def test_a_token_authenticates_an_app(town, bob, client):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=bob)
    response = client.post(URL, json.dumps(report()), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201
    assert Case.objects.get().created_by == bob


def test_the_stored_point_is_the_converted_one(town, alice, api):
    shifted = wgs84_to_gcj02(*WEST)
    case_id = api(alice).post(URL, report(location=point(*shifted), crs="gcj02"), format="json").json()["id"]
    stored = Case.objects.get(pk=case_id)
    assert stored.raw_crs == "gcj02"
    assert (stored.raw_lon, stored.raw_lat) == pytest.approx(shifted)
    assert stored.location.distance(Point(*WEST, srid=4326)) < 1e-5


def test_the_timeline_starts_with_the_intake(town, alice, api):
    from gridgis.cases.models import CaseEvent

    case_id = api(alice).post(URL, report(), format="json").json()["id"]
    (event,) = CaseEvent.objects.filter(case_id=case_id)
    assert event.action == "receive"
    assert event.to_status == "received"
    assert event.actor == alice
