"""The planner's grid editor (/plan/) in Chromium, desktop: a planner of the factory town picks 明达社区,
reshapes its west grid so that the east grid's building falls into it, reads the impact preview, commits with
a reason, and the database, the version history and the wall map follow; an outline outside the community is
refused with its reason and changes nothing; a stale version gets the conflict dialog; people who are not
planners get a 403 page.

Geoman's vertex handles are driven through the page's own `gridPlan.setOutline` (as if the vertices had been
dragged): the preview, the tables and the commit all go through the page's buttons."""

from __future__ import annotations

import json
import math

import pytest
from playwright.sync_api import expect

from gridgis.territory.models import Building, Grid
from gridgis.workforce.models import StaffRole
from tests.cases.workflow_helpers import new_case
from tests.territory_factories import WIDER_WEST, make_user, square

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMUNITY = "210302001002"
WEST = "210302001002001"
EAST = "210302001002002"
GRIDS = ".leaflet-overlay-pane path.leaflet-interactive"
BOW_TIE = {"type": "Polygon", "coordinates": [[
    [122.99, 41.09], [123.00, 41.11], [123.00, 41.09], [122.99, 41.11], [122.99, 41.09],
]]}
B003_SOUTH_EAST = (123.0054, 41.1000)
B003_MIDDLE = (123.0052, 41.10015)
FAR_AWAY = {"type": "Polygon", "coordinates": [[
    [123.05, 41.05], [123.06, 41.05], [123.06, 41.06], [123.05, 41.06], [123.05, 41.05],
]]}


@pytest.fixture
def planner(town):
    user = make_user("pat", full_name="规划员 Pat")
    StaffRole.objects.create(user=user, role=StaffRole.Role.PLANNER, scope_code=town.street.code)
    return user


def open_community(page, live_server):
    page.goto(f"{live_server.url}/plan/")
    page.wait_for_selector("#plan-map[data-started='true']", state="attached")
    page.fill("#community-search", "明达")
    page.select_option("#community-select", COMMUNITY)
    page.wait_for_selector("#plan-map[data-state='ready']", state="attached")
    expect(page.locator(GRIDS)).to_have_count(2)


def at(page, lon: float, lat: float) -> tuple[float, float]:
    """Where a place is on screen (the map fills the window, so its container is the viewport)."""
    point = page.evaluate("([lat, lon]) => gridPlan.map.latLngToContainerPoint([lat, lon])", [lat, lon])
    return point["x"], point["y"]


def drag_vertex(page, start: tuple[float, float], end: tuple[float, float]):
    """Drags the Geoman handle at `start` (lon, lat) to a few pixels off `end`: snapping must do the rest."""
    x0, y0 = at(page, *start)
    x1, y1 = at(page, *end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1 + 4, y1 - 3, steps=4)
    page.mouse.up()


def start_reshape(page, outline):
    page.locator(GRIDS).first.click()
    expect(page.locator("#grid-card [data-field=code]")).to_have_text(WEST)
    page.click("button[data-tool=reshape]")
    page.evaluate("outline => gridPlan.setOutline(outline)", outline)
    page.click("#preview-button")


def west_east_boundary() -> float:
    return Grid.objects.get(code=WEST).geom.extent[2]


# serialized_rollback: the case categories of the data migration survive the flush between tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_planner_reshapes_a_grid_previews_commits_and_the_wall_follows(
        log_in, live_server, planner, alice, bob, charlie, town, browser_log, screenshot):
    case = new_case(at=B003_MIDDLE)  # at 胜利路8号1号楼, in the east grid: charlie's
    assert (case.grid.code, case.assignee.name) == (EAST, "陈晨")
    page = log_in(planner)
    open_community(page, live_server)
    expect(page.locator("#community-card [data-field=target]")).to_contain_text("300")
    expect(page.locator(".grid-tip", has_text="王博")).to_have_count(1)  # bob labels the west grid
    expect(page.locator(".grid-tip", has_text="陈晨")).to_contain_text("在办案件 1")

    # The handle in the middle of the west grid's east edge dragged next to the far corner of B-003 (in the
    # east grid): it snaps onto the corner, and the bulge takes the building in.
    page.locator(GRIDS).first.click()
    page.click("button[data-tool=reshape]")
    drag_vertex(page, (123.00, 41.10), B003_SOUTH_EAST)
    outline = page.evaluate("gridPlan.state.editing.toGeoJSON().geometry")
    corners = outline["coordinates"][0][0] if outline["type"] == "MultiPolygon" else outline["coordinates"][0]
    assert list(B003_SOUTH_EAST) in corners
    page.click("#preview-button")

    impact = page.locator("#impact")
    expect(impact).to_be_visible()
    west_row = impact.locator(f"#impact-grids tr[data-code='{WEST}']")
    east_row = impact.locator(f"#impact-grids tr[data-code='{EAST}']")
    expect(west_row.locator("[data-field=households]")).to_contain_text("+24")
    expect(east_row.locator("[data-field=households]")).to_contain_text("-24")
    expect(impact.locator("#impact-buildings")).to_contain_text("胜利路8号1号楼")
    expect(impact.locator("#impact-cases tbody tr")).to_have_text([f"{case.number}002 → 001陈晨 → 王博"])
    expect(impact.locator("#impact-workers")).to_contain_text("王博")
    expect(impact.locator("#impact-workers")).to_contain_text("陈晨")
    expect(page.locator(".leaflet-buildings-pane path.building-moved")).to_have_count(1)
    assert west_east_boundary() == pytest.approx(123.00)  # a preview changes nothing
    screenshot(page, "plan_page_preview")

    page.click("#commit-button")
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    page.click("#reason-dialog button[value=confirm]")  # no reason: the dialog stays open
    expect(dialog).to_be_visible()
    page.fill("#reason-input", "胜利路8号楼划入第一网格,便于就近服务")
    page.click("#reason-dialog button[value=confirm]")

    page.wait_for_selector("#plan-map[data-committed]", state="attached")
    expect(page.locator("#plan-status")).to_contain_text("第 2 版")
    expect(page.locator("#history-list .version")).to_have_count(2)
    expect(page.locator("#history-list .version.current")).to_contain_text("胜利路8号楼划入第一网格")
    expect(page.locator("#impact")).to_be_hidden()
    screenshot(page, "plan_page_committed")
    assert west_east_boundary() == pytest.approx(123.0054, abs=1e-6)
    assert Building.objects.get(code="B-003").grid.code == WEST
    case.refresh_from_db()
    assert (case.grid.code, case.assignee.name) == (WEST, "王博")
    assert browser_log.errors == []
    assert browser_log.external_requests() == []

    assert_the_wall_shows_the_new_boundary(page, live_server, log_in, alice)


def assert_the_wall_shows_the_new_boundary(page, live_server, log_in, alice):
    """The wall map draws the current version: the west grid (the one ending further west) now reaches
    lon 123.0054, so on screen it is 0.0154° wide for 0.02° tall (was 0.01°), in Web Mercator at lat 41.1."""
    page.context.clear_cookies()
    page = log_in(alice)
    # The wall's live event stream needs the ASGI server (see test_wall_map.py); its boundaries do not.
    page.route("**/api/v1/live/**", lambda route: route.abort())
    page.goto(f"{live_server.url}/wall/")
    page.wait_for_selector("#wall-map[data-ready='true']", state="attached")
    grids = page.locator(GRIDS)
    expect(grids).to_have_count(2)
    boxes = page.evaluate(f"""() => [...document.querySelectorAll('{GRIDS}')].map((path) => {{
        const box = path.getBoundingClientRect();
        return {{right: box.right, width: box.width, height: box.height}};
    }})""")
    west = min(boxes, key=lambda box: box["right"])
    expected = 0.0154 / (0.02 / math.cos(math.radians(41.1)))
    assert west["width"] / west["height"] == pytest.approx(expected, rel=0.03)


def test_an_outline_outside_the_community_or_crossing_itself_is_refused_and_changes_nothing(
        log_in, live_server, planner, town, browser_log, screenshot):
    page = log_in(planner)
    open_community(page, live_server)
    before = Grid.objects.get(code=WEST).geom.wkt

    start_reshape(page, FAR_AWAY)

    error = page.locator("#plan-error")
    expect(error).to_be_visible()
    expect(error.locator(".reasons .field")).to_have_text(["轮廓"])  # names the field, in Chinese
    expect(page.locator("#impact")).to_be_hidden()
    expect(page.locator("#preview-button")).to_be_enabled()  # still editing: fix the outline, try again
    screenshot(page, "plan_page_outside_error")

    # A bow tie: no unambiguous repair, so it is refused with the crossing marked on the map.
    page.evaluate("outline => gridPlan.setOutline(outline)", BOW_TIE)
    page.click("#preview-button")
    expect(error.locator(".reasons")).to_contain_text("自相交")
    expect(page.locator(".leaflet-preview-pane path.error-spot")).to_have_count(1)
    expect(page.locator(".spot-tip")).to_have_text("问题位置")
    assert Grid.objects.get(code=WEST).geom.wkt == before
    assert list(Grid.objects.filter(community=town.community).order_by("code").values_list("code", flat=True)) \
        == [WEST, EAST]
    assert browser_log.errors == []


def click_at(page, lon: float, lat: float):
    page.mouse.click(*at(page, lon, lat))


def test_a_planner_splits_a_grid_by_drawing_a_line_across_it(log_in, live_server, planner, town, screenshot):
    page = log_in(planner)
    open_community(page, live_server)
    page.locator(GRIDS).first.click()
    page.click("button[data-tool=split]")

    # A line west → east across the west grid, between its two buildings; clicking the last point ends it.
    click_at(page, 122.9885, 41.1005)
    click_at(page, 123.0004, 41.1005)
    click_at(page, 123.0004, 41.1005)

    impact = page.locator("#impact")
    expect(impact).to_be_visible()
    expect(impact.locator("#impact-grids tr.status-new")).to_have_count(1)
    expect(impact.locator("#impact-grids tr.status-new [data-field=households]")).to_contain_text("+24")
    screenshot(page, "plan_page_split")
    page.click("#commit-button")
    page.fill("#reason-input", "第一网格南北拆分")
    page.click("#reason-dialog button[value=confirm]")
    page.wait_for_selector("#plan-map[data-version='2'][data-state='ready']", state="attached")
    expect(page.locator(GRIDS)).to_have_count(3)
    assert list(Grid.objects.filter(community=town.community).order_by("code").values_list("code", flat=True)) \
        == [WEST, EAST, f"{COMMUNITY}003"]


def test_merge_and_auto_partition_previews_and_cancel_discards_them(log_in, live_server, planner, town):
    page = log_in(planner)
    open_community(page, live_server)
    page.click("button[data-tool=merge]")
    expect(page.locator("#preview-button")).to_be_disabled()
    page.locator(GRIDS).nth(0).click()
    page.locator(GRIDS).nth(1).click()
    expect(page.locator("#tool-hint")).to_contain_text("已选 2 个网格")
    page.click("#preview-button")

    impact = page.locator("#impact")
    expect(impact.locator("#impact-grids tr.status-retired")).to_have_count(1)
    # A retired grid is just retired, not also "outside the target range" with its 0 households.
    expect(impact.locator("#impact-grids tr.status-retired .out")).to_have_count(0)
    expect(impact.locator("#impact-buildings tbody tr")).to_have_count(1)  # the retired grid's one building
    page.click("#discard-button")
    expect(impact).to_be_hidden()
    expect(page.locator(GRIDS)).to_have_count(2)
    expect(page.locator("button[data-tool=merge]")).to_have_attribute("aria-pressed", "false")

    # Auto-partition by households per grid: one building's worth each, so the west grid's two part ways.
    page.click("button[data-tool=partition]")
    page.check("input[name=partition-by][value=households_per_grid]")
    page.fill("#partition-value", "24")
    page.click("#preview-button")
    expect(impact.locator("#impact-grids tr.status-new")).to_have_count(1)
    page.click("#cancel-button")
    expect(impact).to_be_hidden()
    assert Grid.objects.filter(community=town.community).count() == 2


def test_a_stale_version_gets_the_conflict_dialog_and_reloads(log_in, live_server, planner, town, screenshot):
    page = log_in(planner)
    open_community(page, live_server)
    start_reshape(page, WIDER_WEST)
    expect(page.locator("#impact")).to_be_visible()

    # Meanwhile another planner commits an edit of the same community (version 1 → 2).
    other = square(122.99, 41.09, 123.002, 41.11)
    status = page.evaluate("""async (edit) => {
        const cfg = document.getElementById('plan-map').dataset;
        const response = await fetch(`${cfg.planApiRoot}210302001002/plan/commit/`, {
            method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': cfg.csrfToken},
            body: JSON.stringify({version: 1, edit, reason: '另一位规划员的调整'}),
        });
        return response.status;
    }""", {"op": "reshape", "grid": WEST, "geometry": json.loads(other[0].geojson)})
    assert status == 201

    page.click("#commit-button")
    page.fill("#reason-input", "我的调整")
    page.click("#reason-dialog button[value=confirm]")

    conflict = page.locator("#conflict-dialog")
    expect(conflict).to_be_visible()
    expect(conflict.locator(".changes")).to_contain_text("另一位规划员的调整")
    screenshot(page, "plan_page_conflict")
    assert west_east_boundary() == pytest.approx(123.002, abs=1e-6)  # only the other planner's edit

    page.click("#conflict-dialog button[value=reload]")
    page.wait_for_selector("#plan-map[data-version='2'][data-state='ready']", state="attached")
    expect(page.locator("#impact")).to_be_hidden()


def test_restoring_an_earlier_version_is_previewed_and_asks_for_a_reason(log_in, live_server, planner, town):
    page = log_in(planner)
    open_community(page, live_server)
    start_reshape(page, WIDER_WEST)
    page.click("#commit-button")
    page.fill("#reason-input", "试行调整")
    page.click("#reason-dialog button[value=confirm]")
    page.wait_for_selector("#plan-map[data-version='2'][data-state='ready']", state="attached")

    page.locator("#history-list .version[data-version='1'] .restore").click()
    impact = page.locator("#impact")  # what the restore would move back, before anything is written
    expect(impact.locator(".op")).to_have_text("恢复到第 1 版")
    expect(impact.locator(f"#impact-grids tr[data-code='{WEST}'] [data-field=households]")).to_contain_text("-24")
    assert west_east_boundary() == pytest.approx(123.006, abs=1e-6)
    page.click("#commit-button")
    expect(page.locator("#reason-dialog h2")).to_contain_text("第 1 版")
    page.fill("#reason-input", "试行结束,恢复原网格")
    page.click("#reason-dialog button[value=confirm]")

    page.wait_for_selector("#plan-map[data-version='3'][data-state='ready']", state="attached")
    expect(page.locator("#history-list .version.current")).to_contain_text("试行结束,恢复原网格")
    assert west_east_boundary() == pytest.approx(123.00, abs=1e-6)


def test_only_planners_may_open_the_planner_and_it_speaks_english(log_in, live_server, alice, planner):
    page = log_in(alice)
    expect(page.locator(".plan-link")).to_have_count(0)
    response = page.goto(f"{live_server.url}/plan/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问网格规划")
    expect(page.locator("#plan-map")).to_have_count(0)

    page.context.clear_cookies()
    page = log_in(planner)
    page.click(".plan-link")
    page.wait_for_selector("#plan-map[data-started='true']", state="attached")
    expect(page.locator("#community-select option")).to_have_text(["明达社区 · 210302001002"])

    page.click(".plan-panel button[value=en]")
    page.wait_for_selector("#plan-map[data-state='ready']", state="attached")
    expect(page.locator(".plan-panel h1")).to_have_text("Grid planning")
    expect(page.locator("button[data-tool=reshape]")).to_have_text("Reshape")
    expect(page.locator("#community-card [data-field=target]")).to_have_text("Target 300–500 households per grid")
