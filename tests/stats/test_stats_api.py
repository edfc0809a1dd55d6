"""GET /api/v1/stats/: indicators equal figures computed by hand from a small fixture, in every scope.

The town of tests.territory_factories (district 210302 → street 210302001 → community 明达 210302001002 with
the west grid W (bob) and the east grid E (charlie)), plus a second community 胜利 210302001003 with one grid
G3. Fifteen cases, October 2026 being the period under test (times are Asia/Shanghai):

      grid status       received     registered  deadline     closed              rated
C1    W    closed       10-03 09:00  10-03 09:20 10-10 18:00  10-08 10:30 on time 10-09 满意
C2    W    closed       10-05 14:00  10-05 14:10 10-12 18:00  10-15 16:00 late    10-16 基本满意  reopened once
C3    W    in_progress  10-20 08:00  10-20 08:30 10-27 18:00  —                   —
C4    W    closed       10-30 10:00  10-30 10:05 11-06 18:00  10-31 23:30 on time 11-01 00:10 不满意
C5    W    voided       10-08 11:00  —           10-15 18:00  —                   —
C6    W    closed       09-25 10:00  09-25 10:10 10-02 18:00  09-29 15:00 on time 10-01 00:30 满意
C7    W    received     11-01 00:00  —           11-08 18:00  —                   —
C14   W    closed       09-20 10:00  09-20 10:10 09-27 18:00  10-03 09:00 late    —
C8    E    closed       10-10 09:00  10-10 09:05 10-17 18:00  10-16 11:00 on time 10-17 满意      reopened twice
C9    E    dispatched   10-12 10:00  10-12 10:30 10-19 18:00  —                   —               flagged overdue
C10   E    closed       10-15 08:00  10-15 08:10 10-22 18:00  10-22 17:00 on time —               lead 城管, co 住建
C11   G3   closed       10-01 00:00  10-01 00:20 10-08 18:00  10-07 12:00 on time 10-07 20:00 满意 department 住建
C12   G3   registered   10-18 09:00  10-18 09:30 10-25 18:00  —                   —
C15   G3   accepted     10-25 09:00  10-25 09:10 11-20 18:00  —                   —               clock paused 11-15
C13   —    received     10-09 10:00  —           10-16 18:00  —                   —               unplaced (code 210302)

Every open case's deadline has passed by the time the tests run (after 2026-11-28), so each is overdue now —
except C15, whose clock stopped (an extension pending) before its deadline.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from rest_framework.test import APIClient

from gridgis.cases.models import Case, CaseDepartment
from gridgis.cases.worktime import SHANGHAI
from gridgis.territory.models import Community, Grid
from gridgis.workforce.models import Department, GridAssignment, GridWorker, StaffRole
from tests.territory_factories import make_user, square

pytest_plugins = ["tests.territory_factories"]

URL = "/api/v1/stats/"
OCTOBER = {"start": "2026-10-01", "end": "2026-10-31"}
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def get(user, **params):
    return api(user).get(URL, {**OCTOBER, **params})


def make_case(grid: Grid | None, status: str, received: dt.datetime, deadline: dt.datetime, *,
              registered=None, closed=None, on_time=None, rated=None, satisfaction="", **fields) -> Case:
    placed = {"grid": grid, "community": grid.community, "street": grid.community.street,
              "territory_code": grid.code, "assignee": grid.workers.first()} if grid else {"territory_code": "210302"}
    return Case.objects.create(
        number=f"T{next(_numbers):07d}", description="测试案件", status=status, received_at=received,
        registered_at=registered, deadline=deadline, closed_at=closed, closed_on_time=on_time, rated_at=rated,
        satisfaction=satisfaction, **placed, **fields,
    )


@pytest.fixture
def victory(town) -> Grid:
    """胜利社区 and its one grid G3, beside 明达社区 in the same street."""
    community = Community.objects.create(code="210302001003", name="胜利社区", street=town.street,
                                         geom=square(123.01, 41.09, 123.02, 41.11))
    return Grid.objects.create(code="210302001003001", name="胜利第一网格", community=community,
                               geom=square(123.01, 41.09, 123.02, 41.11))


@pytest.fixture
def departments(town) -> dict[str, Department]:
    return {
        "cgj": Department.objects.create(code="210302-CGJ", name="城市管理局", district=town.district),
        "zjj": Department.objects.create(code="210302-ZJJ", name="住房和城乡建设局", district=town.district),
    }


@pytest.fixture
def cases(town, bob, charlie, victory, departments) -> dict[str, Case]:
    w, e = town.west, town.east
    c = {
        "C1": make_case(w, "closed", at(10, 3, 9), at(10, 10, 18), registered=at(10, 3, 9, 20),
                        closed=at(10, 8, 10, 30), on_time=True, rated=at(10, 9, 10), satisfaction="satisfied"),
        "C2": make_case(w, "closed", at(10, 5, 14), at(10, 12, 18), registered=at(10, 5, 14, 10),
                        closed=at(10, 15, 16), on_time=False, rated=at(10, 16, 9), satisfaction="basic",
                        reopen_count=1, overdue=True),
        "C3": make_case(w, "in_progress", at(10, 20, 8), at(10, 27, 18), registered=at(10, 20, 8, 30)),
        "C4": make_case(w, "closed", at(10, 30, 10), at(11, 6, 18), registered=at(10, 30, 10, 5),
                        closed=at(10, 31, 23, 30), on_time=True, rated=at(11, 1, 0, 10), satisfaction="unsatisfied"),
        "C5": make_case(w, "voided", at(10, 8, 11), at(10, 15, 18)),
        "C6": make_case(w, "closed", at(9, 25, 10), at(10, 2, 18), registered=at(9, 25, 10, 10),
                        closed=at(9, 29, 15), on_time=True, rated=at(10, 1, 0, 30), satisfaction="satisfied"),
        "C7": make_case(w, "received", at(11, 1), at(11, 8, 18)),
        "C14": make_case(w, "closed", at(9, 20, 10), at(9, 27, 18), registered=at(9, 20, 10, 10),
                         closed=at(10, 3, 9), on_time=False, overdue=True),
        "C8": make_case(e, "closed", at(10, 10, 9), at(10, 17, 18), registered=at(10, 10, 9, 5),
                        closed=at(10, 16, 11), on_time=True, rated=at(10, 17, 10), satisfaction="satisfied",
                        reopen_count=2),
        "C9": make_case(e, "dispatched", at(10, 12, 10), at(10, 19, 18), registered=at(10, 12, 10, 30),
                        overdue=True),
        "C10": make_case(e, "closed", at(10, 15, 8), at(10, 22, 18), registered=at(10, 15, 8, 10),
                         closed=at(10, 22, 17), on_time=True, department=departments["cgj"]),
        "C11": make_case(victory, "closed", at(10, 1), at(10, 8, 18), registered=at(10, 1, 0, 20),
                         closed=at(10, 7, 12), on_time=True, rated=at(10, 7, 20), satisfaction="satisfied",
                         department=departments["zjj"]),
        "C12": make_case(victory, "registered", at(10, 18, 9), at(10, 25, 18), registered=at(10, 18, 9, 30)),
        "C13": make_case(None, "received", at(10, 9, 10), at(10, 16, 18)),
        "C15": make_case(victory, "accepted", at(10, 25, 9), at(11, 20, 18), registered=at(10, 25, 9, 10),
                         deadline_paused_at=at(11, 15, 10)),
    }
    CaseDepartment.objects.create(case=c["C10"], department=departments["cgj"], role="lead")
    CaseDepartment.objects.create(case=c["C10"], department=departments["zjj"], role="co")
    return c


def figures(received, registered, closed, due, on_time, reopened, rated, satisfied, open_now, overdue_now,
            closed_rate, on_time_rate, rework_rate, satisfaction_rate, avg_hours) -> dict:
    return {"received": received, "registered": registered, "closed": closed, "due_to_close": due,
            "closed_on_time": on_time, "reopened": reopened, "rated": rated, "satisfied": satisfied,
            "open_now": open_now, "overdue_now": overdue_now, "closed_rate": closed_rate,
            "on_time_rate": on_time_rate, "rework_rate": rework_rate, "satisfaction_rate": satisfaction_rate,
            "avg_handling_hours": avg_hours}


# West grid, October:
# received   C1 C2 C3 C4 C5 (C6, C14 in September, C7 on 11-01 00:00)                  = 5
# registered C1 C2 C3 C4 (C5 voided, never registered)                                  = 4
# closed     C1 C2 C4 (10-31 23:30 is still October) C14 (due in September, closed late)  = 4
# due        closed ones + C3 (deadline 10-27, open); not C5 (voided), not C6 (deadline in
#            October but closed in September), not C7 (deadline in November)              = 5
# on time    C1 C4 = 2; reopened C2 = 1; rated C1 C2 C6 (C4 rated on 11-01) = 3, 满意 C1 C6 = 2
# open now   C3 C7, both past their deadline = 2 overdue
# handling   C1 121.5 h + C2 242 h + C4 37.5 h + C14 311 h = 712 h / 4 = 178
# rates      4/5 = 0.8, 2/5 = 0.4, 1/4 = 0.25, 2/3 = 0.6667
WEST = figures(5, 4, 4, 5, 2, 1, 3, 2, 2, 2, 0.8, 0.4, 0.25, 0.6667, 178.0)
# East grid: C8 C9 C10 received and registered; closed C8 C10 (both on time), due + C9 = 3; C8 reopened;
# rated C8 满意; open C9 (flagged overdue). Handling C8 146 h + C10 177 h = 323 h / 2 = 161.5.
EAST = figures(3, 3, 2, 3, 2, 1, 1, 1, 1, 1, 0.6667, 0.6667, 0.5, 1.0, 161.5)
# 明达社区 = West + East: handling 1035 h / 6 = 172.5; rates 6/8, 4/8, 2/6, 3/4.
MINGDA = figures(8, 7, 6, 8, 4, 2, 4, 3, 3, 3, 0.75, 0.5, 0.3333, 0.75, 172.5)
# 胜利社区 (G3): C11 received 10-01 00:00 (still October), closed on time, 满意, 156 h; C12 open, overdue; C15
# received and open, not due in October (deadline in November) and not overdue (its clock is paused).
VICTORY = figures(3, 3, 1, 2, 1, 0, 1, 1, 2, 1, 0.5, 0.5, 0.0, 1.0, 156.0)
# The street = both communities: handling 1191 h / 7 = 170.1429; rates 7/10, 5/10, 2/7 = 0.2857, 4/5.
STREET = figures(11, 10, 7, 10, 5, 2, 5, 4, 5, 4, 0.7, 0.5, 0.2857, 0.8, 170.14)
# C13, unplaced, filed under the district's code: received, due (deadline 10-16), open and overdue.
UNPLACED = figures(1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0.0, 0.0, None, None, None)
# The district = the street + C13: rates 7/11 = 0.6364, 5/11 = 0.4545, 2/7, 4/5.
DISTRICT = figures(12, 10, 7, 11, 5, 2, 5, 4, 6, 5, 0.6364, 0.4545, 0.2857, 0.8, 170.14)


def test_the_district_figures_equal_the_hand_computed_ones(cases, alice):
    body = get(alice, node="210302").json()
    assert body["subject"] == {"kind": "district", "code": "210302", "name": "铁东区"}
    assert body["period"] == {"start": "2026-10-01", "end": "2026-10-31", "timezone": "Asia/Shanghai"}
    assert body["figures"] == DISTRICT
    assert body["children"] == [
        {"kind": "street", "code": "210302001", "name": "站前街道", "figures": STREET},
        {"kind": "unplaced", "code": "210302", "name": "未落到下级辖区", "figures": UNPLACED},
    ]


def test_a_street_breaks_down_into_its_communities(cases, alice):
    body = get(alice, node="210302001").json()
    assert body["figures"] == STREET
    assert body["children"] == [
        {"kind": "community", "code": "210302001002", "name": "明达社区", "figures": MINGDA},
        {"kind": "community", "code": "210302001003", "name": "胜利社区", "figures": VICTORY},
    ]


def test_a_community_breaks_down_into_its_grids_and_a_grid_into_nothing(cases, alice, town):
    body = get(alice, node="210302001002").json()
    assert body["figures"] == MINGDA
    assert [(c["code"], c["name"], c["figures"]) for c in body["children"]] == [
        (town.west.code, "明达第一网格", WEST), (town.east.code, "明达第二网格", EAST)]
    grid = get(alice, node=town.west.code).json()
    assert grid["figures"] == WEST
    assert grid["children"] == []


@pytest.mark.parametrize("node", ["210302", "210302001", "210302001002"])
def test_children_add_up_to_their_node(cases, alice, node):
    body = get(alice, node=node).json()
    for name in ("received", "registered", "closed", "due_to_close", "closed_on_time", "reopened", "rated",
                 "satisfied", "open_now", "overdue_now"):
        assert sum(child["figures"][name] for child in body["children"]) == body["figures"][name], name


def test_children_without_cases_are_listed_with_zeros(town, alice, victory):
    body = get(alice, node="210302001").json()
    assert [c["code"] for c in body["children"]] == ["210302001002", "210302001003"]
    assert body["children"][1]["figures"] == figures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None)


def test_a_case_closed_at_half_past_eleven_on_october_31_shanghai_counts_in_october(cases, bob):
    # C4 closed 2026-10-31 23:30 +08:00, i.e. 15:30 UTC: in October, not in November.
    last_day = get(bob, start="2026-10-31", end="2026-10-31").json()["figures"]
    assert (last_day["closed"], last_day["received"]) == (1, 0)
    november = get(bob, start="2026-11-01", end="2026-11-30").json()["figures"]
    # C7 received 11-01 00:00 and C4's rating 11-01 00:10 belong to November; C4's close does not.
    assert (november["received"], november["rated"], november["closed"]) == (1, 1, 0)


def test_the_period_defaults_to_the_current_month(cases, alice):
    body = api(alice).get(URL, {"node": "210302"}).json()
    today = dt.datetime.now(SHANGHAI).date()
    assert body["period"]["start"] == today.replace(day=1).isoformat()
    assert body["period"]["end"][:7] == today.isoformat()[:7]
    assert body["figures"]["open_now"] == 6  # the snapshot does not depend on the period


def test_a_grid_worker_sees_their_grid_by_default_and_not_the_district(cases, bob, town):
    body = get(bob).json()
    assert body["subject"]["code"] == town.west.code
    assert body["figures"] == WEST
    assert get(bob, node="210302").status_code == 404
    assert get(bob, node=town.east.code).status_code == 404
    assert get(bob, node="210302001").status_code == 404


def test_the_command_centre_sees_the_district_by_default(cases, alice):
    body = get(alice).json()
    assert body["subject"]["code"] == "210302"
    assert body["figures"] == DISTRICT


def test_street_staff_see_only_their_street(cases, town):
    dora = make_user("dora")
    StaffRole.objects.create(user=dora, role=StaffRole.Role.STREET_STAFF, scope_code=town.street.code)
    assert get(dora).json()["figures"] == STREET
    assert get(dora, node="210302").status_code == 404


def test_nodes_that_do_not_exist_or_lie_elsewhere_are_404(cases, alice):
    assert get(alice, node="210302009").status_code == 404
    assert get(alice, node="210303").status_code == 404
    assert get(alice, node="210302001002009").status_code == 404


def test_a_worker_with_several_grids_must_name_one(cases, bob, town):
    GridAssignment.objects.create(worker=GridWorker.objects.get(user=bob), grid=town.east, role="deputy")
    response = get(bob)
    assert response.status_code == 400
    assert "node" in response.json()
    assert get(bob, node=town.east.code).json()["figures"] == EAST


def test_someone_without_any_scope_gets_404_and_anonymous_users_are_refused(cases):
    assert get(make_user("nobody")).status_code == 404
    assert APIClient().get(URL).status_code in (401, 403)


@pytest.mark.parametrize(("params", "field"), [
    ({"node": "21030"}, "node"),
    ({"node": "abc123"}, "node"),
    ({"start": "2026-13-01"}, "start"),
    ({"start": "yesterday"}, "start"),
    ({"end": "2026-02-30"}, "end"),
    ({"start": "2026-10-31", "end": "2026-10-01"}, "end"),
    ({"start": "1999-12-31"}, "start"),
    ({"end": "2100-01-01"}, "end"),
    ({"node": "210302", "worker": "W-bob"}, "worker"),
    ({"department": "210302-CGJ", "worker": "W-bob"}, "worker"),
])
def test_bad_parameters_are_400_naming_the_field(cases, alice, params, field):
    response = api(alice).get(URL, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# 城市管理局 leads C10 only: received, registered, closed on time and due 1, not rated, 177 h.
CGJ = figures(1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1.0, 1.0, 0.0, None, 177.0)
# 住房和城乡建设局 co-handles C10 and answers for C11: 2 closed on time, C11 rated 满意, (177 + 156) / 2 h.
ZJJ = figures(2, 2, 2, 2, 2, 0, 1, 1, 0, 0, 1.0, 1.0, 0.0, 1.0, 166.5)


def test_a_department_counts_the_cases_it_leads_or_co_handles(cases, alice):
    lead = get(alice, department="210302-CGJ").json()
    assert lead["subject"] == {"kind": "department", "code": "210302-CGJ", "name": "城市管理局"}
    assert (lead["figures"], lead["children"]) == (CGJ, [])
    assert get(alice, department="210302-ZJJ").json()["figures"] == ZJJ


def test_a_department_handler_sees_their_department_by_default_and_only_its_cases(cases, departments, town):
    erin = make_user("erin")
    StaffRole.objects.create(user=erin, role=StaffRole.Role.DEPARTMENT_HANDLER, scope_code=town.district.code,
                             department=departments["cgj"])
    assert get(erin).json()["subject"]["code"] == "210302-CGJ"
    assert get(erin).json()["figures"] == CGJ
    # Naming the district does not widen what they see: the figures still come through the case scope.
    assert get(erin, node="210302").json()["figures"] == CGJ


def test_department_figures_stay_within_the_callers_scope(cases, bob):
    # bob's west grid holds none of the departments' cases.
    assert get(bob, department="210302-ZJJ").json()["figures"]["received"] == 0


def test_departments_of_other_districts_or_unknown_ones_are_404(cases, alice, bob):
    Department.objects.create(code="210303-CGJ", name="立山区城市管理局")
    assert get(alice, department="210303-CGJ").status_code == 404
    assert get(alice, department="NOPE").status_code == 404


def test_a_worker_filter_counts_the_cases_assigned_to_them(cases, alice, bob, charlie):
    assert get(alice, worker="W-bob").json()["figures"] == WEST
    assert get(alice, worker="W-charlie").json()["figures"] == EAST
    assert get(bob, worker="W-bob").json()["subject"] == {"kind": "worker", "code": "W-bob", "name": "王博"}
    assert get(bob, worker="W-charlie").status_code == 404
    assert get(alice, worker="W-nobody").status_code == 404


def test_a_superuser_sees_every_district(cases, root):
    body = get(root).json()
    assert body["subject"]["kind"] == "city"
    assert [c["code"] for c in body["children"]] == ["210302"]
    assert body["figures"] == DISTRICT


def test_the_open_case_index_covers_exactly_the_open_statuses(db):
    # The open cases' partial index (migration stats/0002) must match Case.OPEN_STATUSES, or the planner
    # can't use it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'case_open_code_cover_idx'")
        definition = cursor.fetchone()[0]
    listed = {s for s in Case.Status.values if f"'{s}'" in definition}
    assert listed == set(Case.OPEN_STATUSES)
