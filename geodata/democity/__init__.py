"""A deterministic demo city inside the real outline of 铁东区, Anshan: 10 streets, 88 communities,
~700 grids tiling them exactly, ~25,000 buildings with standard addresses, grid workers and
departments — in the territory interchange format, ready for import_territory.

Pure Python (shapely, geopandas, pyproj, numpy); the pipeline is in city.py. Change
GENERATOR_VERSION whenever the output for a given seed changes, so cached files get rebuilt.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geodata.interchange_write import write_layers

from .city import DEFAULT_SEED, generate_demo_city

GENERATOR_VERSION = "3"

__all__ = ["DEFAULT_SEED", "GENERATOR_VERSION", "generate_demo_city", "write_demo_city"]


def write_demo_city(path: Path, fmt: str = "geojson", **params) -> dict[str, pd.DataFrame]:
    """Generates the city (params as for generate_demo_city) and writes it: a folder of GeoJSON and
    CSV files (fmt="geojson"), or one GeoPackage (fmt="gpkg"; `path` gets a .gpkg suffix)."""
    if fmt not in ("geojson", "gpkg"):
        raise ValueError(f"fmt must be 'geojson' or 'gpkg', not {fmt!r}")
    path = Path(path)
    if fmt == "gpkg" and path.suffix.lower() != ".gpkg":
        path = path.with_suffix(".gpkg")
    if fmt == "geojson" and path.suffix.lower() == ".gpkg":
        raise ValueError(f"{path} names a GeoPackage; use fmt='gpkg' or a folder name")
    layers = generate_demo_city(**params)
    write_layers(layers, path)
    return layers
