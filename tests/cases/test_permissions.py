"""The permission matrix: every role × every endpoint × inside/outside its scope.

Designed answers: out of scope → 404 (a case of another territory is exactly like one that does not exist);
in scope but not your action → 403; your action from the wrong status or condition → 409; the handler
verifying their own work → 400; anonymous → 403. Phone numbers are masked for roles that don't handle the
case or call the citizen back.
"""

from __future__ import annotations

from gridgis.cases import transitions as t
from gridgis.cases.workflow import RULES

from .workflow_helpers import FAR, PHONE, new_case, walk

pytest_plugins = ["tests.territory_factories", "tests.cases.workflow_fixtures"]

ROLES = ["anonymous", "root", "alice", "cindy", "steve", "bob", "dave", "charlie", "paul", "dora", "sam", "olga"]
BODIES = {
    "register": {}, "void": {"reason": "重复上报"}, "dispatch": {}, "accept": {}, "start": {},
    "hand_in": {"note": "已处理"}, "verify": {"passed": True}, "close": {}, "rate": {"satisfaction": "satisfied"},
    "return": {"reason": "非本单位职责"}, "request_extension": {"hours": 8, "reason": "等待配件"},
    "decide_extension": {"approved": True}, "escalate": {}, "co_handle": {"co_handlers": ["210302-ZJJ"]},
    "supervise": {"note": "请加快办理"},
}
# The status each action starts from (decide_extension: with a request pending).
READY = {
    "register": "received", "void": "received", "dispatch": "registered", "accept": "dispatched",
    "start": "accepted", "hand_in": "in_progress", "verify": "handled", "close": "verified", "rate": "closed",
    "return": "dispatched", "request_extension": "in_progress", "decide_extension": "in_progress",
    "escalate": "dispatched", "co_handle": "dispatched", "supervise": "dispatched",
}
BEFORE_DISPATCH = {"register", "void", "dispatch"}

# What each role may do, by flavour of case: a grid matter in bob's west grid (handled by bob), and a
# department matter in the same grid led by 城市管理局 (dora) with 水务局 (sam) co-handling.
MAY = {
    "grid": {
        "alice": {"register", "void", "dispatch", "verify", "close", "rate", "decide_extension", "escalate",
                  "supervise"},
        "cindy": {"verify", "rate"}, "steve": {"verify", "rate"},
        "bob": {"accept", "start", "hand_in", "return", "request_extension", "escalate"},
        "dave": {"accept", "return", "escalate", "verify"},
        "paul": set(),
    },
    "department": {
        "alice": {"register", "void", "dispatch", "verify", "close", "rate", "decide_extension", "co_handle",
                  "supervise"},
        "cindy": {"verify", "rate"}, "steve": {"verify", "rate"},
        "bob": {"verify"}, "dave": {"verify"},
        "dora": {"accept", "start", "hand_in", "return", "request_extension", "co_handle"},
        "sam": set(), "paul": set(),
    },
}
HANDLER = {"grid": "bob", "department": "dora"}


def in_scope(role: str, flavour: str, action: str = "") -> bool:
    if role in ("charlie", "olga"):
        return False
    if role in ("dora", "sam"):  # department handlers see their departments' cases, once dispatched to them
        return flavour == "department" and action not in BEFORE_DISPATCH
    return role != "anonymous"


def expected(role: str, flavour: str, action: str) -> int:
    if role == "anonymous":
        return 403
    if not in_scope(role, flavour, action):
        return 404
    if role == HANDLER[flavour] and action == "verify":
        return 400
    if (flavour, action) in {("grid", "co_handle"), ("department", "escalate")}:
        return 409  # no lead department to help / already at the top tier: the condition, for everyone
    if role == "root":
        return 200
    return 200 if action in MAY[flavour][role] else 403


def prepare(people, flavour: str, action: str):
    alice = people["alice"]
    handler = people[HANDLER[flavour]]
    if flavour == "grid":
        case = new_case()
        to = None
    else:
        case = new_case(category="SJ0303")  # 道路遗撒: 城市管理局
        to = ["210302-CGJ", "210302-SWJ"]
    case = walk(case, READY[action], dispatcher=alice, handler=handler, checker=people["cindy"], to=to)
    if action == "decide_extension":
        case = t.case_request_extension(case=case, by=handler, hours=8, reason="等待配件")
    return case


def test_every_role_on_every_action_inside_and_outside_its_scope(people, api):
    clients = {role: api(None if role == "anonymous" else people[role]) for role in ROLES}
    actual, wanted = {}, {}
    for flavour in ("grid", "department"):
        for action in RULES:
            case = prepare(people, flavour, action)
            for role in ROLES:
                response = clients[role].post(f"/api/v1/cases/{case.pk}/{action}/", BODIES[action], format="json")
                actual[flavour, action, role] = response.status_code
                wanted[flavour, action, role] = expected(role, flavour, action)
                if response.status_code == 200:  # it moved on: the next role gets a fresh case
                    case = prepare(people, flavour, action)
    mismatches = {cell: (actual[cell], wanted[cell]) for cell in wanted if actual[cell] != wanted[cell]}
    assert mismatches == {}
    assert len(actual) == 2 * len(RULES) * len(ROLES)
    assert set(actual.values()) == {200, 400, 403, 404, 409}


def test_every_role_on_detail_and_timeline_with_masked_phones(people, api):
    cases = {
        "grid": walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"]),
        "department": walk(new_case(category="SJ0303"), "dispatched", dispatcher=people["alice"],
                           handler=people["dora"], to=["210302-CGJ", "210302-SWJ"]),
    }
    reveal = {"root", "alice", "cindy", "steve", "bob", "dora", "sam"}  # handlers and those who call back
    for role in ROLES:
        client = api(None if role == "anonymous" else people[role])
        for flavour, case in cases.items():
            detail = client.get(f"/api/v1/cases/{case.pk}/")
            timeline = client.get(f"/api/v1/cases/{case.pk}/timeline/")
            want = 403 if role == "anonymous" else 200 if in_scope(role, flavour) else 404
            assert (detail.status_code, timeline.status_code) == (want, want), (role, flavour)
            if want == 200:
                phone = PHONE if role in reveal else "138****5678"
                assert detail.json()["reporter_phone"] == phone, (role, flavour)


def test_every_role_lists_only_its_cases(people, api):
    grid = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    department = walk(new_case(category="SJ0303"), "dispatched", dispatcher=people["alice"],
                      handler=people["dora"], to=["210302-CGJ"])
    far = new_case(at=FAR)
    visible = {
        "root": {grid, department, far}, "alice": {grid, department}, "cindy": {grid, department},
        "steve": {grid, department}, "bob": {grid, department}, "dave": {grid, department},
        "paul": {grid, department}, "charlie": set(), "dora": {department}, "sam": set(), "olga": {far},
    }
    for role, cases in visible.items():
        response = api(people[role]).get("/api/v1/cases/")
        assert response.status_code == 200
        assert {c["id"] for c in response.json()["results"]} == {c.pk for c in cases}, role
    assert api(None).get("/api/v1/cases/").status_code == 403


def test_every_role_on_the_territory_lists(people, api, town, far):
    grids = {
        "root": {town.west.code, town.east.code, far.code}, "alice": {town.west.code, town.east.code},
        "cindy": {town.west.code, town.east.code}, "steve": {town.west.code, town.east.code},
        "bob": {town.west.code}, "dave": {town.west.code}, "charlie": {town.east.code},
        "paul": {town.west.code, town.east.code}, "dora": {town.west.code, town.east.code},
        "sam": {town.west.code, town.east.code}, "olga": {far.code},
    }
    for level in ("districts", "streets", "communities", "grids", "buildings"):
        assert api(None).get(f"/api/v1/territory/{level}/").status_code == 403
        for role in grids:
            assert api(people[role]).get(f"/api/v1/territory/{level}/").status_code == 200, (role, level)
    for role, codes in grids.items():
        features = api(people[role]).get("/api/v1/territory/grids/").json()["features"]
        assert {f["id"] for f in features} == codes, role
    assert api(people["olga"]).get(f"/api/v1/territory/grids/{town.west.code}/").status_code == 404
    assert api(people["charlie"]).get(f"/api/v1/territory/grids/{town.west.code}/").status_code == 404
