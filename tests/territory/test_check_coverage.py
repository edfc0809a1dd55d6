"""check_coverage against real PostGIS: the selector, the command, and its offline HTML map.

The territory is drawn in metres (EPSG:4550, Gauss-Krüger CM 123°E) near Anshan and stored in WGS84:
community A has a 50 m × 20 m gap, a 10 m × 200 m overlap, a grid reaching 30 m outside and a
building split between two grids; community B tiles cleanly.
"""

import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import CommandError, call_command
from pyproj import Transformer
from shapely import MultiPolygon, affinity, box

from gridgis.territory.models import Building, Community, District, Grid, Street
from gridgis.territory.selectors import coverage_frames

A, B = "210302001001", "210302001002"
A1, A2, A3, B1, B2 = f"{A}001", f"{A}002", f"{A}003", f"{B}001", f"{B}002"
EVIL = "<script>alert(1)</script>{{ 7*7 }}"  # markup, and a Jinja expression (branca re-renders scripts)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
_TO_WGS84 = Transformer.from_crs(4550, 4326, always_xy=True)
X0, Y0 = Transformer.from_crs(4326, 4550, always_xy=True).transform(123.0, 41.1)


def geom(shape) -> GEOSGeometry:
    """A shape drawn in metres from the origin near Anshan, stored as a WGS84 MultiPolygon. Densified,
    so its straight edges stay straight in metres: converted corner to corner, A's 600 m north edge
    would be a chord bowing 6 mm off the grids' edges, slivers of up to 0.9 m² (tolerance: 1 m²)."""
    densified = shapely.segmentize(affinity.translate(shape, X0, Y0), 5.0)
    wgs84 = shapely.transform(densified, _TO_WGS84.transform, interleaved=False)
    multi = wgs84 if wgs84.geom_type == "MultiPolygon" else MultiPolygon([wgs84])
    return GEOSGeometry(multi.wkt, srid=4326)


def grid(code: str, community: Community, shape, name: str = "") -> Grid:
    return Grid.objects.create(code=code, community=community, name=name or f"第{code[-3:]}网格", geom=geom(shape))


def building(code: str, grid_: Grid | None, shape) -> Building:
    return Building.objects.create(code=code, address=f"铁东区{code}", grid=grid_, geom=geom(shape))


@pytest.fixture
def territory(db):
    district = District.objects.create(code="210302", name="铁东区", geom=geom(box(0, 0, 630, 500)))
    street = Street.objects.create(code="210302001", name="解放街道", district=district, geom=district.geom)
    a = Community.objects.create(code=A, name="胜利社区", street=street, geom=geom(box(0, 0, 600, 200)))
    b = Community.objects.create(code=B, name="和平社区", street=street, geom=geom(box(0, 300, 400, 500)))
    g1 = grid(A1, a, box(0, 0, 210, 200))                                    # overlaps A2 by 10 m × 200 m
    g2 = grid(A2, a, box(200, 0, 400, 200).difference(box(300, 180, 350, 200)))  # 50 m × 20 m gap
    grid(A3, a, box(400, 0, 630, 200))                                       # 30 m × 200 m outside
    b1 = grid(B1, b, box(0, 300, 200, 500))
    grid(B2, b, box(200, 300, 400, 500), name=EVIL)
    building("BLD-1", g1, box(20, 20, 50, 40))
    building("BLD-SPLIT", g2, box(390, 50, 420, 70))  # 10 m in A2, 20 m in A3
    building("BLD-B", b1, box(20, 320, 50, 340))
    building("BLD-LOOSE", None, box(250, 350, 270, 370))  # unassigned, inside B
    return a, b


def run(*args: str) -> str:
    out = StringIO()
    call_command("check_coverage", *args, stdout=out)
    return out.getvalue()


def problem_line(output: str, label: str) -> str:
    lines = [line for line in output.splitlines() if f"· {label} (" in line]
    assert len(lines) == 1, output
    return lines[0]


def area_in(line: str) -> float:
    return float(re.search(r"· ([\d,.]+) m² ·", line).group(1).replace(",", ""))


# --- the selector -----------------------------------------------------------------------------------


def test_coverage_frames_load_every_layer_with_parent_codes(territory, django_assert_num_queries):
    with django_assert_num_queries(3):
        communities, grids, buildings = coverage_frames()
    assert list(communities["code"]) == [A, B]
    assert dict(zip(grids["code"], grids["community_code"], strict=True))[B2] == B
    assert dict(zip(buildings["code"], buildings["grid_code"], strict=True))["BLD-SPLIT"] == A2
    assert grids.crs.to_epsg() == 4326
    assert grids.geometry.is_valid.all()


def test_coverage_frames_of_one_community_keep_its_unassigned_buildings(territory):
    communities, grids, buildings = coverage_frames([B])
    assert list(communities["code"]) == [B]
    assert list(grids["code"]) == [B1, B2]
    assert sorted(buildings["code"]) == ["BLD-B", "BLD-LOOSE"]


# --- the command ------------------------------------------------------------------------------------


def test_it_reports_each_problem_with_codes_and_area(territory):
    output = run()
    gap = problem_line(output, "缺口")
    assert A2 in gap
    assert area_in(gap) == pytest.approx(1000, rel=0.02)
    overlap = problem_line(output, "重叠")
    assert A1 in overlap
    assert A2 in overlap
    assert area_in(overlap) == pytest.approx(2000, rel=0.02)
    outside = problem_line(output, "越界")
    assert A3 in outside
    assert area_in(outside) == pytest.approx(6000, rel=0.02)
    split = problem_line(output, "楼栋跨网格")
    assert "BLD-SPLIT" in split
    assert f"{A3} 66.7%" in split
    assert f"{A2} 33.3%" in split
    assert "4 problems" in output


def test_problems_do_not_fail_the_command_unless_strict(territory):
    run()  # no CommandError
    with pytest.raises(CommandError, match="4 coverage problems"):
        run("--strict")


def test_a_clean_community_passes_even_when_strict(territory):
    output = run("--community", B, "--strict")
    assert "0 problems" in output
    assert "检查 1 个社区、2 个网格、2 栋楼" in output


def test_the_tolerance_hides_smaller_problems(territory):
    output = run("--community", A, "--tolerance", "2500")
    assert [line.split(" · ")[1] for line in output.splitlines() if line.startswith("社区")] == [
        "越界 (outside)"]


def test_it_rejects_an_unknown_community(territory):
    with pytest.raises(CommandError, match="unknown community code"):
        run("--community", "210302001009")


def test_an_empty_territory_is_ok_and_still_gets_a_map(db, tmp_path):
    output = run("--strict", "--html", str(tmp_path / "empty.html"))
    assert "0 problems" in output
    assert (tmp_path / "empty.html").exists()


# --- the HTML map -----------------------------------------------------------------------------------


@pytest.fixture
def html_map(territory, tmp_path) -> Path:
    path = tmp_path / "coverage.html"
    assert "written to" in run("--html", str(path))
    return path


def test_the_map_has_no_external_scripts_or_stylesheets(html_map):
    page = html_map.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+stylesheet", page)
    assert not re.search(r"(src|href)=[\"']https?://", page.replace('href="https://leafletjs.com"', ""))
    assert "L.tileLayer" not in page


def test_the_map_names_the_problem_codes_and_escapes_user_text(html_map):
    page = html_map.read_text(encoding="utf-8")
    for code in (A1, A2, A3, "BLD-SPLIT"):
        assert code in page
    assert EVIL not in page
    assert "alert(1)" in page  # the name is there, escaped
    assert "7*7" in page  # and not evaluated


@pytest.mark.browser
def test_the_map_draws_offline_in_chromium(html_map):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("no system Chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            _check_page(browser.new_page(viewport={"width": 1280, "height": 800}), html_map)
        finally:
            browser.close()


def _check_page(page, html_map: Path) -> None:
    requested, dialogs, errors = [], [], []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else (requested.append(r.request.url), r.abort()))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_map.as_uri())
    assert page.evaluate("typeof window.L") == "object"
    paths = page.locator("path.leaflet-interactive")
    assert paths.count() == 5 + 2 + 4  # grids, communities, problems
    assert page.locator('path[stroke="#d62728"]').count() == 1  # the gap
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coverage_map.png"))
    _hover_the_evil_grid(page)
    _click_the_gap(page)
    assert (requested, dialogs, errors) == ([], [], [])


def _hover_the_evil_grid(page) -> None:
    # B2 is the north-east grid; its tooltip shows the name as text.
    box_ = page.locator('path[stroke="#222"]').nth(1).bounding_box()
    page.mouse.move(box_["x"] + box_["width"] * 0.75, box_["y"] + box_["height"] * 0.5)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert EVIL in tooltip.inner_text()


def _click_the_gap(page) -> None:
    page.locator('path[stroke="#d62728"]').click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "缺口 (gap)" in text
    assert A2 in text
    assert "m²" in text
