"""An Open311 key sees the requests it filed itself, wherever they landed — and other keys do not."""

from urllib.parse import urlencode

import pytest

from gridgis.cases.models import Case
from gridgis.intake.models import ApiKey

from .conftest import EAST

BASE = "/open311/v2"


def post(client, raw_key: str, lon: float, lat: float) -> str:
    form = {"api_key": raw_key, "service_code": "SJ0102", "lat": str(lat), "long": str(lon),
            "description": "共享单车堆满人行道"}
    response = client.post(f"{BASE}/requests.json", urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content
    return response.json()[0]["service_request_id"]


def listed(client, raw_key: str) -> list[str]:
    response = client.get(f"{BASE}/requests.json?api_key={raw_key}")
    assert response.status_code == 200
    return [r["service_request_id"] for r in response.json()]


@pytest.mark.django_db
def test_a_key_sees_its_own_request_outside_its_jurisdiction(town, client):
    west_key, west_raw = ApiKey.issue(name="west-app", jurisdiction=town.west.code)
    other_raw = ApiKey.issue(name="other-west-app", jurisdiction=town.west.code)[1]
    in_east = post(client, west_raw, *EAST)  # filed by the west key, lands in the east grid
    assert Case.objects.get(number=in_east).territory_code == town.east.code
    assert Case.objects.get(number=in_east).api_key == west_key
    assert listed(client, west_raw) == [in_east]
    assert client.get(f"{BASE}/requests/{in_east}.json?api_key={west_raw}").status_code == 200
    assert listed(client, other_raw) == []  # same territory, not its request
    assert client.get(f"{BASE}/requests/{in_east}.json?api_key={other_raw}").status_code == 404


@pytest.mark.django_db
def test_deleting_a_key_keeps_the_cases_it_filed(town, client):
    key, raw = ApiKey.issue(name="kiosk", jurisdiction=town.west.code)
    request_id = post(client, raw, *EAST)
    key.delete()  # the cases stay; their link is cleared
    assert Case.objects.get(number=request_id).api_key is None
