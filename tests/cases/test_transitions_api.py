"""POST /api/v1/cases/{id}/{action}/, the timeline and the case list, as the phone app and the command
centre's wall map use them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgis.cases.models import Case, CaseEvent, CasePhoto

from .workflow_helpers import EAST, FAR, WEST, new_case, point, walk

pytest_plugins = ["tests.territory_factories", "tests.cases.workflow_fixtures"]


def url(case, action: str = "") -> str:
    pk = case if isinstance(case, int) else case.pk
    return f"/api/v1/cases/{pk}/{action + '/' if action else ''}"


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 160)).save(out, "JPEG")
    return SimpleUploadedFile("after.jpg", out.getvalue(), content_type="image/jpeg")


def test_a_full_life_cycle_through_the_api(people, api):
    alice, bob, dave = people["alice"], people["bob"], people["dave"]
    case = new_case()
    steps = [
        (alice, "register", {"priority": "urgent"}, "registered"),
        (alice, "dispatch", {"note": "请尽快处理"}, "dispatched"),
        (bob, "accept", {"location": point(*WEST)}, "accepted"),
        (bob, "start", {}, "in_progress"),
        (dave, "verify", {"passed": True}, None),  # not yet: handed in comes first → 409
        (bob, "hand_in", {"note": "已清理完毕"}, "handled"),
        (dave, "verify", {"passed": True}, "verified"),
        (alice, "close", {}, "closed"),
        (alice, "rate", {"satisfaction": "satisfied", "note": "回访满意"}, "closed"),
    ]
    for user, action, body, status in steps:
        response = api(user).post(url(case, action), body, format="json")
        if status is None:
            assert response.status_code == 409
            continue
        assert response.status_code == 200, (action, response.json())
        assert response.json()["status"] == status
    body = response.json()
    assert body["satisfaction"] == "satisfied"
    assert body["priority"] == "urgent"
    assert body["allowed_actions"] == []
    assert body["deadline_state"] is None  # no clock runs on a closed case
    events = api(alice).get(url(case, "timeline")).json()
    assert [e["action"] for e in events] == ["receive", "register", "dispatch", "accept", "start", "hand_in",
                                            "verify", "close", "rate"]
    accept = events[3]
    assert accept["actor"]["name"] == "王博"
    assert accept["location"] == point(*WEST)
    assert (accept["from_status"], accept["to_status"]) == ("dispatched", "accepted")
    assert events[2]["data"]["tier"] == "grid"


def test_a_hand_in_carries_photos_and_the_workers_position_in_a_multipart_form(people, api):
    case = walk(new_case(), "in_progress", dispatcher=people["alice"], handler=people["bob"])
    body = {"note": "已清理", "photos": [jpeg(), jpeg()],
            "location": '{"type": "Point", "coordinates": [122.9951, 41.1001]}'}
    response = api(people["bob"]).post(url(case, "hand_in"), body, format="multipart")
    assert response.status_code == 200, response.json()
    event = CaseEvent.objects.get(case=case, action="hand_in")
    assert CasePhoto.objects.filter(event=event).count() == 2
    assert (event.location.x, event.location.y) == (122.9951, 41.1001)
    timeline = api(people["alice"]).get(url(case, "timeline")).json()
    assert len(timeline[-1]["photos"]) == 2
    assert len(response.json()["photos"]) == 2  # the case's photos include the step's


def test_the_case_detail_says_where_the_case_stands_and_what_you_may_do(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    seen = api(people["bob"]).get(url(case)).json()
    assert seen["tier"] == "grid"
    assert seen["priority"] == "normal"
    assert seen["supervised"] is False
    assert seen["overdue"] is False
    assert seen["deadline_state"] == "green"
    assert seen["allowed_actions"] == ["accept", "return", "escalate"]
    assert api(people["alice"]).get(url(case)).json()["allowed_actions"] == ["dispatch", "escalate", "supervise"]
    assert api(people["paul"]).get(url(case)).json()["allowed_actions"] == []


def test_the_deadline_turns_yellow_at_80_percent_and_red_when_overdue(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    start = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC) + dt.timedelta(hours=-8)  # Mon 08:30 Shanghai
    # SJ0102 has 8 working hours: dispatched Monday 08:30, due Monday 18:00.
    Case.objects.filter(pk=case.pk).update(dispatched_at=start, deadline=start + dt.timedelta(hours=9.5))
    state = {}
    for label, paused in [("at 80%", start + dt.timedelta(hours=8)), ("at 50%", start + dt.timedelta(hours=4))]:
        Case.objects.filter(pk=case.pk).update(deadline_paused_at=paused)
        state[label] = api(people["bob"]).get(url(case)).json()["deadline_state"]
    assert state == {"at 80%": "yellow", "at 50%": "green"}
    Case.objects.filter(pk=case.pk).update(deadline_paused_at=None)
    assert api(people["bob"]).get(url(case)).json()["deadline_state"] == "red"


def test_verification_by_the_handler_is_a_400_with_the_reason(people, api):
    case = walk(new_case(), "handled", dispatcher=people["alice"], handler=people["bob"])
    response = api(people["bob"]).post(url(case, "verify"), {"passed": True}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_rating_an_open_case_is_a_400_naming_the_status(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    response = api(people["alice"]).post(url(case, "rate"), {"satisfaction": "satisfied"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_an_extension_beyond_ten_working_days_is_a_400_naming_hours(people, api):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "in_progress", dispatcher=alice, handler=bob)
    too_long = api(bob).post(url(case, "request_extension"), {"hours": 81, "reason": "等待"}, format="json")
    assert too_long.status_code == 400
    assert list(too_long.json()) == ["hours"]
    asked = api(bob).post(url(case, "request_extension"), {"hours": 72, "reason": "等待"}, format="json")
    assert asked.status_code == 200
    assert api(alice).post(url(case, "decide_extension"), {"approved": True}, format="json").status_code == 200
    over = api(bob).post(url(case, "request_extension"), {"hours": 16, "reason": "再等"}, format="json")
    assert over.status_code == 400
    assert list(over.json()) == ["hours"]


@pytest.mark.parametrize(("action", "body", "field"), [
    ("void", {}, "reason"),
    ("verify", {}, "passed"),
    ("rate", {"satisfaction": "great"}, "satisfaction"),
    ("dispatch", {"to": "no such thing,"}, "to"),
    ("dispatch", {"tier": "planet"}, "tier"),
    ("supervise", {"note": ""}, "note"),
    ("accept", {"location": point(41.10, 122.995)}, "location"),
    ("co_handle", {"co_handlers": []}, "co_handlers"),
])
def test_bad_input_is_a_400_naming_the_field(people, api, action, body, field):
    case = new_case()
    response = api(people["root"]).post(url(case, action), body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_missing_boolean_in_a_form_is_not_read_as_false(people, api):
    case = walk(new_case(), "handled", dispatcher=people["alice"], handler=people["bob"])
    response = api(people["alice"]).post(url(case, "verify"), {"note": "看过了"}, format="multipart")
    assert response.status_code == 400
    assert "passed" in response.json()


def test_dispatching_to_an_unknown_department_is_a_400_naming_it(people, api):
    case = walk(new_case(), "registered", dispatcher=people["alice"], handler=people["bob"])
    response = api(people["alice"]).post(url(case, "dispatch"), {"lead": "210302-XYZ"}, format="json")
    assert response.status_code == 400
    assert "lead" in response.json()


def test_an_illegal_transition_is_a_409_listing_the_allowed_actions(people, api):
    case = walk(new_case(), "accepted", dispatcher=people["alice"], handler=people["bob"])
    response = api(people["bob"]).post(url(case, "accept"), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["status"] == "accepted"
    assert body["allowed_actions"] == ["start", "return", "request_extension", "escalate"]


def test_out_of_scope_and_guessed_ids_are_404(people, api):
    west = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    far = new_case(at=FAR)
    charlie, olga = people["charlie"], people["olga"]
    for user, case in [(charlie, west), (olga, west), (people["alice"], far), (people["bob"], far)]:
        assert api(user).post(url(case, "accept"), {}, format="json").status_code == 404
        assert api(user).get(url(case)).status_code == 404
        assert api(user).get(url(case, "timeline")).status_code == 404
    missing = far.pk + 1000
    assert api(people["alice"]).post(url(missing, "register"), {}, format="json").status_code == 404
    assert api(people["alice"]).get(url(missing, "timeline")).status_code == 404
    # bad input to a case out of scope still says nothing about the case
    assert api(charlie).post(url(west, "void"), {}, format="json").status_code == 404


def test_the_timeline_cannot_be_edited_or_deleted_through_the_api(people, api):
    case = walk(new_case(), "registered", dispatcher=people["alice"], handler=people["bob"])
    root = api(people["root"])
    timeline = url(case, "timeline")
    for method in (root.put, root.patch, root.delete, root.post):
        assert method(timeline, {"note": "rewritten"}, format="json").status_code == 405
    event = CaseEvent.objects.filter(case=case).first()
    assert root.delete(f"{timeline}{event.pk}/").status_code == 404
    assert root.patch(f"{timeline}{event.pk}/", {"note": "x"}, format="json").status_code == 404
    assert set(CaseEvent.objects.filter(case=case).values_list("note", flat=True)) == {""}


def test_the_case_list_filters_within_the_scope_and_pages(people, api):
    alice, bob = people["alice"], people["bob"]
    mine = walk(new_case(), "dispatched", dispatcher=alice, handler=bob)
    east = walk(new_case(at=EAST), "dispatched", dispatcher=alice, handler=people["charlie"])
    new_case(at=FAR)
    received = new_case()
    Case.objects.filter(pk=east.pk).update(overdue=True, supervised=True)

    def ids(user, query=""):
        response = api(user).get(f"/api/v1/cases/{query}")
        assert response.status_code == 200, response.json()
        return {c["id"] for c in response.json()["results"]}

    assert ids(alice) == {mine.pk, east.pk, received.pk}
    assert ids(bob) == {mine.pk, received.pk}
    assert ids(alice, "?status=dispatched") == {mine.pk, east.pk}
    assert ids(alice, "?status=received,dispatched&overdue=1") == {east.pk}
    assert ids(alice, "?supervised=true") == {east.pk}
    assert ids(alice, "?supervised=false&status=dispatched") == {mine.pk}
    assert ids(alice, f"?grid={east.territory_code}") == {east.pk}
    assert ids(bob, "?mine=1") == {mine.pk, received.pk}  # bob is the assignee of both
    assert ids(bob, "?mine=1&status=dispatched") == {mine.pk}
    page = api(alice).get("/api/v1/cases/?page_size=2&ordering=deadline").json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]
    bad = api(alice).get("/api/v1/cases/?status=lost")
    assert bad.status_code == 400
    assert "status" in bad.json()


def test_the_case_list_costs_the_same_few_queries_for_many_cases(people, api, django_assert_max_num_queries):
    for _ in range(12):
        walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    with django_assert_max_num_queries(14):
        response = api(people["alice"]).get("/api/v1/cases/")
    assert len(response.json()["results"]) == 12


def test_the_openapi_schema_and_its_docs_page_are_served_locally(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/cases/{id}/verify/" in paths
    assert "409" in paths["/api/v1/cases/{id}/verify/"]["post"]["responses"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/api/v1/cases/{id}/dispatch/" in html
    assert "cdn" not in html.lower()
    assert "<script" not in html
