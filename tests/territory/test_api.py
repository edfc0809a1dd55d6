"""The territory GeoJSON API: shape, bbox and parent filters, simplification, and territorial scope."""

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gridgis.territory.api import GeoJSONRenderer
from gridgis.territory.models import Building
from gridgis.territory.serializers import RawJSON
from gridgis.workforce.models import GridWorker

pytest_plugins = ["tests.territory_factories"]

API = "/api/v1/territory"
LEVELS = ["districts", "streets", "communities", "grids", "buildings"]


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [feature["id"] for feature in response.json()["features"]]


def vertex_count(geometry) -> int:
    return sum(len(ring) for polygon in geometry["coordinates"] for ring in polygon)


def test_grids_come_as_a_geojson_feature_collection(alice, bob, charlie, town):
    body = client_for(alice).get(f"{API}/grids/").json()

    assert body["type"] == "FeatureCollection"
    west = body["features"][0]
    assert west["type"] == "Feature"
    assert west["id"] == town.west.code
    assert west["geometry"]["type"] == "MultiPolygon"
    assert west["geometry"]["coordinates"][0][0][0] == [122.99, 41.09]
    assert west["properties"] == {
        "code": "210302001002001", "name": "明达第一网格", "community_code": "210302001002",
        "households": 320, "population": 890, "primary_worker": "王博",
    }


@pytest.mark.parametrize(("level", "expected"), [
    ("districts", {"code": "210302", "name": "铁东区"}),
    ("streets", {"code": "210302001", "name": "站前街道", "district_code": "210302"}),
    ("communities", {"code": "210302001002", "name": "明达社区", "street_code": "210302001"}),
])
def test_each_level_names_its_parent(alice, level, expected):
    (feature,) = client_for(alice).get(f"{API}/{level}/").json()["features"]

    assert feature["properties"] == expected


def test_buildings_carry_their_address_and_grid(alice, town):
    feature = client_for(alice).get(f"{API}/buildings/").json()["features"][0]

    assert feature["id"] == "B-001"
    assert feature["properties"]["address"] == "辽宁省鞍山市铁东区站前街道明达社区建国路12号1号楼"
    assert feature["properties"]["grid_code"] == town.west.code
    assert set(feature["properties"]) == {"code", "name", "address", "grid_code", "households", "population"}


def test_a_grid_is_found_by_its_code_with_its_workers(alice, bob, town):
    response = client_for(alice).get(f"{API}/grids/{town.west.code}/")

    assert response.status_code == 200
    assert response.json()["type"] == "Feature"
    assert response.json()["properties"]["workers"] == [
        {"name": "王博", "role": "primary", "role_label": "专职网格员"}
    ]


def test_the_bbox_filter_keeps_only_intersecting_features(alice):
    inside_west_grid = "122.991,41.095,122.995,41.100"

    assert codes(client_for(alice).get(f"{API}/grids/?in_bbox={inside_west_grid}")) == ["210302001002001"]
    assert codes(client_for(alice).get(f"{API}/buildings/?in_bbox={inside_west_grid}")) == ["B-001"]
    assert codes(client_for(alice).get(f"{API}/communities/?in_bbox=122.981,41.081,122.985,41.085")) == []


@pytest.mark.parametrize("bbox", [
    "1,2,3", "a,b,c,d", "nan,41,123,42", "123,41,122,42", "122,41,123,41", "0,0,200,1", "",
])
def test_a_bad_bbox_is_rejected_naming_the_parameter(alice, bbox):
    response = client_for(alice).get(f"{API}/grids/?in_bbox={bbox}")

    if bbox == "":  # an empty parameter is no filter at all
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert list(response.json()) == ["in_bbox"]


def test_lists_filter_by_parent_code(alice, town):
    assert codes(client_for(alice).get(f"{API}/grids/?community={town.community.code}")) == [
        town.west.code, town.east.code,
    ]
    assert codes(client_for(alice).get(f"{API}/grids/?community=210302001003")) == []
    assert codes(client_for(alice).get(f"{API}/buildings/?grid={town.east.code}")) == ["B-003"]
    assert codes(client_for(alice).get(f"{API}/buildings/?street={town.street.code}")) == [
        "B-001", "B-002", "B-003",
    ]


@pytest.mark.parametrize(("query", "parameter"), [
    ("community=123", "community"),
    ("community=210302001002001", "community"),
    ("simplify=-1", "simplify"),
    ("simplify=abc", "simplify"),
    ("street=210302002&community=210302001002", "non_field_errors"),
])
def test_bad_filters_are_rejected_naming_the_parameter(alice, query, parameter):
    response = client_for(alice).get(f"{API}/grids/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [parameter]


def test_simplify_drops_vertices_but_keeps_the_shape(alice):
    full = client_for(alice).get(f"{API}/districts/").json()["features"][0]["geometry"]
    simple = client_for(alice).get(f"{API}/districts/?simplify=0.0005").json()["features"][0]["geometry"]

    assert vertex_count(full) == 801
    assert simple["type"] == "MultiPolygon"
    assert vertex_count(simple) == 5
    assert sorted(simple["coordinates"][0][0][:4]) == [[122.98, 41.08], [122.98, 41.12], [123.02, 41.08],
                                                       [123.02, 41.12]]


def test_buildings_are_paginated(alice):
    body = client_for(alice).get(f"{API}/buildings/?page_size=2").json()

    assert body["type"] == "FeatureCollection"
    assert body["count"] == 3
    assert len(body["features"]) == 2
    assert "page=2" in body["next"]


def test_a_grid_worker_sees_their_grid_and_only_its_ancestors_outlines(bob, charlie, town):
    client = client_for(bob)

    assert codes(client.get(f"{API}/districts/")) == [town.district.code]
    assert codes(client.get(f"{API}/streets/")) == [town.street.code]
    assert codes(client.get(f"{API}/communities/")) == [town.community.code]
    assert codes(client.get(f"{API}/grids/")) == [town.west.code]
    assert codes(client.get(f"{API}/buildings/")) == ["B-001", "B-002"]


def test_another_workers_grid_and_buildings_are_not_found(bob, charlie, town):
    client = client_for(bob)

    assert client.get(f"{API}/grids/{town.east.code}/").status_code == 404
    assert client.get(f"{API}/buildings/B-003/").status_code == 404
    assert client.get(f"{API}/grids/{town.west.code}/").status_code == 200


def test_a_user_without_any_role_sees_nothing(town, django_user_model):
    stranger = django_user_model.objects.create_user("dave", password="x")

    for level in LEVELS:
        assert codes(client_for(stranger).get(f"{API}/{level}/")) == []


@pytest.mark.parametrize("path", [*(f"{level}/" for level in LEVELS), "grids/210302001002001/"])
def test_anonymous_callers_are_refused(town, path):
    assert client_for(None).get(f"{API}/{path}").status_code in {401, 403}


def test_a_token_is_enough_to_read(bob, town):
    token = Token.objects.create(user=bob)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert codes(client.get(f"{API}/grids/")) == [town.west.code]


def test_no_phone_number_is_ever_exposed(alice, bob, charlie, town):
    client = client_for(alice)
    phones = list(GridWorker.objects.values_list("phone", flat=True))
    paths = [f"{level}/" for level in LEVELS] + [f"grids/{town.west.code}/", f"grids/{town.east.code}/"]

    assert len(phones) == 2
    for path in paths:
        text = client.get(f"{API}/{path}").content.decode()
        assert all(phone not in text for phone in phones), path


def test_the_whole_city_sees_buildings_outside_every_grid(root, alice, town):
    Building.objects.create(code="B-900", address="铁东区某处", geom=town.buildings[0].geom)

    assert "B-900" in codes(client_for(root).get(f"{API}/buildings/"))
    assert "B-900" not in codes(client_for(alice).get(f"{API}/buildings/"))


def test_big_responses_are_compressed(alice):
    response = client_for(alice).get(f"{API}/districts/", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"


def test_geometries_are_spliced_in_and_lookalike_strings_left_alone():
    lookalike = "\x00" + "0" * 16 + ":0"
    data = {"name": lookalike, "geometry": RawJSON('{"type":"Point","coordinates":[123.0,41.1]}')}

    rendered = json.loads(GeoJSONRenderer().render(data))

    assert rendered == {"name": lookalike, "geometry": {"type": "Point", "coordinates": [123.0, 41.1]}}


def test_the_browsable_api_shows_the_geojson(alice, town):
    response = client_for(alice).get(f"{API}/grids/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert "MultiPolygon" in response.content.decode()
