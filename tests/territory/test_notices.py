"""Grid change notices for grid workers (/api/v1/notices/): a planner's commit tells the affected workers, each
sees only their own, newest first, and marks them read (one or all)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from gridgis.territory.models import Community, CommunityVersion, GridChangeNotice
from gridgis.workforce.models import GridWorker
from tests.territory import test_planning_api as planning
from tests.territory.test_planning_api import COMMUNITY, TAKE_WEST_HALF, URL, client_for, code

# The planning API's town (明达社区, six grids with a worker each, an open case in 002) and its planner.
town = planning.town
planner = planning.planner

NOTICES = "/api/v1/notices/"


def login_for(worker_id: str):
    """Gives the planning town's worker a login (its workers have none)."""
    user = get_user_model().objects.create_user(username=worker_id.lower(), password="pw-12345678")
    GridWorker.objects.filter(worker_id=worker_id).update(user=user)
    return user


@pytest.fixture
def w1(town):
    return login_for("W1")


@pytest.fixture
def w2(town):
    return login_for("W2")


def commit(planner, edit, *, version: int = 1, reason: str = "2号网格户数过多") -> int:
    response = client_for(planner).post(URL + "plan/commit/", {"version": version, "edit": edit, "reason": reason},
                                        format="json")
    assert response.status_code == 201, response.json()
    return response.json()["version"]


def read(user, query: str = "") -> dict:
    response = client_for(user).get(NOTICES + query)
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_commit_tells_each_affected_worker_what_changed_for_them(planner, w1, w2):
    commit(planner, TAKE_WEST_HALF)

    mine = read(w1)
    assert mine["unread"] == 1
    [notice] = mine["results"]
    assert notice["version"] == 2
    assert notice["community"] == {"code": COMMUNITY, "name": "明达社区"}
    assert notice["grids"] == [code(1)]
    assert "第 2 版" in notice["message"]
    assert "转入案件 1 件" in notice["message"]  # the open case in 002's west half is now w1's
    assert notice["read"] is False
    assert notice["read_at"] is None
    created = dt.datetime.fromisoformat(notice["created_at"])
    assert notice["created_at"].endswith("+08:00")
    assert abs(timezone.now() - created) < dt.timedelta(minutes=5)

    [theirs] = read(w2)["results"]
    assert theirs["grids"] == [code(2)]
    assert "转出案件 1 件" in theirs["message"]
    assert theirs["id"] != notice["id"]
    # 003's worker was not affected.
    assert read(login_for("W3")) == {"unread": 0, "results": [], "grids": [{"code": code(3), "name": "明达第3网格"}]}


def test_newest_first_and_the_unread_filter(planner, w1):
    commit(planner, TAKE_WEST_HALF)
    response = client_for(planner).post(URL + "plan/restore/", {"version": 2, "to_version": 1, "reason": "撤销"},
                                        format="json")
    assert response.status_code == 201, response.json()

    body = read(w1)
    assert [n["version"] for n in body["results"]] == [3, 2]
    assert body["unread"] == 2
    older = body["results"][1]["id"]
    assert client_for(w1).post(f"{NOTICES}{older}/read/").status_code == 200

    unread = read(w1, "?unread=1")
    assert [n["version"] for n in unread["results"]] == [3]
    assert unread["unread"] == 1
    assert [n["read"] for n in read(w1, "?unread=0")["results"]] == [False, True]


def test_marking_read_is_for_the_owner_only_and_idempotent(planner, w1, w2):
    commit(planner, TAKE_WEST_HALF)
    [notice] = read(w1)["results"]

    assert client_for(w2).post(f"{NOTICES}{notice['id']}/read/").status_code == 404
    assert read(w1)["unread"] == 1  # w2's attempt changed nothing

    first = client_for(w1).post(f"{NOTICES}{notice['id']}/read/")
    assert first.status_code == 200
    assert first.json()["read"] is True
    assert first.json()["unread"] == 0
    again = client_for(w1).post(f"{NOTICES}{notice['id']}/read/")
    assert again.status_code == 200
    assert again.json()["read_at"] == first.json()["read_at"]  # the first read time stays
    assert read(w1)["results"][0]["read"] is True
    assert read(w2)["unread"] == 1  # w2's own notice is untouched
    assert client_for(w1).post(f"{NOTICES}999999/read/").status_code == 404


def test_read_all_marks_only_the_callers_notices(planner, w1, w2):
    commit(planner, TAKE_WEST_HALF)
    commit(planner, {"op": "merge", "grids": [code(1), code(2)]}, version=2, reason="合并")
    assert read(w1)["unread"] == 2

    response = client_for(w1).post(NOTICES + "read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": 0}
    assert read(w1, "?unread=1")["results"] == []
    assert client_for(w1).post(NOTICES + "read-all/").json() == {"marked": 0, "unread": 0}
    assert read(w2)["unread"] == 2


def test_the_workers_grids_as_they_are_after_a_merge(planner, w2):
    """002 merged into 001: its worker now helps in 001, and the phone is told so to redraw the map."""
    commit(planner, {"op": "merge", "grids": [code(1), code(2)]}, reason="合并")
    body = read(w2)
    assert body["grids"] == [{"code": code(1), "name": "明达第1网格"}]
    assert body["results"][0]["grids"] == [code(1), code(2)]
    assert "合并网格" in body["results"][0]["message"]


def test_someone_who_is_not_a_grid_worker_has_no_notices(planner, w1):
    commit(planner, TAKE_WEST_HALF)
    [notice] = read(w1)["results"]

    assert read(planner) == {"unread": 0, "results": [], "grids": []}
    assert client_for(planner).post(f"{NOTICES}{notice['id']}/read/").status_code == 404
    assert client_for(planner).post(NOTICES + "read-all/").json() == {"marked": 0, "unread": 0}
    assert read(w1)["unread"] == 1
    assert APIClient().get(NOTICES).status_code in (401, 403)
    assert APIClient().post(f"{NOTICES}{notice['id']}/read/").status_code in (401, 403)


def test_another_workers_notice_is_neither_seen_nor_read(town, w1):
    """A notice written for another worker directly (no commit): w1 neither sees nor reads it."""
    version = CommunityVersion.objects.create(community=Community.objects.get(code=COMMUNITY), version=1,
                                              effective_from=timezone.now())
    other = GridChangeNotice.objects.create(version=version, worker=GridWorker.objects.get(worker_id="W4"),
                                            grids=[code(4)], message="<img src=x onerror=alert(1)>")
    assert read(w1)["results"] == []
    assert client_for(w1).post(f"{NOTICES}{other.pk}/read/").status_code == 404
    assert client_for(w1).post(NOTICES + "read-all/").json()["marked"] == 0
    other.refresh_from_db()
    assert other.read_at is None
    owner = login_for("W4")
    [shown] = read(owner)["results"]
    assert shown["message"] == "<img src=x onerror=alert(1)>"  # stored and served as it is: the page shows text


def test_a_bad_unread_flag_is_a_400_naming_the_field(w1):
    response = client_for(w1).get(NOTICES + "?unread=maybe")
    assert response.status_code == 400
    assert "unread" in response.json()
