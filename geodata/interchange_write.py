"""Writing the territory interchange format (shared/docs/interchange.md §1).

`write_layers` writes one GeoPackage (PATH ends in `.gpkg`) or a folder with one GeoJSON per spatial
layer and one CSV per attribute table (workers.csv, departments.csv): the shapes import_territory reads.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

# UTF-8 with a byte-order mark: Excel (what most offices open CSV with) otherwise garbles Chinese text.
CSV_ENCODING = "utf-8-sig"


def write_layers(layers: dict[str, pd.DataFrame], path: Path) -> None:
    """Writes each layer: GeoDataFrames as (Multi)Polygon layers, plain DataFrames as attribute tables.
    An existing GeoPackage at PATH is replaced; in a folder, only the given layers' files are."""
    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        _write_geopackage(layers, path)
    else:
        _write_folder(layers, path)


def _write_geopackage(layers: dict[str, pd.DataFrame], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for name, frame in layers.items():
        options = {"geometry_type": "MultiPolygon", "promote_to_multi": True} if _spatial(frame) else {}
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", **options)


def _write_folder(layers: dict[str, pd.DataFrame], path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, frame in layers.items():
        if _spatial(frame):
            target = path / f"{name}.geojson"
            target.unlink(missing_ok=True)
            pyogrio.write_dataframe(frame, target, driver="GeoJSON", promote_to_multi=True)
        else:
            frame.to_csv(path / f"{name}.csv", index=False, encoding=CSV_ENCODING)


def _spatial(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
