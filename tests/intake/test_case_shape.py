"""What a report becomes: the case shape the creator gets back is the one anyone reads later (and DRF's own
rendering of it), the stored row and its 'receive' entry, and the caller's roles as intake reads them."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone
from PIL import Image
from rest_framework import serializers

from gridgis.cases.actors import Actor, actor_for
from gridgis.cases.models import Case, CaseEvent, Category
from gridgis.cases.selectors import case_detail
from gridgis.intake.serializers import CaseSerializer
from gridgis.workforce.models import Department, GridAssignment, GridWorker, StaffRole
from tests.territory_factories import make_user

from .conftest import EAST, WEST, point

URL = "/api/v1/cases/"
NEARBY = (WEST[0] + 20 / 84_000, WEST[1])  # 20 m east of WEST


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 60)).save(out, "JPEG")
    return out.getvalue()


REPORTS = {
    "point": {"location": point(*WEST)},
    "gcj02 point": {"location": point(122.9962, 41.1011), "crs": "gcj02"},
    "far away": {"location": point(116.397, 39.909)},
    "just outside": {"location": point(123.01 + 30 / 84_000, 41.10)},
    "address only, unknown": {"address": "不存在的路999号"},
    "no category": {"location": point(*EAST), "category": None},
    "reporter left out": {"location": point(*WEST), "reporter_name": "", "reporter_phone": ""},
}


def body(**fields) -> dict:
    report = {"description": "井盖缺失 <b>危险</b>", "category": "SJ0102", "channel": "hotline",
              "reporter_name": "李四", "reporter_phone": "13912345678"}
    report.update(fields)
    return {k: v for k, v in report.items() if v is not None}


def drf_rendering(case: Case, user) -> dict:
    """The case as DRF's own Serializer.to_representation renders CaseSerializer's fields."""
    request = RequestFactory().get("/")
    request.user = user
    serializer = CaseSerializer(case, context={"request": request})
    return dict(serializers.Serializer.to_representation(serializer, case))


def ours(case: Case, user) -> dict:
    request = RequestFactory().get("/")
    request.user = user
    return dict(CaseSerializer(case, context={"request": request}).data)


@pytest.fixture
def cindy(town):
    """Community staff of the town's community: answers for the east grid while it has no worker."""
    user = make_user("cindy", full_name="社区 Cindy")
    StaffRole.objects.create(user=user, role=StaffRole.Role.COMMUNITY_STAFF, scope_code=town.community.code)
    return user


@pytest.mark.parametrize("kind", REPORTS)
def test_the_creator_gets_back_what_anyone_reads_later(town, alice, bob, cindy, api, kind):
    response = api(alice).post(URL, body(**REPORTS[kind]), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert api(alice).get(f"{URL}{created['id']}/").json() == created
    case = case_detail(alice, created["id"])
    assert ours(case, alice) == drf_rendering(case, alice) == created
    for viewer in (bob, cindy):  # the west grid's worker, the community staff: what each is shown
        seen = case_detail(viewer, created["id"])
        if seen is not None:
            assert ours(seen, viewer) == drf_rendering(seen, viewer)


def test_a_duplicate_a_staff_assignee_and_a_photo_read_back_the_same(town, alice, cindy, api):
    first = api(alice).post(URL, body(location=point(*WEST)), format="json").json()
    second = api(alice).post(URL, body(location=point(*NEARBY)), format="json").json()
    assert second["duplicate_of"] == {"id": first["id"], "number": first["number"]}
    east = api(alice).post(URL, body(location=point(*EAST)), format="json").json()
    assert east["assignee"] == {"id": cindy.pk, "name": "社区 Cindy", "kind": "community_staff"}
    form = body(location='{"type": "Point", "coordinates": [123.005, 41.1]}',
                photos=[SimpleUploadedFile("p.jpg", _jpeg(), content_type="image/jpeg")])
    with_photo = api(alice).post(URL, form, format="multipart").json()
    assert len(with_photo["photos"]) == 1
    assert with_photo["photos"][0]["width"] == 64
    for created in (second, east, with_photo):
        assert api(alice).get(f"{URL}{created['id']}/").json() == created
        case = case_detail(alice, created["id"])
        assert drf_rendering(case, alice) == created


def test_the_reporter_is_masked_alike_in_both_renderings(town, alice, bob, api):
    created = api(alice).post(URL, body(location=point(*WEST)), format="json").json()
    Case.objects.filter(pk=created["id"]).update(assignee=None)  # bob now only sees it through his grid
    case = case_detail(bob, created["id"])
    shown = ours(case, bob)
    assert (shown["reporter_name"], shown["reporter_phone"]) == ("李*", "139****5678")
    assert shown == drf_rendering(case, bob)


def test_a_report_is_stored_with_its_number_and_receive_entry(town, alice, api):
    before = timezone.now()
    created = api(alice).post(URL, body(location=point(*WEST)), format="json").json()
    case = Case.objects.get(pk=created["id"])
    today = timezone.localtime(case.received_at).strftime("%Y%m%d")
    assert re.fullmatch(rf"{today}\d{{7}}", case.number)
    assert case.number == created["number"]
    assert before <= case.received_at <= timezone.now()
    assert case.updated_at >= case.received_at
    assert (case.status, case.channel, case.territory_code) == ("received", "hotline", town.west.code)
    assert case.description == "井盖缺失 <b>危险</b>"
    assert (case.raw_lon, case.raw_lat, case.raw_crs) == (WEST[0], WEST[1], "wgs84")
    assert (case.location.x, case.location.y, case.location.srid) == (WEST[0], WEST[1], 4326)
    assert case.geocode_candidates == []
    assert case.warnings == []
    assert case.needs_location is False
    assert case.deadline is not None
    assert case.deadline > case.received_at
    assert (case.priority, case.tier, case.overdue, case.supervised, case.reopen_count) == \
        ("normal", "grid", False, False, 0)
    assert case.created_by == alice
    assert case.duplicate_of is None
    assert case.geocode_building is None
    (event,) = CaseEvent.objects.filter(case=case)
    assert (event.action, event.from_status, event.to_status, event.actor, event.at) == \
        ("receive", "", "received", alice, case.received_at)
    assert event.data == {"channel": "hotline", "assignment_rule": "covering_grid"}
    later = api(alice).post(URL, body(location=point(*EAST)), format="json").json()
    assert int(later["number"][8:]) > int(case.number[8:])


def test_an_unplaced_report_keeps_its_candidates_and_warning(town, alice, api):
    created = api(alice).post(URL, body(address="不存在的路999号"), format="json").json()
    case = Case.objects.get(pk=created["id"])
    assert case.location is None
    assert case.needs_location is True
    assert case.warnings == created["warnings"]
    assert case.warnings
    assert case.geocode_candidates == created["geocode"]["candidates"]
    assert case.territory_code == town.district.code


def test_an_inactive_or_odd_category_is_refused(town, alice, api):
    Category.objects.filter(code="SJ0102").update(active=False)
    response = api(alice).post(URL, body(location=point(*WEST)), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "SJ0102" in response.json()["category"][0]
    for odd in (12, ["SJ0201"], {"code": "SJ0201"}):
        response = api(alice).post(URL, body(location=point(*WEST), category=odd), format="json")
        assert response.status_code == 400, odd
        assert "category" in response.json()
    assert not Case.objects.exists()
    ok = api(alice).post(URL, body(location=point(*WEST), category="SJ0201"), format="json")
    assert ok.status_code == 201
    assert ok.json()["category"] == "SJ0201"


def test_the_caller_s_roles_and_grids_are_read_whole(town, bob):
    roads = Department.objects.create(code="JT", name="交通局")
    dan = make_user("dan")
    StaffRole.objects.create(user=dan, role=StaffRole.Role.DEPARTMENT_HANDLER, scope_code=town.district.code,
                             department=roads)
    StaffRole.objects.create(user=dan, role=StaffRole.Role.COMMUNITY_STAFF, scope_code=town.community.code)
    StaffRole.objects.create(user=dan, role=StaffRole.Role.STREET_STAFF, scope_code=town.street.code)
    worker = GridWorker.objects.create(worker_id="W-dan", user=dan, name="丹")
    actor = actor_for(dan)
    assert (actor.worker_id, actor.grid_ids, actor.grid_codes) == (worker.pk, frozenset(), ())
    GridAssignment.objects.create(worker=worker, grid=town.east, role=GridAssignment.Role.PRIMARY)
    GridAssignment.objects.create(worker=worker, grid=town.west, role=GridAssignment.Role.DEPUTY)
    actor = actor_for(dan)
    assert actor.user_id == dan.pk
    assert not actor.superuser
    assert actor.prefixes == {"department_handler": (town.district.code,), "community_staff": (town.community.code,),
                              "street_staff": (town.street.code,)}
    assert actor.department_ids == frozenset({roads.pk})
    assert (actor.worker_id, actor.grid_ids) == (worker.pk, frozenset({town.east.pk, town.west.pk}))
    assert actor.grid_codes == (town.west.code, town.east.code)
    assert actor.case_prefixes == (town.street.code, town.community.code, town.west.code, town.east.code)
    bobs = actor_for(bob)
    assert (bobs.prefixes, bobs.grid_codes, bobs.department_ids) == ({}, (town.west.code,), frozenset())
    nobody = make_user("nobody")
    assert actor_for(nobody) == Actor(user_id=nobody.pk)
    nobody.is_active = False
    assert actor_for(nobody).user_id is None


def test_a_report_received_earlier_is_numbered_by_its_own_day(town, alice):
    from gridgis.cases.services import IntakeReport, case_create

    new_year_eve = dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    case = case_create(report=IntakeReport(description="跨年夜", channel="hotline", lon=WEST[0], lat=WEST[1],
                                           received_at=new_year_eve), by=alice)
    assert case.number.startswith("20251231")
    assert len(case.number) == 15
    assert Case.objects.get(pk=case.pk).number == case.number
    # 16:00 UTC on 31 December is already 1 January in Shanghai
    case = case_create(report=IntakeReport(description="新年", channel="hotline", lon=WEST[0], lat=WEST[1],
                                           received_at=dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC)))
    assert case.number.startswith("20260101")
    assert case.created_by is None
    assert CaseEvent.objects.get(case=case).actor is None
