"""The live `territory` event on the grid worker's phone page (/m/), served by uvicorn: a planner's commit that
moves no open case (so no case event rings) still reaches bob's phone at once as a notice, and redraws his
grid, without a reload (the page's own poll is once a minute)."""

from __future__ import annotations

import pytest
from django.db import connection

from gridgis.territory.planning import services as planning
from gridgis.workforce.models import StaffRole
from tests.live.sse import start_server
from tests.territory_factories import make_user
from tests.ui.test_worker_page import log_in, phone  # noqa: F401 -- the phone fixture and the login

pytest_plugins = ["tests.territory_factories"]

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("categories"),
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    server = start_server(connection.settings_dict, settings_module="gridgis.settings")
    yield server
    server.stop()


def test_a_boundary_change_without_a_moved_case_reaches_bobs_phone_at_once(
        server, phone, town, bob, browser_log):  # noqa: F811 -- phone: the fixture imported above
    page = log_in(phone(), server, bob)
    assert page.locator("#notice-count").is_hidden()
    buildings = page.locator("#worker-map path.building").count()
    page.evaluate("window.__noReload = true")

    planner = make_user("pat", full_name="规划员")
    StaffRole.objects.create(user=planner, role=StaffRole.Role.PLANNER, scope_code=town.street.code)
    west = {"op": "reshape", "grid": town.west.code, "geometry": {"type": "Polygon", "coordinates": [[
        [122.99, 41.09], [123.006, 41.09], [123.006, 41.11], [122.99, 41.11], [122.99, 41.09]]]}}
    planning.commit(user=planner, code=town.community.code, version=1, edit=west, reason="东片楼栋划入第一网格")

    page.wait_for_selector("#notice-count:visible:text-is('1')", timeout=5_000)
    page.wait_for_function(f"document.querySelectorAll('#worker-map path.building').length > {buildings}",
                           timeout=5_000)
    assert page.evaluate("window.__noReload") is True
    assert browser_log.errors == []
