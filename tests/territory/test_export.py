"""export_territory: every layer out, and back in unchanged."""

from __future__ import annotations

from io import StringIO

import pandas as pd
import pytest
import shapely
from django.core.management import call_command
from django.utils import timezone

from geodata.interchange import discover, read_layer
from gridgis.territory.models import Building, Community, District, Grid, Street
from gridgis.workforce.models import Department, GridAssignment, GridWorker

from .conftest import run_import, write_folder

pytestmark = pytest.mark.django_db
TOLERANCE_DEG = 1e-7  # ~1 cm: GeoJSON (RFC 7946) is written to 7 decimals


def export(path) -> str:
    out = StringIO()
    call_command("export_territory", str(path), stdout=out)
    return out.getvalue()


def territory_state() -> dict[str, dict]:
    """Codes → (attributes…, geometry) of every layer, plus workers and departments."""
    def divisions(model, *fields):
        return {row[0]: row[1:] for row in model.objects.values_list("code", *fields, "geom")}

    return {
        "districts": divisions(District, "name"),
        "streets": divisions(Street, "name", "district__code"),
        "communities": divisions(Community, "name", "street__code"),
        "grids": divisions(Grid, "name", "community__code", "households", "population"),
        "buildings": divisions(Building, "address", "grid__code", "road", "house_number", "building_number",
                               "households", "population", "name"),
        "workers": set(GridWorker.objects.values_list("worker_id", "name", "phone")),
        "assignments": set(GridAssignment.objects.values_list("worker__worker_id", "grid__code", "role")),
        "departments": set(Department.objects.values_list("code", "name", "district__code", "phone")),
    }


def assert_same_territory(before: dict, after: dict) -> None:
    for layer in ("districts", "streets", "communities", "grids", "buildings"):
        assert before[layer].keys() == after[layer].keys(), layer
        for code, row in before[layer].items():
            assert row[:-1] == after[layer][code][:-1], (layer, code)
            old, new = shapely.from_wkb(bytes(row[-1].wkb)), shapely.from_wkb(bytes(after[layer][code][-1].wkb))
            assert shapely.hausdorff_distance(old, new) < TOLERANCE_DEG, (layer, code)
    for table in ("workers", "assignments", "departments"):
        assert before[table] == after[table], table


def wipe() -> None:
    for model in (GridAssignment, GridWorker, Department, Building, Grid, Community, Street, District):
        model.objects.all().delete()


@pytest.mark.parametrize("target", ["city.gpkg", "city"], ids=["geopackage", "geojson-folder"])
def test_export_then_import_gives_back_the_same_territory(tmp_path, territory, target):
    territory["grids"]["population"] = range(8)  # beyond the interchange table, kept by both commands
    run_import(write_folder(territory, tmp_path / "source"))
    before = territory_state()
    out = export(tmp_path / target)
    assert "buildings    9" in out
    assert "workers      4" in out
    wipe()
    run_import(tmp_path / target)
    assert_same_territory(before, territory_state())


def test_re_importing_an_export_changes_nothing(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "source"))
    export(tmp_path / "city.gpkg")
    assert "nothing changed" in run_import(tmp_path / "city.gpkg")


def test_the_folder_holds_one_geojson_per_layer_and_csv_tables(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "source"))
    export(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["buildings.geojson", "communities.geojson", "departments.csv", "districts.geojson",
                     "grids.geojson", "streets.geojson", "workers.csv"]
    workers = pd.read_csv(tmp_path / "out" / "workers.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(workers.columns) == ["id", "name", "phone", "grid_code", "role"]
    assert ("W002", "210302001001001", "deputy") in set(zip(workers.id, workers.grid_code, workers.role, strict=True))


def test_the_geopackage_holds_every_layer_in_wgs84(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "source"))
    export(tmp_path / "city.gpkg")
    sources, _ = discover(tmp_path / "city.gpkg")
    assert [s.name for s in sources] == ["districts", "streets", "communities", "grids", "buildings", "workers",
                                        "departments"]
    grids = read_layer(sources[3])
    assert "EPSG:4326" in grids.crs
    assert grids.frame.loc[grids.frame.code == "210302001001001", "worker_id"].item() == "W001"


def test_an_empty_database_exports_nothing(tmp_path):
    assert "(nothing)" in export(tmp_path / "empty")


def test_a_retired_grid_and_its_assignments_stay_out_of_the_export(tmp_path, territory):
    run_import(write_folder(territory, tmp_path / "source"))
    retired = Grid.objects.get(code="210302001001001")
    Grid.all_objects.filter(pk=retired.pk).update(retired_at=timezone.now())
    export(tmp_path / "out")
    grids = read_layer(discover(tmp_path / "out")[0][3])
    assert retired.code not in set(grids.frame.code)
    workers = pd.read_csv(tmp_path / "out" / "workers.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert retired.code not in set(workers.grid_code)
    assert {"W001", "W002"} <= set(workers.id)  # its workers are still exported, without that grid
