"""The live filter decides per event in memory; cases_for decides in SQL. For every kind of viewer they
must agree, or a stream would leak cases (or hide them). When cases_for learns a new rule, this fails until
the live scope learns it too."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from gridgis.cases.models import Case, CaseDepartment, Category
from gridgis.cases.services import IntakeReport, case_create
from gridgis.live import feed
from gridgis.live.scope import ViewerScope
from gridgis.workforce.models import Department, GridWorker, StaffRole

pytest_plugins = ["tests.territory_factories"]

WEST, EAST, AWAY = (122.995, 41.10), (123.005, 41.10), (121.0, 39.0)


def make_user(username: str):
    from tests.territory_factories import make_user  # after pytest_plugins has registered the module

    return make_user(username)


def staff(username: str, role: str, scope_code: str, department: Department | None = None):
    user = make_user(username)
    StaffRole.objects.create(user=user, role=role, scope_code=scope_code, department=department)
    return user


@pytest.fixture
def department(town) -> Department:
    return Department.objects.create(code="210302-CGJ", name="城市管理局", district=town.district)


@pytest.fixture
def viewers(town, department, alice, bob, charlie, root):
    return {
        "alice": alice, "bob": bob, "charlie": charlie, "root": root,
        "dora": make_user("dora"),  # no role at all: only what is hers
        "erin": staff("erin", StaffRole.Role.COMMUNITY_STAFF, town.community.code),
        "frank": staff("frank", StaffRole.Role.STREET_STAFF, "210302009"),
        # A department handler's scope code only places them in a district: they see their department's cases.
        "gina": staff("gina", StaffRole.Role.DEPARTMENT_HANDLER, town.district.code, department),
        "ivan": make_user("ivan"),  # a grid worker with a login but no grid of his own
    }


def file(where, *, by=None, jurisdiction: str = "", **changes) -> Case:
    report = IntakeReport(description="路面破损", channel="app", category=Category.objects.get(code="SJ0102"),
                          lon=where[0] if where else None, lat=where[1] if where else None,
                          address="" if where else "不知道哪里")
    case = case_create(report=report, by=by, jurisdiction=jurisdiction)
    Case.objects.filter(pk=case.pk).update(**changes)
    return case


def test_the_live_scope_agrees_with_cases_for_for_every_viewer(viewers, department):
    v = viewers
    file(WEST, by=v["alice"])
    file(EAST, by=v["bob"])  # reported by the west grid's worker in the east grid
    file(AWAY, by=v["dora"])  # outside the district: its reporter and superusers
    file(None, jurisdiction="210302001")  # not placed: filed under the street
    file(EAST, handler=v["frank"])  # accepted by someone from elsewhere
    file(EAST, assignee=GridWorker.objects.create(worker_id="W-ivan", name="伊万", user=v["ivan"]))
    co_handled = file(WEST)
    CaseDepartment.objects.create(case=co_handled, department=department, role=CaseDepartment.Role.CO)

    everything, _ = feed.replay(v["root"], after=0, limit=1000)
    assert len(everything) == 7
    for name, viewer in v.items():
        live = {e.id for e in everything if ViewerScope.of(viewer).sees(e.audience)}
        from_the_table = {e.id for e in feed.replay(viewer, after=0, limit=1000)[0]}
        assert live == from_the_table, name


def test_an_anonymous_viewer_sees_nothing(town, root):
    file(WEST)
    assert feed.replay(AnonymousUser(), after=0, limit=1000) == ([], False)
    events, _ = feed.replay(root, after=0, limit=1000)
    assert not any(ViewerScope.of(AnonymousUser()).sees(e.audience) for e in events)


def test_a_replay_longer_than_its_limit_keeps_the_newest_and_says_so(town, root):
    for _ in range(3):
        file(WEST)
    events, truncated = feed.replay(root, after=0, limit=2)
    everything, _ = feed.replay(root, after=0, limit=10)
    assert truncated
    assert [e.id for e in events] == [e.id for e in everything[-2:]]
