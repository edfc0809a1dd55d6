"""The live `territory` event on the grid worker's phone page (/m/), served by uvicorn: a planner's commit that
moves no open case (so no case event rings) still reaches bob's phone at once as a notice, and redraws his
grid, without a reload (the page's own poll is once a minute)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.live.sse import start_server
from tests.territory_factories import commit_wider_west
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

    commit_wider_west(town)

    page.wait_for_selector("#notice-count:visible:text-is('1')", timeout=5_000)
    page.wait_for_function(f"document.querySelectorAll('#worker-map path.building').length > {buildings}",
                           timeout=5_000)
    assert page.evaluate("window.__noReload") is True
    assert browser_log.errors == []
