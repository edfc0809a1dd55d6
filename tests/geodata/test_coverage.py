"""The coverage check on small synthetic territories near Anshan (123.0°E, 41.1°N).

Shapes are drawn in metres in CGCS2000 / Gauss-Krüger CM 123°E (EPSG:4550), the survey's own CRS, and
handed to the check in WGS84 — so the areas it finds in its own projection are checked against another.
The tilings digitised in WGS84 itself, edges divided by different vertices, are drawn in degrees.
"""

import itertools
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely import box

from geodata.coverage import CoverageReport, check_coverage
from geodata.coverage_map import write_coverage_map

COMMUNITY = "210302001001"
OTHER = "210302001002"
G1, G2, G3 = (f"{COMMUNITY}{n:03d}" for n in (1, 2, 3))
LEAFLET = Path(__file__).resolve().parents[2] / "node_modules" / "leaflet" / "dist"
X0, Y0 = Transformer.from_crs(4326, 4550, always_xy=True).transform(123.0, 41.1)
DENSIFY_M = 5.0


def local(geom):
    """A shape drawn in metres from the origin near Anshan, as EPSG:4550 coordinates. Densified: a
    straight edge in metres is a curve in degrees, and the check overlays in degrees — undivided, a
    400 m edge would hand it a chord bowing 3 mm off the grids' edges (0.3 m² slivers). Not an invalid
    shape: segmentize would repair it."""
    geom = shapely.affinity.translate(geom, X0, Y0)
    return shapely.segmentize(geom, DENSIFY_M) if geom.is_valid else geom


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    rows = [{**row, "geometry": local(row["geometry"])} for row in rows]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4550).to_crs(4326)


def communities(*extra: dict) -> gpd.GeoDataFrame:
    return frame([{"code": COMMUNITY, "name": "胜利社区", "geometry": box(0, 0, 400, 200)}, *extra])


WEST, EAST = box(0, 0, 200, 200), box(200, 0, 400, 200)


def grids(g1=WEST, g2=EAST, *extra: dict) -> gpd.GeoDataFrame:
    return frame([
        {"code": G1, "community_code": COMMUNITY, "geometry": g1},
        {"code": G2, "community_code": COMMUNITY, "geometry": g2},
        *extra,
    ])


def buildings(*rows: tuple[str, str, object]) -> gpd.GeoDataFrame:
    return frame([{"code": code, "grid_code": grid, "geometry": geom} for code, grid, geom in rows])


def only(report: CoverageReport, kind: str):
    found = [p for p in report.problems if p.kind == kind]
    assert len(found) == 1, report.lines()
    return found[0]


def test_a_clean_tiling_reports_nothing():
    report = check_coverage(communities(), grids(), buildings(("B1", G1, box(10, 10, 40, 30))))
    assert report.ok, report.lines()
    assert (report.communities_checked, report.grids_checked, report.buildings_checked) == (1, 2, 1)
    assert "0 problems" in report.summary()


def test_it_finds_a_gap_between_two_grids_with_its_area():
    notched = box(200, 0, 400, 200).difference(box(200, 90, 250, 110))  # 50 m × 20 m
    gap = only(check_coverage(communities(), grids(g2=notched)), "gap")
    assert gap.codes == (G1, G2)
    assert gap.community_code == COMMUNITY
    assert gap.area_m2 == pytest.approx(1000, rel=0.01)
    assert gap.geometry.within(box(122.9, 41.0, 123.1, 41.2))  # reported in WGS84


def test_it_finds_an_overlap_naming_both_grids():
    report = check_coverage(communities(), grids(g1=box(0, 0, 210, 200)))
    overlap = only(report, "overlap")
    assert overlap.codes == (G1, G2)
    assert overlap.area_m2 == pytest.approx(2000, rel=0.01)
    assert [p.kind for p in report.problems] == ["overlap"]


def test_a_grid_inside_another_is_an_overlap_too():
    inner = {"code": G3, "community_code": COMMUNITY, "geometry": box(50, 50, 60, 60)}
    overlap = only(check_coverage(communities(), grids(WEST, EAST, inner)),
                   "overlap")
    assert overlap.codes == (G1, G3)
    assert overlap.area_m2 == pytest.approx(100, rel=0.01)


def test_it_finds_a_grid_reaching_outside_its_community():
    outside = only(check_coverage(communities(), grids(g2=box(200, 0, 430, 200))), "outside")
    assert outside.codes == (G2,)
    assert outside.area_m2 == pytest.approx(6000, rel=0.01)


def test_a_grid_of_an_unknown_community_is_entirely_outside():
    stray = {"code": f"{OTHER}001", "community_code": OTHER, "geometry": box(500, 0, 600, 100)}
    outside = only(check_coverage(communities(), grids(WEST, EAST, stray)),
                   "outside")
    assert outside.community_code == OTHER
    assert outside.area_m2 == pytest.approx(10_000, rel=0.01)


def test_a_community_without_grids_is_one_gap():
    empty = {"code": OTHER, "geometry": box(0, 300, 100, 400)}
    gap = only(check_coverage(communities(empty), grids()), "gap")
    assert (gap.community_code, gap.codes) == (OTHER, ())
    assert gap.area_m2 == pytest.approx(10_000, rel=0.01)


def test_it_finds_a_building_split_between_grids_with_the_shares():
    straddling = box(190, 50, 220, 70)  # 10 m × 20 m in G1, 20 m × 20 m in G2
    report = check_coverage(communities(), grids(), buildings(("B1", G1, straddling)))
    split = only(report, "split_building")
    assert split.codes == ("B1", G2, G1)  # the building, then its grids by decreasing share
    assert split.area_m2 == pytest.approx(600, rel=0.01)
    assert "66.7%" in split.detail
    assert "33.3%" in split.detail


def test_a_building_touching_a_neighbour_below_the_tolerance_is_not_split():
    barely = box(199.99, 50, 220, 70)  # 0.2 m² in G1
    assert check_coverage(communities(), grids(), buildings(("B1", G2, barely))).ok


@pytest.mark.parametrize(("g1", "g2"), [
    (box(0, 0, 200.001, 200), box(200, 0, 400, 200)),   # 0.2 m² overlap
    (box(0, 0, 200, 200), box(200.002, 0, 400, 200)),   # 0.4 m² gap
])
def test_slivers_below_the_tolerance_are_ignored(g1, g2):
    assert check_coverage(communities(), grids(g1, g2)).ok


def test_floating_point_noise_on_a_shared_edge_is_ignored():
    # G1's east edge has a vertex G2's west edge lacks, a hair off the line: slivers of ~1e-4 m².
    g1 = shapely.Polygon([(0, 0), (200, 0), (200.000001, 100), (200, 200), (0, 200)])
    report = check_coverage(communities(), grids(g1=g1))
    assert report.ok, report.lines()


def test_a_thin_gap_sliver_above_the_tolerance_is_reported():
    gap = only(check_coverage(communities(), grids(g2=box(200.02, 0, 400, 200))), "gap")
    assert gap.area_m2 == pytest.approx(4, rel=0.02)
    assert gap.codes == (G1, G2)


def test_the_tolerance_is_a_parameter():
    notched = box(200, 0, 400, 200).difference(box(200, 90, 250, 110))
    assert check_coverage(communities(), grids(g2=notched), tolerance_m2=1500).ok


def test_it_flags_an_invalid_grid_and_still_checks_the_rest():
    bowtie = shapely.Polygon([(200, 0), (400, 200), (400, 0), (200, 200)])
    report = check_coverage(communities(), grids(g2=bowtie))
    invalid = only(report, "invalid")
    assert invalid.codes == (G2,)
    assert "Self-intersection[123.0" in invalid.detail  # located in the user's coordinates
    gaps = [p.area_m2 for p in report.problems if p.kind == "gap"]
    assert gaps == pytest.approx([10_000, 10_000], rel=0.01)  # what the bowtie's two triangles leave


def test_lines_are_sorted_by_community_then_kind_and_name_codes_and_square_metres():
    other = {"code": OTHER, "geometry": box(0, 300, 100, 400)}
    report = check_coverage(communities(other), grids(g1=box(0, 0, 210, 200), g2=box(200, 0, 430, 200)))
    lines = report.lines()
    assert len(lines) == 3
    assert lines[0].startswith(f"社区 {COMMUNITY} · 重叠")
    assert lines[1].startswith(f"社区 {COMMUNITY} · 越界")
    assert lines[2].startswith(f"社区 {OTHER} · 缺口")
    assert all("m²" in line for line in lines)
    assert G2 in lines[1]
    assert "3 problems" in report.summary()


def test_the_report_converts_to_a_geodataframe_in_wgs84():
    problems = check_coverage(communities(), grids(g1=box(0, 0, 210, 200))).to_geodataframe()
    assert problems.crs.to_epsg() == 4326
    assert list(problems["kind"]) == ["overlap"]
    assert problems.iloc[0]["codes"] == f"{G1},{G2}"


def test_an_empty_territory_is_ok():
    empty = gpd.GeoDataFrame({"code": [], "community_code": []}, geometry=[], crs=4326)
    report = check_coverage(empty, empty, empty)
    assert report.ok
    assert report.grids_checked == 0


# Cut positions in decimetres: a strip thinner than floating point would be degenerate, i.e. invalid.
cuts = st.lists(st.integers(min_value=1, max_value=3999).map(lambda dm: dm / 10), min_size=1, max_size=6,
                unique=True)


@settings(max_examples=30, deadline=None)
@given(xs=cuts, drop=st.integers(min_value=0))
def test_any_strip_tiling_is_clean_and_losing_a_strip_leaves_a_gap_of_its_size(xs, drop):
    edges = [0, *sorted(xs), 400]
    strips = [box(a, 0, b, 200) for a, b in itertools.pairwise(edges)]
    rows = [{"code": f"{COMMUNITY}{i + 1:03d}", "community_code": COMMUNITY, "geometry": g}
            for i, g in enumerate(strips)]
    assert check_coverage(communities(), frame(rows)).ok
    lost = drop % len(rows)
    report = check_coverage(communities(), frame(rows[:lost] + rows[lost + 1:]))
    assert sum(p.area_m2 for p in report.problems if p.kind == "gap") == pytest.approx(
        strips[lost].area, rel=0.01, abs=1.0)  # a strip below the tolerance leaves no gap


# --- tilings digitised in WGS84, shared edges divided by different vertices --------------------------
# A community ~840 m × 780 m with a slanted roof, cut into four grids along lon 123.005 and lat 41.103.
# Its south edge is digitised corner to corner, the grids put a vertex on it: projected vertex by
# vertex, the straight lon/lat edge becomes a chord and the grids' corner pokes 3.3 m² outside it.

ROOF = [(123.0, 41.1), (123.01, 41.1), (123.01, 41.106), (123.005, 41.107), (123.0, 41.106)]
G4 = f"{COMMUNITY}004"
TILES = {
    G1: [(123.0, 41.1), (123.005, 41.1), (123.005, 41.103), (123.0, 41.103)],
    G2: [(123.005, 41.1), (123.01, 41.1), (123.01, 41.103), (123.005, 41.103)],
    G3: [(123.0, 41.103), (123.005, 41.103), (123.005, 41.107), (123.0, 41.106)],
    G4: [(123.005, 41.103), (123.01, 41.103), (123.01, 41.106), (123.005, 41.107)],
}
# Into how many parts each edge is cut, edge by edge: neighbours differ on every shared edge.
ROOF_PARTS = (1, 2, 3, 1, 1)
TILE_PARTS = {G1: (2, 1, 3, 1), G2: (3, 2, 2, 1), G3: (1, 2, 2, 2), G4: (2, 1, 4, 2)}


def divided(corners: list[tuple[float, float]], parts: tuple[int, ...]) -> shapely.Polygon:
    """The polygon with its edges cut into `parts` by vertices on them, interpolated in degrees."""
    ring = corners + corners[:1]
    return shapely.Polygon([
        (x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n)
        for ((x0, y0), (x1, y1)), n in zip(itertools.pairwise(ring), parts, strict=True) for k in range(n)
    ])


def wgs84_tiling(drop: str = "") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    community = gpd.GeoDataFrame({"code": [COMMUNITY]}, geometry=[divided(ROOF, ROOF_PARTS)], crs=4326)
    rows = [{"code": code, "community_code": COMMUNITY, "geometry": divided(corners, TILE_PARTS[code])}
            for code, corners in TILES.items() if code != drop]
    return community, gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def as_geojson_stores_it(frame_: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """The frame written to GeoJSON as interchange files are (7 decimals, ~1 cm) and read back."""
    frame_.to_file(path, driver="GeoJSON", RFC7946="YES", COORDINATE_PRECISION=7)
    return gpd.read_file(path)


# Even at 0.01 m²: measuring pieces projected vertex by vertex, a hair along the slanted roof (two
# sides on one lon/lat line, split at different vertices) would measure 0.7 m².
@pytest.mark.parametrize("tolerance_m2", [1.0, 0.01])
def test_a_tiling_with_shared_edges_divided_differently_is_clean(tolerance_m2):
    report = check_coverage(*wgs84_tiling(), tolerance_m2=tolerance_m2)
    assert report.ok, report.lines()


def test_it_stays_clean_with_coordinates_rounded_as_geojson_stores_them(tmp_path):
    community, tiles = wgs84_tiling()
    community = as_geojson_stores_it(community, tmp_path / "communities.geojson")
    tiles = as_geojson_stores_it(tiles, tmp_path / "grids.geojson")
    assert tuple(shapely.get_coordinates(community.geometry)[4]) == (123.0083333, 41.1063333)  # a third
    # of the roof, rounded off its line by millimetres: slivers of up to 0.5 m², below the tolerance
    report = check_coverage(community, tiles)
    assert report.ok, report.lines()


def test_a_missing_grid_of_such_a_tiling_is_a_gap_of_its_area_on_the_ellipsoid():
    gap = only(check_coverage(*wgs84_tiling(drop=G3)), "gap")
    assert gap.codes == (G1, G2, G4)
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(divided(TILES[G3], (50,) * 4))
    assert gap.area_m2 == pytest.approx(abs(area), rel=1e-4)
    assert shapely.hausdorff_distance(gap.geometry, shapely.Polygon(TILES[G3])) < 1e-12  # in WGS84, as drawn


@pytest.mark.skipif(not LEAFLET.exists(), reason="Leaflet is installed by npm (make run)")
def test_the_problem_map_is_self_contained_and_shows_names_as_text(tmp_path):
    g = grids(g1=box(0, 0, 210, 200))
    g["name"] = ["<img src=x onerror=alert(1)>", "{{ 7*7 }}{% if true %}yes{% endif %}"]
    report = check_coverage(communities(), g)
    page = write_coverage_map(report, communities(), g, tmp_path / "map.html", leaflet_dir=LEAFLET).read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "L.tileLayer" not in page
    assert "url(images/" not in page  # Leaflet's control images inlined as data: URIs
    assert G1 in page
    assert G2 in page
    assert "onerror" in page  # the names are there …
    assert "7*7" in page  # … as text, not evaluated by branca's Jinja pass
    assert "% if true %" in page
