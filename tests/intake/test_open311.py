"""Open311 GeoReport v2 at /open311/v2/ as third-party clients use it: JSON and XML, errors in the standard's
shape, nothing created on bad input, and no personal data of the reporter in any answer."""

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from gridgis.cases.models import Case, Category
from gridgis.intake.models import ApiKey

from .conftest import EAST, WEST

BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded"
REPORTER = {"first_name": "三", "last_name": "张", "phone": "13812345678", "email": "zhang.san@example.com",
            "device_id": "device-42", "account_id": "acct-7"}
PERSONAL = ["张三", "13812345678", "zhang.san@example.com", "device-42", "acct-7"]


@pytest.fixture
def api_key(town) -> str:
    return ApiKey.issue(name="miniapp")[1]


def report(raw_key: str, **fields) -> dict:
    form = {"api_key": raw_key, "service_code": "SJ0102", "lat": str(WEST[1]), "long": str(WEST[0]),
            "description": "楼下垃圾堆了三天没人清理", **REPORTER}
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def post(client, form: dict, fmt: str = "json", **headers):
    return client.post(f"{BASE}/requests.{fmt}", urlencode(form), content_type=FORM, **headers)


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own answer)


def xml_request(root: ET.Element) -> dict:
    """The one <request> of a <service_requests> document as {tag: text}."""
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    return {child.tag: child.text for child in request}


def created_id(response) -> str:
    assert response.status_code == 201, response.content
    return response.json()[0]["service_request_id"]


# --- discovery and services -----------------------------------------------------------------------------


def test_discovery_names_this_endpoint_and_both_formats(client):
    body = client.get(f"{BASE}/discovery.json").json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == endpoint["formats"]
    assert root.findtext("endpoints/endpoint/url") == endpoint["url"]


def test_services_are_our_active_categories(db, client):
    Category.objects.filter(code="SJ0201").update(active=False)
    active = list(Category.objects.filter(active=True).order_by("code"))
    services = client.get(f"{BASE}/services.json").json()
    assert [s["service_code"] for s in services] == [c.code for c in active]
    garbage = next(s for s in services if s["service_code"] == "SJ0102")
    category = Category.objects.get(code="SJ0102")
    assert garbage == {"service_code": "SJ0102", "service_name": category.name,
                       "description": category.description, "metadata": False, "type": "realtime",
                       "keywords": garbage["keywords"], "group": category.major_name}
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == [c.code for c in active]
    assert root.find("service").findtext("metadata") == "false"


def test_a_service_definition_in_both_formats(db, client):
    assert client.get(f"{BASE}/services/SJ0102.json").json() == {"service_code": "SJ0102", "attributes": []}
    root = xml(client.get(f"{BASE}/services/SJ0102.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "SJ0102"


def test_an_unknown_service_definition_is_a_404_in_the_standards_shape(db, client):
    response = client.get(f"{BASE}/services/XX9999.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "service_code 'XX9999' was not found"}]
    root = xml(client.get(f"{BASE}/services/XX9999.xml"))
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert "XX9999" in root.findtext("error/description")


# --- posting and reading back ---------------------------------------------------------------------------


def test_a_request_posted_by_lat_long_lands_in_its_grid_with_its_worker(town, bob, api_key, client):
    response = post(client, report(api_key))
    assert response.status_code == 201
    (created,) = response.json()
    case = Case.objects.get(number=created["service_request_id"])
    assert case.channel == "open311"
    assert case.grid == town.west
    assert case.assignee.name == "王博"
    assert (case.reporter_name, case.reporter_phone) == ("张三", "13812345678")
    assert created["token"]
    assert created["account_id"] is None


def test_a_posted_request_reads_back_in_json_and_xml(town, bob, api_key, client):
    request_id = created_id(post(client, report(api_key)))
    (request,) = client.get(f"{BASE}/requests/{request_id}.json").json()
    assert request["service_request_id"] == request_id
    assert request["status"] == "open"
    assert request["status_notes"] == "受理"
    assert request["service_code"] == "SJ0102"
    assert request["description"] == "楼下垃圾堆了三天没人清理"
    assert request["agency_responsible"] == town.west.name
    assert (request["long"], request["lat"]) == pytest.approx(WEST)
    assert request["requested_datetime"].endswith("+08:00")
    assert request["expected_datetime"].endswith("+08:00")
    assert request["media_url"] is None
    assert "extended_attributes" not in request
    as_xml = xml_request(xml(client.get(f"{BASE}/requests/{request_id}.xml")))
    assert as_xml["service_request_id"] == request_id
    assert as_xml["status"] == "open"
    assert as_xml["agency_responsible"] == town.west.name
    assert float(as_xml["lat"]) == pytest.approx(WEST[1])
    assert as_xml["media_url"] is None  # an empty element
    assert set(as_xml) == set(request)


def test_a_post_to_requests_xml_answers_in_xml(town, api_key, client):
    response = post(client, report(api_key), fmt="xml")
    assert response.status_code == 201
    created = xml_request(xml(response))
    assert Case.objects.filter(number=created["service_request_id"]).exists()
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}


def test_the_token_of_a_request_resolves_to_its_id(town, api_key, client):
    (created,) = post(client, report(api_key)).json()
    token = created["token"]
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": created["service_request_id"], "token": token}]
    assert xml_request(xml(client.get(f"{BASE}/tokens/{token}.xml")))["service_request_id"] == \
        created["service_request_id"]
    forged = created["service_request_id"] + ":forged"
    assert client.get(f"{BASE}/tokens/{forged}.json").status_code == 404


def test_a_request_by_building_code_lands_on_that_building(town, charlie, api_key, client):
    form = report(api_key, lat=None, long=None, address_id="B-003")
    case = Case.objects.get(number=created_id(post(client, form)))
    assert case.grid == town.east
    assert case.address == town.buildings[2].address
    (request,) = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert request["address"] == town.buildings[2].address


def test_a_request_by_address_string_is_geocoded_against_the_gazetteer(town, charlie, api_key, client):
    form = report(api_key, lat=None, long=None, address_string="站前街道明达社区胜利路8号1号楼")
    case = Case.objects.get(number=created_id(post(client, form)))
    assert case.geocode_method == "building"
    assert case.grid == town.east
    assert case.address == "站前街道明达社区胜利路8号1号楼"


def test_an_address_the_gazetteer_cannot_place_is_still_a_request_flagged_for_location(town, api_key, client):
    form = report(api_key, lat=None, long=None, address_string="某个没人知道的地方")
    case = Case.objects.get(number=created_id(post(client, form)))
    assert case.needs_location
    (request,) = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert (request["lat"], request["long"]) == (None, None)


def test_a_retry_with_the_same_idempotency_key_returns_the_same_request(town, api_key, client):
    first = post(client, report(api_key), HTTP_IDEMPOTENCY_KEY="o311-1")
    again = post(client, report(api_key), HTTP_IDEMPOTENCY_KEY="o311-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    conflict = post(client, report(api_key, description="另一件事"), HTTP_IDEMPOTENCY_KEY="o311-1")
    assert conflict.status_code == 409
    assert conflict.json()[0]["code"] == 409
    assert Case.objects.count() == 1


def test_a_photo_uploaded_as_media_becomes_the_media_url(town, api_key, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    form = report(api_key, media=SimpleUploadedFile("p.jpg", _jpeg(), content_type="image/jpeg"))
    response = client.post(f"{BASE}/requests.json", form)  # multipart
    (request,) = client.get(f"{BASE}/requests/{created_id(response)}.json").json()
    assert request["media_url"].startswith("http://testserver/media/cases/")
    assert request["media_url"].endswith(".jpg")


def test_a_media_file_that_is_not_a_photo_is_refused(town, api_key, client):
    form = report(api_key, media=SimpleUploadedFile("p.jpg", b"not a picture", content_type="image/jpeg"))
    response = client.post(f"{BASE}/requests.json", form)
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("media: ")
    assert not Case.objects.exists()


def test_media_url_is_accepted_but_neither_fetched_nor_stored(town, api_key, client):
    response = post(client, report(api_key, media_url="http://192.0.2.1/photo.jpg"))
    (request,) = client.get(f"{BASE}/requests/{created_id(response)}.json").json()
    assert request["media_url"] is None


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code", "mentions"),
    [
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": "not-a-key"}, 403, "api_key is not valid"),
        ({"service_code": "XX9999"}, 400, "service_code 'XX9999'"),
        ({"service_code": None}, 400, "service_code is required"),
        ({"lat": None, "long": None}, 400, "location is required"),
        ({"long": None}, 400, "long is required"),
        ({"lat": "91"}, 400, "lat 91.0 is out of range"),
        ({"long": "-180.5"}, 400, "long -180.5 is out of range"),
        ({"lat": "122.995", "long": "41.10"}, 400, "swapped"),
        ({"lat": "41,10"}, 400, "lat must be a finite decimal number"),
        ({"lat": "NaN"}, 400, "lat must be a finite decimal number"),
        ({"long": "Infinity"}, 400, "long must be a finite decimal number"),
        ({"long": "1e999"}, 400, "long must be a finite decimal number"),
        ({"description": "垃圾" * 2001}, 400, "description: Ensure this field has no more than 4000 characters"),
        ({"description": None}, 400, "description: This field is required"),
        ({"description": "   "}, 400, "description: This field may not be blank"),
        ({"phone": "<script>"}, 400, "phone: "),
        ({"address_id": "B-404", "lat": None, "long": None}, 400, "address_id 'B-404'"),
        ({"jurisdiction_id": "999999"}, 404, "jurisdiction_id '999999' was not found"),
    ],
)
def test_bad_posts_get_the_standards_error_shape_and_create_nothing(town, api_key, client, fields, code,
                                                                   mentions):
    response = post(client, report(api_key, **fields))
    assert response.status_code == code, response.content
    errors = response.json()
    assert all(set(e) == {"code", "description"} and e["code"] == code for e in errors)
    assert any(mentions in e["description"] for e in errors), errors
    assert not Case.objects.exists()


def test_an_error_in_xml_is_an_errors_document(town, client):
    response = post(client, report("not-a-key"), fmt="xml")
    assert response.status_code == 403
    root = xml(response)
    assert root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")] == [
        ("403", "api_key is not valid (unknown or revoked)")]


def test_a_body_too_large_to_read_is_refused_in_the_standards_shape(town, api_key, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(client, report(api_key, description="垃圾" * 2000))
    assert response.status_code == 413
    assert response.json() == [{"code": 413, "description": "the request body is too large"}]
    assert not Case.objects.exists()


def test_every_bad_field_of_a_post_is_named(town, api_key, client):
    errors = post(client, report(api_key, service_code="XX9999", lat="abc")).json()
    described = " ".join(e["description"] for e in errors)
    assert "service_code" in described
    assert "lat must be" in described


@pytest.mark.parametrize(
    ("query", "code", "mentions"),
    [
        ("start_date=yesterday", 400, "start_date 'yesterday' is not a W3C date-time"),
        ("end_date=2026-13-01T00:00:00Z", 400, "end_date"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400, "more than 90 days"),
        ("start_date=2026-06-01T00:00:00Z&end_date=2026-05-01T00:00:00Z", 400, "after end_date"),
        ("status=pending", 400, "status 'pending'"),
        ("service_code=XX9999", 400, "service_code 'XX9999'"),
        ("api_key=not-a-key", 403, "api_key is not valid"),
        ("jurisdiction_id=abc", 404, "jurisdiction_id"),
    ],
)
def test_bad_searches_get_the_standards_error_shape(town, client, query, code, mentions):
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == code
    (error,) = response.json()
    assert error["code"] == code
    assert mentions in error["description"]


def test_unknown_requests_tokens_methods_and_resources_are_errors_too(town, client):
    assert client.get(f"{BASE}/requests/999.json").json() == [
        {"code": 404, "description": "service_request_id '999' was not found"}]
    assert xml(client.get(f"{BASE}/requests/999.xml")).findtext("error/code") == "404"
    assert client.get(f"{BASE}/tokens/nonsense.json").status_code == 404
    assert client.delete(f"{BASE}/requests.json").json()[0]["code"] == 405
    assert client.post(f"{BASE}/services.json").status_code == 405
    missing = client.get(f"{BASE}/requests.csv")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404


# --- searching ----------------------------------------------------------------------------------------


def test_requests_are_searched_by_id_code_status_and_date(town, api_key, client):
    garbage = created_id(post(client, report(api_key)))
    lamp = created_id(post(client, report(api_key, service_code="BJ0115", lat=str(EAST[1]), long=str(EAST[0]))))
    closed = created_id(post(client, report(api_key, description="已经处理好了")))
    Case.objects.filter(number=closed).update(status=Case.Status.CLOSED)
    old = created_id(post(client, report(api_key, description="半年前的事")))
    Case.objects.filter(number=old).update(received_at=timezone.now() - dt.timedelta(days=200))

    def ids(query=""):
        return {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?{query}").json()}

    assert ids() == {garbage, lamp, closed}  # the last 90 days
    assert ids("status=open") == {garbage, lamp}
    assert ids("status=closed") == {closed}
    assert ids("service_code=BJ0115") == {lamp}
    assert ids("service_code=BJ0115,SJ0102&status=open") == {garbage, lamp}
    assert ids(f"service_request_id={garbage},{old}&status=closed") == {garbage, old}  # ids override the rest
    then = timezone.localtime() - dt.timedelta(days=200)
    window = urlencode({"start_date": (then - dt.timedelta(days=1)).isoformat(),
                        "end_date": (then + dt.timedelta(days=1)).isoformat()})
    assert ids(window) == {old}
    assert ids(f"start_date={then.date()}") == {old}
    root = xml(client.get(f"{BASE}/requests.xml?status=open"))
    assert {r.findtext("service_request_id") for r in root.findall("request")} == {garbage, lamp}


def test_voided_requests_are_never_shown(town, api_key, client):
    request_id = created_id(post(client, report(api_key)))
    Case.objects.filter(number=request_id).update(status=Case.Status.VOIDED)
    assert client.get(f"{BASE}/requests.json").json() == []
    assert client.get(f"{BASE}/requests/{request_id}.json").status_code == 404


def test_a_key_sees_only_its_jurisdiction(town, api_key, client):
    in_west = created_id(post(client, report(api_key)))
    in_east = created_id(post(client, report(api_key, lat=str(EAST[1]), long=str(EAST[0]))))
    east_key = ApiKey.issue(name="east", jurisdiction=town.east.code)[1]
    listed = client.get(f"{BASE}/requests.json?api_key={east_key}").json()
    assert [r["service_request_id"] for r in listed] == [in_east]
    assert client.get(f"{BASE}/requests/{in_west}.json?api_key={east_key}").status_code == 404
    by_jurisdiction = client.get(f"{BASE}/requests.json?jurisdiction_id={town.west.code}").json()
    assert [r["service_request_id"] for r in by_jurisdiction] == [in_west]


def test_extensions_add_where_the_request_went(town, bob, api_key, client):
    request_id = created_id(post(client, report(api_key)))
    (request,) = client.get(f"{BASE}/requests/{request_id}.json?extensions=true").json()
    case = Case.objects.get(number=request_id)
    assert request["extended_attributes"] == {
        "grid_code": town.west.code, "community_code": town.community.code, "street_code": town.street.code,
        "assignee": "王博", "geocode_confidence": 1.0,
        "deadline": timezone.localtime(case.deadline).isoformat(timespec="seconds"),
    }
    as_xml = xml(client.get(f"{BASE}/requests.xml?extensions=true")).find("request/extended_attributes")
    assert as_xml.findtext("grid_code") == town.west.code
    assert as_xml.findtext("assignee") == "王博"


# --- what must never come out ---------------------------------------------------------------------------


def test_the_reporters_personal_data_never_appears_in_any_answer(town, bob, api_key, client):
    answers = [post(client, report(api_key), fmt=fmt) for fmt in ("json", "xml")]
    request_id = answers[0].json()[0]["service_request_id"]
    token = answers[0].json()[0]["token"]
    for fmt in ("json", "xml"):
        answers += [
            client.get(f"{BASE}/requests.{fmt}"),
            client.get(f"{BASE}/requests.{fmt}?extensions=true&api_key={api_key}"),
            client.get(f"{BASE}/requests/{request_id}.{fmt}?extensions=true"),
            client.get(f"{BASE}/tokens/{token}.{fmt}"),
        ]
    for answer in answers:
        assert answer.status_code in (200, 201)
        text = answer.content.decode()
        assert not [item for item in PERSONAL if item in text], text


def test_a_hostile_description_is_escaped_in_xml_and_kept_as_text(town, api_key, client):
    hostile = '<script>alert("x")</script> & \x0b<b>'
    request_id = created_id(post(client, report(api_key, description=hostile)))
    response = client.get(f"{BASE}/requests/{request_id}.xml")
    assert b"<script>" not in response.content
    assert b"&lt;script&gt;" in response.content
    assert xml_request(xml(response))["description"] == '<script>alert("x")</script> & \ufffd<b>'
    (as_json,) = client.get(f"{BASE}/requests/{request_id}.json").json()
    assert as_json["description"] == hostile


# --- issuing keys --------------------------------------------------------------------------------------


def test_issue_api_key_prints_a_working_key_once(town, client):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_key", "hotline-bridge", "--jurisdiction", town.district.code, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = ApiKey.lookup(raw)
    assert (key.name, key.jurisdiction) == ("hotline-bridge", town.district.code)
    assert raw not in err.getvalue()
    assert post(client, report(raw)).status_code == 201


def test_issue_api_key_refuses_unknown_jurisdictions_and_taken_names(town):
    with pytest.raises(CommandError, match="no such district"):
        call_command("issue_api_key", "x", "--jurisdiction", "999999", stdout=io.StringIO())
    call_command("issue_api_key", "x", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("issue_api_key", "x", stdout=io.StringIO())
    assert ApiKey.objects.count() == 1


# --- third-party clients over HTTP ----------------------------------------------------------------------

# serialized_rollback: the categories loaded by a data migration survive the flush after a live-server test.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@live
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_lists_services_and_reads_requests_back(town, bob, live_server, fmt):
    from georeport import GeoReport

    raw_key = ApiKey.issue(name=f"georeport-{fmt}")[1]
    posted = requests.post(f"{live_server.url}{BASE}/requests.{fmt}", data=report(raw_key), timeout=30)
    assert posted.status_code == 201
    case = Case.objects.get()
    client = GeoReport(f"{live_server.url}{BASE}", api_key=raw_key, output_format=fmt)

    services = client.get_service_list()
    assert "SJ0102" in {s["service_code"] for s in services}
    assert client.get_service_definition("SJ0102")["service_code"] == "SJ0102"
    request = client.get_service_request(case.number)
    assert request["service_request_id"] == case.number
    assert request["status"] == "open"
    assert float(request["lat"]) == pytest.approx(WEST[1])
    listed = client.get_service_requests(service_code="SJ0102", status="open")
    listed = [listed] if isinstance(listed, dict) else listed  # xmltodict: one <request> is no list
    assert [r["service_request_id"] for r in listed] == [case.number]


@live
def test_the_civicbot_client_posts_a_request_and_reads_it_back(town, bob, live_server):
    from civicbot import Endpoint, Open311Client

    raw_key = ApiKey.issue(name="civicbot")[1]
    client = Open311Client(Endpoint(id="gridgis", name="gridgis", base_url=f"{live_server.url}{BASE}", write=True))
    sent = client.create_request("SJ0102", lat=WEST[1], lng=WEST[0], description="垃圾桶满了",
                                 first_name="三", last_name="张", phone="13812345678", api_key=raw_key,
                                 dry_run=False, confirm="SEND", validate_remote=True)
    (created,) = sent.response
    case = Case.objects.get(number=created["service_request_id"])
    assert (case.grid, case.channel) == (town.west, "open311")
    assert client.get_request(case.number)["description"] == "垃圾桶满了"
    assert client.get_token(created["token"]) == [{"service_request_id": case.number, "token": created["token"]}]
    assert "13812345678" not in json.dumps(client.list_requests(service_request_ids=[case.number]))


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()
