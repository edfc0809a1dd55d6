"""Writing the territory interchange format (shared/docs/interchange.md §1).

`write_layers` writes one GeoPackage (PATH ends in `.gpkg`) or a folder with one GeoJSON per spatial
layer and one CSV per attribute table (workers.csv, departments.csv): the shapes import_territory reads.
GeoJSON is RFC 7946: WGS84, coordinates to 7 decimals (about 1 cm). The same layers always give the
same bytes, GeoPackages included (their timestamp is pinned), so generated files can be compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

# UTF-8 with a byte-order mark: Excel (what most offices open CSV with) otherwise garbles Chinese text.
CSV_ENCODING = "utf-8-sig"
GEOJSON_OPTIONS = {"RFC7946": "YES", "COORDINATE_PRECISION": "7"}
# A GeoPackage records when it was written; a fixed date keeps identical layers byte-identical.
FIXED_GPKG_DATE = "2000-01-01T00:00:00Z"


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
    with _pinned_date():
        for name, frame in layers.items():
            options = {"geometry_type": "MultiPolygon", "promote_to_multi": True} if _spatial(frame) else {}
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", **options)


def _write_folder(layers: dict[str, pd.DataFrame], path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, frame in layers.items():
        if _spatial(frame):
            target = path / f"{name}.geojson"
            target.unlink(missing_ok=True)
            if frame.crs is not None:
                frame = frame.to_crs(4326)  # RFC 7946: WGS84, and no crs member to say otherwise
            pyogrio.write_dataframe(frame, target, driver="GeoJSON", promote_to_multi=True,
                                    layer_options=GEOJSON_OPTIONS)
        else:
            frame.to_csv(path / f"{name}.csv", index=False, encoding=CSV_ENCODING)


def _spatial(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns


@contextmanager
def _pinned_date() -> Iterator[None]:
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
