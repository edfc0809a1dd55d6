"""import_territory against real PostGIS: formats, CRSs, repairs, upserts, dry runs, and bad input that
must be rejected with a clear error and leave the database as it was."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from django.core.management.base import CommandError
from pyproj import Geod, Transformer

from gridgis.territory import importing
from gridgis.territory.models import Building, Community, District, Grid, Street
from gridgis.workforce.models import Department, GridAssignment, GridWorker

from .conftest import LAT0, LON0, build_territory, run_import, write_folder, write_shapefiles

pytestmark = pytest.mark.django_db
ANSHAN = Path(__file__).resolve().parents[2] / "fixtures" / "anshan_districts.geojson"
if not ANSHAN.exists():
    ANSHAN = Path("/work/shared/data/anshan_districts.geojson")
GEOD = Geod(ellps="WGS84")


def snapshot() -> dict[str, list]:
    """Everything the importer may touch, to prove that a rejected import changed nothing."""
    return {
        "districts": list(District.objects.values_list("code", "name", "updated_at")),
        "streets": list(Street.objects.values_list("code", "district__code", "updated_at")),
        "communities": list(Community.objects.values_list("code", "updated_at")),
        "grids": list(Grid.objects.values_list("code", "households", "updated_at")),
        "buildings": list(Building.objects.values_list("code", "grid__code", "updated_at")),
        "workers": list(GridWorker.objects.values_list("worker_id", "name")),
        "assignments": list(GridAssignment.objects.values_list("worker__worker_id", "grid__code", "role")),
        "departments": list(Department.objects.values_list("code", "name")),
    }


# --- formats ---------------------------------------------------------------------------------------


def test_it_imports_a_geojson_folder_with_every_layer(tmp_path, territory):
    out = run_import(write_folder(territory, tmp_path / "city"))
    assert District.objects.get().name == "铁东区"
    assert Street.objects.get().district.code == "210302"
    assert Community.objects.count() == 2
    assert Grid.objects.get(code="210302001001001").community.code == "210302001001"
    assert Grid.objects.get(code="210302001001004").households == 400
    building = Building.objects.get(code="B0001")
    assert (building.grid.code, building.road, building.households) == ("210302001001001", "建国路", 21)
    assert "buildings    9 created, 0 updated, 0 unchanged" in out


def test_it_imports_a_geopackage(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "city.gpkg"))
    assert Grid.objects.count() == 8
    assert GridWorker.objects.count() == 3
    assert Department.objects.get().district.code == "210302"


def test_it_imports_shapefiles_with_truncated_field_names(tmp_path, territory):
    run_import(write_shapefiles(territory, tmp_path / "shp"))
    grid = Grid.objects.get(code="210302001002003")
    assert grid.community.code == "210302001002"
    assert Building.objects.get(code="B0003").building_number == "1号楼"


def test_any_layer_may_be_absent(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "all"))
    grids_only = {"grids": territory["grids"]}
    grids_only["grids"].loc[0, "name"] = "新名字"
    out = run_import(write_folder(grids_only, tmp_path / "grids"))
    assert Grid.objects.get(code="210302001001001").name == "新名字"
    assert "grids        0 created, 1 updated, 7 unchanged" in out


def test_parent_codes_may_be_omitted_when_the_code_names_the_parent(tmp_path, territory):
    for layer, column in (("streets", "district_code"), ("communities", "street_code"),
                          ("grids", "community_code")):
        territory[layer] = territory[layer].drop(columns=column)
    run_import(write_folder(territory, tmp_path / "city"))
    assert Grid.objects.get(code="210302001002004").community.code == "210302001002"


def test_a_single_layer_file_is_named_for_its_layer(tmp_path, territory):
    write_folder({"districts": territory["districts"]}, tmp_path)
    named = tmp_path / "tiedong-districts.geojson"
    shutil.move(tmp_path / "districts.geojson", named)
    run_import(named)
    assert District.objects.filter(code="210302").exists()


# --- the real Anshan file, CRSs ---------------------------------------------------------------------


@pytest.mark.parametrize("as_folder", [True, False], ids=["folder", "file"])
def test_the_real_anshan_file_repairs_its_invalid_polygons_and_says_which(tmp_path, as_folder):
    path = ANSHAN
    if as_folder:
        (tmp_path / "anshan").mkdir()
        path = Path(shutil.copy(ANSHAN, tmp_path / "anshan" / "districts.geojson")).parent
    out = run_import(path)
    assert "Geometries repaired: 4" in out
    for code, name in (("210304", "立山区"), ("210311", "千山区"), ("210303", "铁西区"), ("210381", "海城市")):
        assert f"{code} {name}: " in out
    assert "Self-intersection" in out
    assert District.objects.count() == 7
    assert all(d.geom.valid for d in District.objects.all())
    assert District.objects.get(code="210302").name == "铁东区"


def _polygon_in_4550(lon: float, lat: float) -> tuple[shapely.Geometry, tuple[float, float]]:
    """A ~100 m square whose south-west corner is (lon, lat), built in WGS84, returned in EPSG:4550."""
    to_4550 = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    x, y = to_4550.transform(lon, lat)
    return shapely.MultiPolygon([shapely.box(x, y, x + 100, y + 100)]), (x, y)


def test_a_geopackage_in_epsg_4550_imports_to_the_right_place(tmp_path):
    known = (122.995, 41.115)  # a point in Tiedong
    square, _ = _polygon_in_4550(*known)
    districts = gpd.GeoDataFrame({"code": ["210302"], "name": ["铁东区"]}, geometry=[square], crs="EPSG:4550")
    path = write_folder({"districts": districts}, tmp_path / "survey.gpkg")
    out = run_import(path)
    assert "EPSG:4550" in out
    stored = District.objects.get(code="210302").geom
    sw = min(stored.coords[0][0], key=lambda xy: (xy[0] + xy[1]))  # the south-west vertex
    assert GEOD.inv(known[0], known[1], sw[0], sw[1])[2] < 1.0
    # the square's far corner is 100 m east and north, to the centimetre of the projection's scale
    assert 140 < GEOD.inv(known[0], known[1], *max(stored.coords[0][0], key=lambda xy: xy[0] + xy[1]))[2] < 142


def test_cgcs2000_geographic_is_stored_as_is(tmp_path, territory):
    districts = territory["districts"].set_crs("EPSG:4490", allow_override=True)
    run_import(write_folder({"districts": districts}, tmp_path / "cgcs.gpkg"))
    stored = District.objects.get().geom
    assert shapely.from_wkt(stored.wkt).equals_exact(territory["districts"].geometry[0], 1e-12)


def test_the_crs_option_overrides_what_the_file_says(tmp_path):
    square, _ = _polygon_in_4550(122.995, 41.115)
    # A GeoJSON that says nothing about its CRS: WGS84 would be assumed, and the metres rejected.
    feature = {"type": "Feature", "properties": {"code": "210302", "name": "铁东区"},
               "geometry": shapely.geometry.mapping(square)}
    path = tmp_path / "city"
    path.mkdir()
    (path / "districts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(CommandError, match="not degrees"):
        run_import(path)
    run_import(path, "--crs", "EPSG:4550")
    lon, lat = District.objects.get().geom.centroid.coords
    assert abs(lon - 122.9956) < 0.001
    assert abs(lat - 41.1155) < 0.001


# --- upserts, dry runs, placement, workers ----------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(tmp_path, territory):
    path = write_folder(territory, tmp_path / "city.gpkg")
    run_import(path)
    before = snapshot()
    out = run_import(path)
    assert snapshot() == before
    assert "nothing changed" in out
    for layer, n in (("districts", 1), ("grids", 8), ("buildings", 9), ("workers", 3), ("assignments", 3)):
        assert f"{layer:<12} 0 created, 0 updated, {n} unchanged" in out


def test_a_changed_feature_is_updated_and_only_it(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "v1"))
    territory["buildings"].loc[2, "households"] = 99
    territory["buildings"].loc[3, "geometry"] = shapely.affinity.translate(
        territory["buildings"].geometry[3], 0.0001)
    out = run_import(write_folder(territory, tmp_path / "v2"))
    assert "buildings    0 created, 2 updated, 7 unchanged" in out
    assert Building.objects.get(code="B0003").households == 99


def test_a_dry_run_writes_nothing_but_reports_what_it_would_do(tmp_path, territory):
    out = run_import(write_folder(territory, tmp_path / "city"), "--dry-run")
    assert "Dry run: nothing was written" in out
    assert "grids        8 created" in out
    assert not District.objects.exists()
    assert not Grid.objects.exists()
    assert not GridWorker.objects.exists()


def test_buildings_without_grid_code_go_to_the_grid_they_overlap_most(tmp_path, territory):
    territory["buildings"]["grid_code"] = ""
    out = run_import(write_folder(territory, tmp_path / "city"))
    assert Building.objects.get(code="B0100").grid.code == "210302001001002"  # 3/4 of it lies in 002
    assert Building.objects.get(code="B0005").grid.code == "210302001002001"
    assert "9 without grid_code placed in the grid they overlap most" in out


def test_buildings_find_grids_already_in_the_database(tmp_path, territory):
    territory["grids"]["worker_id"] = ""
    run_import(write_folder({k: territory[k] for k in ("districts", "streets", "communities", "grids")},
                            tmp_path / "grids"))
    buildings = territory["buildings"].assign(grid_code="")
    run_import(write_folder({"buildings": buildings}, tmp_path / "buildings"))
    assert Building.objects.get(code="B0100").grid.code == "210302001001002"


def test_workers_are_assigned_primary_and_deputy(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "city"))
    roles = set(GridAssignment.objects.values_list("worker__worker_id", "grid__code", "role"))
    assert roles == {("W001", "210302001001001", "primary"), ("W002", "210302001001001", "deputy"),
                     ("W002", "210302001001002", "primary")}
    assert GridWorker.objects.get(worker_id="W003").grids.count() == 0


def test_a_new_primary_named_by_the_grids_layer_replaces_the_old_one(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "v1"))
    grids = territory["grids"].copy()
    grids.loc[0, "worker_id"] = "W003"
    out = run_import(write_folder({"grids": grids}, tmp_path / "v2"))
    primary = GridAssignment.objects.get(grid__code="210302001001001", role="primary")
    assert primary.worker.worker_id == "W003"
    assert not GridAssignment.objects.filter(worker__worker_id="W001").exists()
    assert "1 replaced" in out


def test_primary_and_deputy_can_swap_in_one_import(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "v1"))
    territory["grids"].loc[0, "worker_id"] = "W002"
    territory["workers"].loc[0, "role"] = "deputy"
    territory["workers"].loc[1, "role"] = "primary"
    out = run_import(write_folder(territory, tmp_path / "v2"))
    roles = dict(GridAssignment.objects.filter(grid__code="210302001001001").values_list("worker__worker_id", "role"))
    assert roles == {"W001": "deputy", "W002": "primary"}
    assert "assignments  0 created, 2 updated, 1 unchanged" in out


def test_the_report_includes_the_coverage_check_of_affected_communities(tmp_path, territory):
    territory["grids"] = territory["grids"].drop(index=[3]).reset_index(drop=True)  # leaves a gap
    territory["workers"] = territory["workers"].iloc[:3]
    territory["buildings"] = territory["buildings"][territory["buildings"].grid_code != "210302001001004"]
    out = run_import(write_folder(territory, tmp_path / "city"))
    coverage = out.split("Coverage:")[1]
    gaps = [float(area.replace(",", "")) for area in re.findall(r"210302001001 · \S+ \(gap\) · ([\d,.]+) m²", coverage)]
    assert max(gaps) > 100_000  # the missing grid: 0.004° × 0.004° ≈ 150,000 m²


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, territory, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_upsert_assignments", fail)
    with pytest.raises(RuntimeError):
        run_import(write_folder(territory, tmp_path / "city"))
    assert not District.objects.exists()
    assert not Building.objects.exists()


# --- bad input: a clear error naming layer, feature and reason; nothing changes ------------------------


def _break(layers: dict[str, pd.DataFrame], case: str) -> None:
    grids, buildings = layers["grids"], layers["buildings"]
    if case == "missing field":
        layers["buildings"] = buildings.drop(columns="address")
    elif case == "empty required value":
        grids.loc[2, "name"] = ""
    elif case == "wrong code length":
        grids.loc[1, "code"] = "2103020010010002"
    elif case == "not under parent":
        grids.loc[1, "code"] = "210302001002009"
    elif case == "duplicate code":
        buildings.loc[4, "code"] = "B0002"
    elif case == "unknown parent":
        layers["communities"].loc[1, "street_code"] = "210302009"
        layers["communities"].loc[1, "code"] = "210302009002"
    elif case == "wrong geometry type":
        grids.loc[5, "geometry"] = shapely.Point(LON0, LAT0)
    elif case == "empty geometry":
        buildings.loc[6, "geometry"] = shapely.MultiPolygon()
    elif case == "worker at unknown grid":
        layers["workers"].loc[3, "grid_code"] = "210302001001009"
    elif case == "department in unknown district":
        layers["departments"].loc[0, "district_code"] = "210303"


BAD = {  # case → (layer, feature label, words of the reason)
    "missing field": ("buildings", "", "missing required field address"),
    "empty required value": ("grids", "feature #2 (210302001001003)", "missing required field name"),
    "wrong code length": ("grids", "feature #1 (2103020010010002)", "must be 15 digits"),
    "not under parent": ("grids", "feature #1 (210302001002009)", "is not under its parent community 210302001001"),
    "duplicate code": ("buildings", "feature #4 (B0002)", "duplicate code B0002 (first at feature #1)"),
    "unknown parent": ("communities", "feature #1 (210302009002)", "unknown street 210302009"),
    "wrong geometry type": ("grids", "feature #5 (210302001002002)", "Point, expected Polygon or MultiPolygon"),
    "empty geometry": ("buildings", "feature #6 (B0007)", "geometry is missing, empty or unreadable"),
    "worker at unknown grid": ("workers", "feature #3 (W003)", "unknown grid 210302001001009"),
    "department in unknown district": ("departments", "feature #0 (CG01)", "unknown district 210303"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_rejected_with_layer_feature_and_reason_and_changes_nothing(tmp_path, territory, case):
    run_import(write_folder(build_territory(), tmp_path / "good"))
    before = snapshot()
    _break(territory, case)
    with pytest.raises(CommandError) as error:
        run_import(write_folder(territory, tmp_path / "bad.gpkg"))
    layer, feature, reason = BAD[case]
    assert f"{layer} {feature}".strip() + ": " in str(error.value)
    assert reason in str(error.value)
    assert "nothing was written" in str(error.value)
    assert snapshot() == before


def test_a_file_that_is_not_a_geo_file_is_rejected(tmp_path):
    (tmp_path / "city").mkdir()
    (tmp_path / "city" / "grids.geojson").write_text("code,name\n1,2\n")
    with pytest.raises(CommandError, match=r"grids: grids.geojson is not a readable GeoJSON file"):
        run_import(tmp_path / "city")
    (tmp_path / "notes.gpkg").write_text("hello")
    with pytest.raises(CommandError, match="not a geo file"):
        run_import(tmp_path / "notes.gpkg")


def test_projected_coordinates_declared_as_degrees_are_rejected(tmp_path):
    square, _ = _polygon_in_4550(122.995, 41.115)
    districts = gpd.GeoDataFrame({"code": ["210302"], "name": ["铁东区"]}, geometry=[square], crs="EPSG:4490")
    with pytest.raises(CommandError) as error:
        run_import(write_folder({"districts": districts}, tmp_path / "wrong.gpkg"))
    assert "districts feature #0 (210302): coordinates (" in str(error.value)
    assert "are not degrees" in str(error.value)
    assert not District.objects.exists()


def test_degrees_declared_as_a_gauss_kruger_zone_are_rejected(tmp_path, territory):
    districts = territory["districts"].set_crs("EPSG:4550", allow_override=True)
    with pytest.raises(CommandError, match=r"districts feature #0 \(210302\): coordinates .* lands at lon"):
        run_import(write_folder({"districts": districts}, tmp_path / "wrong.gpkg"))


def test_all_problems_are_reported_together(tmp_path, territory):
    for case in ("duplicate code", "wrong geometry type", "worker at unknown grid"):
        _break(territory, case)
    with pytest.raises(CommandError) as error:
        run_import(write_folder(territory, tmp_path / "bad"))
    assert "3 problem(s)" in str(error.value)


def test_two_primaries_for_one_grid_are_rejected(tmp_path, territory):
    territory["workers"].loc[1, "role"] = "primary"
    with pytest.raises(CommandError, match="grid 210302001001001 has more than one primary worker"):
        run_import(write_folder(territory, tmp_path / "city"))
