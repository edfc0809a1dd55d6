"""Reading, checking, reprojecting and repairing interchange layers, without a database."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from geodata import crs as crs_mod
from geodata.assign import grid_by_overlap
from geodata.interchange import SourceError, discover, layer_named_by, read_layer
from geodata.layers import LAYER_BY_NAME
from geodata.links import assignments, check_references
from geodata.prepare import prepare
from geodata.problems import ImportRejected
from geodata.repair import as_multipolygons, repair_polygons
from geodata.validation import clean_attributes

TO_4550 = Transformer.from_crs(4326, 4550, always_xy=True)
BOWTIE = shapely.Polygon([(123.0, 41.0), (123.01, 41.01), (123.01, 41.0), (123.0, 41.01)])


class NoDatabase:
    """A Lookup for an empty database."""

    def existing(self, layer, keys):
        return set()

    def grids_in_bbox(self, bounds, exclude):
        return np.array([], dtype=object), np.array([], dtype=object)


class EverythingKnown(NoDatabase):
    """A Lookup for a database that holds every parent a file names."""

    def existing(self, layer, keys):
        return set(keys)


def write_geojson(path: Path, features: list[tuple[dict, shapely.Geometry | None]], crs: str | None = None) -> Path:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": None if geom is None else shapely.geometry.mapping(geom)}
        for props, geom in features]}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


# --- finding layers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("stem", "layer"), [("grids", "grids"), ("anshan_districts", "districts"),
                                             ("Tiedong-Buildings", "buildings"), ("gridsx", None),
                                             ("districts_2024", None)])
def test_a_file_is_named_for_its_layer_exactly_or_after_a_separator(stem, layer):
    assert layer_named_by(stem) == layer


def test_a_folder_lists_its_layers_in_dependency_order_and_notes_the_rest(tmp_path):
    for name in ("grids.geojson", "districts.geojson", "workers.csv", "readme.geojson"):
        (tmp_path / name).write_text("")
    sources, notes = discover(tmp_path)
    assert [s.name for s in sources] == ["districts", "grids", "workers"]
    assert notes == ["ignored files that name no layer: readme.geojson"]


def test_two_files_for_one_layer_are_refused(tmp_path):
    (tmp_path / "grids.geojson").write_text("")
    (tmp_path / "grids.shp").write_text("")
    with pytest.raises(SourceError, match="several files for one layer"):
        discover(tmp_path)


def test_a_folder_without_layers_and_an_unnamed_file_are_refused(tmp_path):
    with pytest.raises(SourceError, match="no interchange layers found"):
        discover(tmp_path)
    (tmp_path / "boundaries.geojson").write_text("")
    with pytest.raises(SourceError, match="pass --layer"):
        discover(tmp_path / "boundaries.geojson")
    assert discover(tmp_path / "boundaries.geojson", "districts")[0][0].name == "districts"


def test_the_real_anshan_file_reads_with_adcode_as_code():
    raw = read_layer(discover(Path("/work/shared/data/anshan_districts.geojson"))[0][0])
    assert list(raw.frame.columns) == ["code", "name"]
    assert raw.crs == "EPSG:4326"
    assert len(raw.geoms) == 7


def test_shapefile_truncated_and_upper_case_names_are_recognised(tmp_path):
    frame = gpd.GeoDataFrame({"CODE": ["210302001001001"], "NAME": ["一"], "community_": ["210302001001"]},
                             geometry=[shapely.box(123, 41, 123.01, 41.01)], crs="EPSG:4326")
    frame.to_file(tmp_path / "grids.shp", engine="pyogrio")
    raw = read_layer(discover(tmp_path)[0][0])
    assert {"code", "name", "community_code"} <= set(raw.frame.columns)


def test_a_broken_file_becomes_a_layer_problem(tmp_path):
    (tmp_path / "streets.geojson").write_text("{not json")
    raw = read_layer(discover(tmp_path)[0][0])
    assert "streets.geojson is not a readable GeoJSON file" in str(raw.problems[0])


# --- CRS ------------------------------------------------------------------------------------------


def test_geojson_without_a_crs_is_wgs84_and_cgcs2000_counts_as_wgs84():
    assert crs_mod.resolve_crs(None) == crs_mod.WGS84
    assert crs_mod.is_wgs84_equivalent(crs_mod.parse_crs("EPSG:4490"))
    assert crs_mod.is_wgs84_equivalent(CRS.from_user_input("OGC:CRS84"))
    assert crs_mod.resolve_crs("EPSG:4326", "4550").to_epsg() == 4550


def test_an_unknown_crs_is_a_clear_problem():
    with pytest.raises(crs_mod.CRSProblem, match="unknown CRS 'EPSG:99999'"):
        crs_mod.parse_crs("EPSG:99999")


@pytest.mark.parametrize("epsg", [4550, 4491, 4513, 4534, 4554])
def test_every_kind_of_gauss_kruger_zone_projects_back_to_its_area(epsg):
    crs = CRS.from_epsg(epsg)
    area = crs.area_of_use
    lon, lat = (area.west + area.east) / 2, (area.south + area.north) / 2
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    geoms = np.array([shapely.Point(x, y).buffer(10)])
    assert crs_mod.implausible_features(geoms, crs) == []
    back = crs_mod.to_wgs84(geoms, crs)[0].centroid
    assert abs(back.x - lon) < 1e-7
    assert abs(back.y - lat) < 1e-7


def test_implausible_coordinates_are_named_by_feature():
    metres = np.array([shapely.box(123, 41, 124, 42), shapely.box(500000, 4550000, 500100, 4550100)])
    found = crs_mod.implausible_features(metres, crs_mod.WGS84)
    assert [f.index for f in found] == [1]
    assert "not degrees" in found[0].reason
    degrees_as_zone = crs_mod.implausible_features(np.array([shapely.box(123, 41, 123.1, 41.1)]), CRS.from_epsg(4550))
    assert "lands at lon" in degrees_as_zone[0].reason
    # A zone-prefixed easting (zone 41) declared in the CRS without the prefix lands nowhere near.
    prefixed = np.array([shapely.box(41_500_000, 4_550_000, 41_500_100, 4_550_100)])
    assert crs_mod.implausible_features(prefixed, CRS.from_epsg(4550))


@settings(max_examples=50, deadline=None)
@given(st.floats(122.0, 124.0), st.floats(40.0, 42.0))
def test_a_4550_round_trip_stays_within_a_millimetre(lon, lat):
    x, y = TO_4550.transform(lon, lat)
    back = crs_mod.to_wgs84(np.array([shapely.Point(x, y)]), CRS.from_epsg(4550))[0]
    assert abs(back.x - lon) < 1e-8
    assert abs(back.y - lat) < 1e-8


# --- repair ---------------------------------------------------------------------------------------


def test_invalid_polygons_are_repaired_and_reported_with_the_reason_and_area():
    geoms = np.array([shapely.box(123, 41, 123.01, 41.01), BOWTIE], dtype=object)
    fixed, repairs, failed = repair_polygons("grids", geoms, np.array(["A", "B"]), np.array(["甲", "乙"]))
    assert failed == []
    assert all(g.geom_type == "MultiPolygon" and g.is_valid for g in fixed)
    (repair,) = repairs
    assert (repair.index, repair.code, repair.name) == (1, "B", "乙")
    assert repair.reason.startswith("Self-intersection")
    assert repair.area_before_m2 == 0  # the bow-tie's signed lobes cancel out
    assert 460_000 < repair.area_after_m2 < 475_000  # two triangles: half the 0.01° square
    assert "grids #1 B 乙: Self-intersection" in str(repair)


def test_a_polygon_that_collapses_cannot_be_repaired():
    flat = shapely.Polygon([(123, 41), (123.01, 41), (123.02, 41), (123, 41)])
    _, repairs, failed = repair_polygons("grids", np.array([flat]), np.array(["A"]), np.array([""]))
    assert failed == [0]
    assert repairs == []


def test_only_the_polygonal_part_is_kept_as_a_multipolygon():
    mixed = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(2, 2), (3, 3)]),
                                        shapely.MultiPolygon([shapely.box(5, 5, 6, 6)])])
    (result,) = as_multipolygons(np.array([mixed]))
    assert result.geom_type == "MultiPolygon"
    assert len(result.geoms) == 2


# --- attribute checks -----------------------------------------------------------------------------


def test_codes_are_checked_and_parents_filled_in():
    frame = pd.DataFrame({"code": [210302001.0, "21030200", "210302002", "210302001"],
                          "name": ["站前", "短", "长", "重复"], "district_code": ["", "", "210303", ""]})
    clean, problems = clean_attributes(LAYER_BY_NAME["streets"], frame)
    assert clean["district_code"].tolist()[0] == "210302"
    reasons = [str(p) for p in problems]
    assert "streets feature #1 (21030200): street code must be 9 digits, got 8 (21030200)" in reasons
    assert any("feature #2 (210302002): street code 210302002 is not under its parent district 210303" in r
               for r in reasons)
    assert "streets feature #3 (210302001): duplicate code 210302001 (first at feature #0)" in reasons


def test_counts_must_be_whole_numbers():
    frame = pd.DataFrame({"code": ["B1", "B2", "B3"], "address": ["a", "b", "c"], "households": ["3", "-1", "x"]})
    clean, problems = clean_attributes(LAYER_BY_NAME["buildings"], frame)
    assert clean["households"].tolist() == [3, 0, 0]
    assert [p.index for p in problems] == [1, 2]


def test_a_missing_required_column_stops_the_layer_with_a_clear_message():
    clean, problems = clean_attributes(LAYER_BY_NAME["grids"], pd.DataFrame({"code": ["210302001001001"]}))
    assert clean is None
    assert str(problems[0]) == "grids: missing required field name (the file has: code)"


def test_a_layer_of_points_is_one_clear_problem(tmp_path):
    write_geojson(tmp_path / "grids.geojson", [({"code": f"21030200100100{i}", "name": "x"}, shapely.Point(123, 41))
                                               for i in range(1, 4)])
    with pytest.raises(ImportRejected) as rejected:
        prepare(tmp_path, lookup=EverythingKnown())
    assert rejected.value.problems[0].reason == "the layer holds Point geometries, expected Polygon or MultiPolygon"
    assert len(rejected.value.problems) == 1


def test_z_coordinates_are_dropped_and_an_empty_file_is_no_layer(tmp_path):
    cube = shapely.Polygon([(123, 41, 5), (123.01, 41, 5), (123.01, 41.01, 5), (123, 41, 5)])
    write_geojson(tmp_path / "districts.geojson", [({"code": "210302", "name": "铁东区"}, cube)])
    write_geojson(tmp_path / "streets.geojson", [])
    prepared = prepare(tmp_path, lookup=NoDatabase())
    assert list(prepared.layers) == ["districts"]
    assert not prepared.layers["districts"].geoms[0].has_z


# --- links and placement --------------------------------------------------------------------------


def test_unknown_references_are_named_unless_the_database_has_them():
    frames = {"grids": pd.DataFrame({"code": ["210302001001001"], "community_code": ["210302001001"],
                                     "worker_id": [""]})}

    assert check_references(frames, EverythingKnown()) == []
    (problem,) = check_references(frames, NoDatabase())
    assert "unknown community 210302001001 (community_code)" in str(problem)


def test_grids_worker_id_makes_the_primary_and_the_others_deputies():
    frames = {"grids": pd.DataFrame({"code": ["G1", "G2"], "worker_id": ["W1", ""]}),
              "workers": pd.DataFrame({"id": ["W1", "W2", "W2"], "grid_code": ["G1", "G1", "G2"],
                                       "role": ["", "", ""]})}
    table, problems = assignments(frames)
    assert problems == []
    assert set(map(tuple, table.to_numpy())) == {("W1", "G1", "primary"), ("W2", "G1", "deputy"),
                                                  ("W2", "G2", "primary")}


def test_buildings_go_to_the_grid_they_overlap_most():
    grids = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    buildings = np.array([shapely.box(0.8, 0.4, 1.1, 0.5), shapely.box(0.95, 0.4, 1.5, 0.5),
                          shapely.box(3, 3, 4, 4)])
    assert grid_by_overlap(buildings, np.array(["A", "B"], dtype=object), grids).tolist() == ["A", "B", ""]


# --- the whole preparation ------------------------------------------------------------------------


def test_prepare_collects_the_problems_of_every_layer(tmp_path):
    write_geojson(tmp_path / "districts.geojson", [({"code": "210302", "name": "铁东区"}, None)])
    write_geojson(tmp_path / "streets.geojson", [({"code": "210302001"}, shapely.box(123, 41, 123.1, 41.1))])
    with pytest.raises(ImportRejected) as rejected:
        prepare(tmp_path, lookup=NoDatabase())
    text = rejected.value.report()
    assert "districts feature #0 (210302): geometry is missing, empty or unreadable" in text
    assert "streets: missing required field name" in text


def test_prepare_reprojects_a_declared_crs_and_repairs(tmp_path):
    to_4550 = Transformer.from_crs(4326, 4550, always_xy=True)
    bowtie = shapely.transform(BOWTIE, lambda xy: np.column_stack(to_4550.transform(xy[:, 0], xy[:, 1])))
    write_geojson(tmp_path / "districts.geojson", [({"code": "210302", "name": "铁东区"}, bowtie)],
                  crs="urn:ogc:def:crs:EPSG::4550")
    prepared = prepare(tmp_path, lookup=NoDatabase())
    layer = prepared.layers["districts"]
    assert layer.crs.startswith("EPSG:4550")
    assert abs(layer.geoms[0].bounds[0] - 123.0) < 1e-7
    assert [r.code for r in prepared.repairs] == ["210302"]
