"""The command centre's wall map (/wall/) in Chromium at 1920×1080, served by uvicorn (the ASGI server that
streams the live events) against the test database: the cases of alice's district on the map, hostile text
shown as text, a case reported while the page is open appearing within 2 s, supervising from the card, a
grid's worker and cases, the page in English (the compiled translations: `make test` compiles them), a
planner's commit redrawing the grids on the open wall without a reload, and a plain dark ground when the tile
server is out of reach."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from gridgis.cases.models import Case, Category
from gridgis.cases.services import IntakeReport, case_create
from tests.cases.workflow_helpers import EAST, WEST, new_case, walk
from tests.live.sse import Server, start_server
from tests.territory_factories import PASSWORD, commit_wider_west

pytest_plugins = ["tests.territory_factories"]

# transaction: the server sees what the test commits (and the flush after each test empties every table).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("categories"), pytest.mark.django_db(transaction=True)]

HOSTILE = "<img src=x onerror=alert(1)>"


def start_uvicorn(**env_vars: str) -> Server:
    return start_server(connection.settings_dict, **env_vars)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    server = start_uvicorn()
    yield server
    server.stop()


@pytest.fixture
def wall(browser, server, browser_log):
    """wall(user) signs in on the ASGI server and opens /wall/ at 1920×1080; returns the page, map drawn."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1920, "height": 1080})

    def open_wall(user, *, on=server, blocked: str = ""):
        page = context.new_page()
        if blocked:  # a tile server out of reach, as on a network without internet access
            page.route(blocked, lambda route: route.abort("internetdisconnected"))
        page.set_default_timeout(15_000)
        browser_log.watch(page)
        page.goto(f"{on.url}/accounts/login/?next=/wall/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login-form button[type=submit]")
        page.wait_for_url(f"{on.url}/wall/")
        page.wait_for_selector("#wall-map[data-ready=true][data-live=true]")
        return page

    yield open_wall
    context.close()


def reported(description: str, at=WEST) -> Case:
    report = IntakeReport(description=description, channel=Case.Channel.HOTLINE,
                          category=Category.objects.get(code="SJ0102"), lon=at[0], lat=at[1])
    return case_create(report=report, by=None)


def marker(page, case: Case):
    return page.locator(f'.case-dot[data-case-id="{case.pk}"]')


def test_the_command_centre_sees_acts_on_and_follows_live_cases(
        wall, alice, bob, charlie, browser_log, screenshot):
    plain = new_case(at=WEST)
    hostile = reported(HOSTILE, at=EAST)
    to_supervise = walk(new_case(at=(122.996, 41.101)), "dispatched", dispatcher=alice, handler=bob)
    late = new_case(at=(123.006, 41.102))
    Case.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=3))
    closed = walk(new_case(at=(122.994, 41.098)), "closed", dispatcher=alice, handler=bob)

    page = wall(alice)

    # Every open case of the district on the map, the closed one not; the overdue one stands out.
    for case in (plain, hostile, to_supervise, late):
        assert marker(page, case).count() == 1
    assert marker(page, closed).count() == 0
    assert "overdue" in marker(page, late).get_attribute("class")
    assert page.text_content("#count-open") == "4"
    assert page.text_content("#count-overdue") == "1"
    assert page.locator("#rate-rows tr").count() >= 1

    # Hostile text is shown as text: no image, no dialog.
    marker(page, hostile).click()
    description = page.locator('#case-card [data-field="description"]')
    description.wait_for()
    page.wait_for_function(f"document.querySelector('#case-card').dataset.caseId === '{hostile.pk}'")
    assert description.text_content() == HOSTILE
    assert page.locator("#case-card img, #ticker img").count() == 0
    # A received case: the command centre may register it, not supervise it.
    assert page.is_visible('#case-card [data-action="register"]')
    assert not page.is_visible('#case-card [data-action="supervise"]')

    # Reported anywhere while the page is open: on the map and in the ticker within 2 s, counted.
    fresh = reported("路灯不亮 — reported live")
    marker(page, fresh).wait_for(timeout=2000)
    page.locator("#ticker .ticker-item", has_text=fresh.number).wait_for(timeout=2000)
    page.wait_for_function("document.querySelector('#count-open').textContent === '5'", timeout=2000)

    # Supervise from the card: the case, its card and its marker say so.
    marker(page, to_supervise).click()
    page.wait_for_function(f"document.querySelector('#case-card').dataset.caseId === '{to_supervise.pk}'")
    page.click('#case-card [data-action="supervise"]')
    page.fill("#supervise-note", "今天下班前处理完毕")
    page.click("#case-card .supervise-form button[type=submit]")
    page.locator("#case-card .badge.watched").wait_for()
    assert page.text_content('#case-card [data-field="supervision_note"]') == "今天下班前处理完毕"
    page.wait_for_function(
        f"document.querySelector('.case-dot[data-case-id=\"{to_supervise.pk}\"]').classList.contains('supervised')")
    to_supervise.refresh_from_db()
    assert to_supervise.supervised
    assert to_supervise.supervision_note == "今天下班前处理完毕"
    page.wait_for_function("document.querySelector('#count-supervised').textContent === '1'", timeout=3000)

    screenshot(page, "wall_map")
    assert browser_log.dialogs == []
    assert browser_log.errors == []
    assert browser_log.external_requests() == []


def test_a_grid_shows_its_worker_and_its_open_cases(wall, alice, bob, browser_log):
    case = new_case(at=WEST)
    page = wall(alice)
    grid = page.locator("#wall-map .leaflet-overlay-pane path.leaflet-interactive").first
    grid.wait_for()
    # The west grid is the first drawn (code order); a corner of it, away from the case marker.
    grid.click(position={"x": 12, "y": 12})
    page.locator('#grid-card [data-field="workers"] li', has_text="王博").wait_for()
    assert page.text_content('#grid-card [data-field="name"]') == "明达第一网格"
    page.locator('#grid-card .grid-case', has_text=case.number).wait_for()
    assert page.text_content('#grid-card [data-field="case_count"]') == "1"

    # The same wall in English.
    page.click(".lang-switch button[value=en]")
    page.wait_for_selector("#wall-map[data-ready=true]")
    assert page.text_content(".wall-head h1") == "Command centre · Live cases"
    assert page.text_content(".live-counts .tile .label") == "Open"
    # Labels capitalised alike (they read "Open", "overdue", "supervised"), the action an imperative.
    assert page.locator(".live-counts .tile .label").all_text_contents() == [
        "Open", "Overdue", "Supervised", "New today"]
    assert page.text_content("#case-card [data-action=supervise]") == "Supervise"
    assert title_lines(page) == 1
    # The case card's labels all start with a capital ("status", "deadline" came from field names).
    marker(page, case).click()
    page.wait_for_selector("#case-card:not([hidden])")
    labels = page.locator("#case-card .facts dt").evaluate_all(
        "dts => dts.map(dt => dt.innerText.trim())")
    assert len(labels) == 7
    assert [label for label in labels if not label[0].isupper()] == []
    assert page.get_attribute("html", "lang") == "en"
    assert browser_log.errors == []


def title_lines(page) -> int:
    """How many lines the wall's title takes (it wrapped "… 实时案件态\n势" beside the clock)."""
    return page.locator(".wall-head h1").evaluate(
        "h1 => { const style = getComputedStyle(h1);"
        " const line = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);"
        " return Math.round(h1.getBoundingClientRect().height / line); }")


def test_the_title_reads_on_one_line_beside_the_clock(wall, alice, browser_log):
    page = wall(alice)
    assert title_lines(page) == 1
    assert browser_log.errors == []


GRIDS = "#wall-map .leaflet-overlay-pane path.leaflet-interactive"


def test_a_planners_commit_redraws_the_grids_on_the_open_wall_without_a_reload(wall, town, alice, browser_log):
    page = wall(alice)
    grids = page.locator(GRIDS)
    grids.first.wait_for()
    assert grids.count() == 2
    # The west grid is the first drawn (code order): 0.010° wide, as wide as the east one.
    widths = "paths => paths.map((p) => p.getBBox().width)"
    west, east = grids.evaluate_all(widths)
    assert west == pytest.approx(east, rel=0.05)
    page.evaluate("window.__noReload = true")

    # A planner widens the west grid eastwards to 123.006 (0.016° wide); the east grid keeps the rest.
    commit_wider_west(town)

    page.wait_for_function(f"""() => {{
        const [w, e] = [...document.querySelectorAll({GRIDS!r})].map((p) => p.getBBox().width);
        return w > {west} * 1.5 && e < {east} * 0.5;
    }}""", timeout=5000)
    assert grids.count() == 2  # redrawn in place, not drawn over the old ones
    assert page.evaluate("window.__noReload") is True
    assert browser_log.errors == []


@pytest.fixture(scope="module")
def osm_server(django_db_setup, django_db_blocker):
    server = start_uvicorn(GRIDGIS_BASEMAP="osm")
    yield server
    server.stop()


def test_with_the_tiles_out_of_reach_the_wall_keeps_its_plain_dark_ground(wall, osm_server, alice, browser_log):
    case = new_case(at=WEST)
    page = wall(alice, on=osm_server, blocked="https://tile.openstreetmap.org/**")
    page.wait_for_selector("#wall-map.tiles-failed")
    assert page.is_visible("#basemap-notice")
    assert not page.is_visible("#wall-map .leaflet-tile-pane")
    assert marker(page, case).count() == 1
    assert {urlsplit(url).hostname for url in browser_log.external_requests()} == {"tile.openstreetmap.org"}
    assert browser_log.errors == []
