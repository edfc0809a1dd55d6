"""The planner's page on a district of many communities (the demo city has 88): before one is picked the map
shows every community in scope — not a blank map of China with an empty history card — and a click on one
opens it; the impact table names moved buildings without the province…community prefix they all share."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gridgis.territory.models import Community, Grid
from gridgis.workforce.models import StaffRole
from tests.territory_factories import WIDER_WEST, make_user, square

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("categories"), pytest.mark.django_db(transaction=True)]

OVERVIEW = ".leaflet-overview-pane path"


@pytest.fixture
def planner(town):
    # A second community of the street, south of 明达社区, with one grid of its own.
    south = Community.objects.create(code="210302001003", name="蓝天社区", street=town.street,
                                     geom=square(122.99, 41.08, 123.01, 41.09))
    Grid.objects.create(code="210302001003001", name="蓝天第一网格", community=south, households=300,
                        population=800, geom=square(122.99, 41.08, 123.01, 41.09))
    user = make_user("pat", full_name="规划员 Pat")
    StaffRole.objects.create(user=user, role=StaffRole.Role.PLANNER, scope_code=town.street.code)
    return user


def at(page, lon: float, lat: float) -> tuple[float, float]:
    point = page.evaluate("([lat, lon]) => gridPlan.map.latLngToContainerPoint([lat, lon])", [lat, lon])
    return point["x"], point["y"]


def test_the_planner_starts_from_every_community_on_the_map_and_opens_one_with_a_click(
        log_in, live_server, planner, browser_log, screenshot):
    page = log_in(planner)
    page.goto(f"{live_server.url}/plan/")
    page.wait_for_selector("#plan-map[data-started='true']", state="attached")
    expect(page.locator(OVERVIEW)).to_have_count(2)
    assert page.evaluate("gridPlan.map.getZoom()") >= 12  # fitted to the communities, not China at z4
    expect(page.locator(".side-panel")).to_be_hidden()  # no empty history card before a community is open
    expect(page.locator("#tool-hint")).to_contain_text("点击一个社区")
    screenshot(page, "plan_overview")

    page.mouse.click(*at(page, 122.995, 41.10))  # inside 明达社区
    page.wait_for_selector("#plan-map[data-state='ready']", state="attached")
    assert page.url.endswith("#210302001002")
    expect(page.locator("#community-card [data-field=name]")).to_have_text("明达社区")
    expect(page.locator("#history")).to_be_visible()

    # The west grid widened over B-003: the impact table names it by its street address alone.
    page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click()
    page.click("button[data-tool=reshape]")
    page.evaluate("outline => gridPlan.setOutline(outline)", WIDER_WEST)
    page.click("#preview-button")
    building = page.locator("#impact-buildings td.building")
    expect(building).to_have_text(["胜利路8号1号楼"])
    assert "辽宁省鞍山市铁东区站前街道明达社区胜利路8号1号楼" in building.first.get_attribute("title")

    # Switching to the neighbour by clicking it on the map (after cancelling the preview).
    page.click("#cancel-button")
    page.evaluate("gridPlan.map.setView([41.09, 123.0], 14, {animate: false})")  # the neighbour in sight
    page.mouse.click(*at(page, 123.0, 41.085))
    expect(page.locator("#community-card [data-field=name]")).to_have_text("蓝天社区")
    assert browser_log.errors == []


def test_the_impact_table_fits_its_panel_in_english(log_in, live_server, planner, browser_log):
    page = log_in(planner)
    page.goto(f"{live_server.url}/plan/")
    page.click(".lang-switch button[value=en]")
    page.wait_for_selector("html[lang=en]", state="attached")
    page.wait_for_selector("#plan-map[data-started='true']", state="attached")
    page.select_option("#community-select", "210302001002")
    page.wait_for_selector("#plan-map[data-state='ready']", state="attached")
    page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click()
    page.click("button[data-tool=reshape]")
    page.evaluate("outline => gridPlan.setOutline(outline)", WIDER_WEST)
    page.click("#preview-button")
    expect(page.locator("#impact-grids td.state").first).to_contain_text("Changed")
    # Nothing cut off at the panel's edge, and no word broken in two ("Chang" / "ed").
    assert page.evaluate("document.querySelector('#impact-grids').scrollWidth"
                         " <= document.querySelector('#impact').clientWidth")
    words = page.locator("#impact-grids td.state").evaluate_all("""cells => cells.flatMap(cell => {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        const broken = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(/[A-Za-z]+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                if (range.getClientRects().length > 1) broken.push(match[0]);
            }
        }
        return broken;
    })""")
    assert words == []
    assert page.locator("#impact-grids th").all_inner_texts()[-1] == "Status"
    assert browser_log.errors == []
