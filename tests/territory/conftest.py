"""A tiny territory around a known point in Anshan's Tiedong district, built in code, and helpers that
write it as the interchange formats (GeoJSON folder, GeoPackage, Shapefiles) to tmp_path.

Layout (WGS84 degrees, cells of 0.004° ≈ 340 m × 450 m):
district 210302 ⊃ street 210302001 ⊃ communities 210302001001 (west) and 210302001002 (east), each
tiled by four grids 001–004 (west→east, north→south); one building in the middle of every grid, plus
one building straddling grids 001 and 002 of the west community, mostly in 002.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from django.core.management import call_command

from geodata.interchange_write import write_layers

LON0, LAT0 = 122.99, 41.11  # the south-west corner, in Tiedong
CELL = 0.004
DISTRICT, STREET = "210302", "210302001"
COMMUNITIES = ("210302001001", "210302001002")


def box(col: float, row: float, width: float = 1, height: float = 1) -> shapely.MultiPolygon:
    """A rectangle in cell units from the south-west corner, as a MultiPolygon."""
    x, y = LON0 + col * CELL, LAT0 + row * CELL
    return shapely.MultiPolygon([shapely.box(x, y, x + width * CELL, y + height * CELL)])


def _grids() -> list[dict]:
    rows = []
    for c, community in enumerate(COMMUNITIES):
        for n, (col, row) in enumerate([(0, 1), (1, 1), (0, 0), (1, 0)], start=1):
            code = f"{community}{n:03d}"
            rows.append({"code": code, "name": f"第{n}网格", "community_code": community, "households": 100 * n,
                         "worker_id": "", "geometry": box(2 * c + col, row)})
    return rows


def _buildings(grids: list[dict]) -> list[dict]:
    rows = []
    for i, grid in enumerate(grids, start=1):
        centre = shapely.centroid(grid["geometry"])
        geom = shapely.MultiPolygon([shapely.box(centre.x - 0.0002, centre.y - 0.0002,
                                                 centre.x + 0.0002, centre.y + 0.0002)])
        rows.append({"code": f"B{i:04d}", "address": f"辽宁省鞍山市铁东区站前街道建国路{i}号1号楼",
                     "grid_code": grid["code"], "road": "建国路", "house_number": f"{i}号",
                     "building_number": "1号楼", "households": 20 + i, "population": 50 + i, "name": "",
                     "geometry": geom})
    # Straddles the border of grids 001 (west) and 002 (east), three quarters of it in 002.
    x = LON0 + CELL
    rows.append({"code": "B0100", "address": "辽宁省鞍山市铁东区站前街道建国路100号", "grid_code": "",
                 "road": "建国路", "house_number": "100号", "building_number": "", "households": 10,
                 "population": 30, "name": "跨界楼", "geometry": shapely.MultiPolygon(
                     [shapely.box(x - 0.0001, LAT0 + 1.5 * CELL, x + 0.0003, LAT0 + 1.6 * CELL)])})
    return rows


def build_territory() -> dict[str, pd.DataFrame]:
    """The layers as (Geo)DataFrames in WGS84, with every parent code given."""
    grids = _grids()
    grids[0]["worker_id"] = "W001"
    frame = lambda rows: gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")  # noqa: E731
    return {
        "districts": frame([{"code": DISTRICT, "name": "铁东区", "geometry": box(0, 0, 4, 2)}]),
        "streets": frame([{"code": STREET, "name": "站前街道", "district_code": DISTRICT,
                           "geometry": box(0, 0, 4, 2)}]),
        "communities": frame([{"code": code, "name": name, "street_code": STREET, "geometry": box(2 * i, 0, 2, 2)}
                              for i, (code, name) in enumerate(zip(COMMUNITIES, ("明达社区", "园林社区"),
                                                                   strict=True))]),
        "grids": frame(grids),
        "buildings": frame(_buildings(grids)),
        "workers": pd.DataFrame([
            {"id": "W001", "name": "张伟", "phone": "13800000001", "grid_code": grids[0]["code"], "role": "primary"},
            {"id": "W002", "name": "李娜", "phone": "13800000002", "grid_code": grids[0]["code"], "role": "deputy"},
            {"id": "W002", "name": "李娜", "phone": "13800000002", "grid_code": grids[1]["code"], "role": "primary"},
            {"id": "W003", "name": "王芳", "phone": "", "grid_code": "", "role": ""},
        ]),
        "departments": pd.DataFrame([
            {"code": "CG01", "name": "城管局", "district_code": DISTRICT, "phone": "0412-1234567"},
        ]),
    }


@pytest.fixture
def territory() -> dict[str, pd.DataFrame]:
    return build_territory()


def write_folder(layers: dict[str, pd.DataFrame], path: Path) -> Path:
    write_layers(layers, path)
    return path


def write_shapefiles(layers: dict[str, pd.DataFrame], path: Path) -> Path:
    """One Shapefile per spatial layer (field names truncated to 10 characters), CSV for the tables."""
    path.mkdir(parents=True, exist_ok=True)
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(frame, path / f"{name}.shp", encoding="UTF-8")
        else:
            frame.to_csv(path / f"{name}.csv", index=False)
    return path


def run_import(path: Path, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_territory", str(path), *args, stdout=out)
    return out.getvalue()
