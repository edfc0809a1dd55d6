"""Export of the territory to the interchange format: what import_territory reads back unchanged.

One query per layer; geometries leave PostGIS as WKB and become shapely geometries in one vectorised
call. geodata.interchange_write does the writing (GeoPackage or a GeoJSON folder with CSV tables).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from django.db import connection

from geodata.interchange_write import write_layers
from geodata.layers import LAYERS

# Each query returns the layer's interchange fields in order, the geometry's WKB last for spatial layers.
QUERIES = {
    "districts": "SELECT code, name, ST_AsBinary(geom) FROM territory_district ORDER BY code",
    "streets": """SELECT s.code, s.name, d.code, ST_AsBinary(s.geom)
                  FROM territory_street s JOIN territory_district d ON d.id = s.district_id ORDER BY s.code""",
    "communities": """SELECT c.code, c.name, s.code, ST_AsBinary(c.geom)
                      FROM territory_community c JOIN territory_street s ON s.id = c.street_id ORDER BY c.code""",
    "grids": """SELECT g.code, g.name, c.code, g.households, coalesce(w.worker_id, ''), g.population,
                       ST_AsBinary(g.geom)
                FROM territory_grid g JOIN territory_community c ON c.id = g.community_id
                LEFT JOIN workforce_gridassignment a ON a.grid_id = g.id AND a.role = 'primary'
                LEFT JOIN workforce_gridworker w ON w.id = a.worker_id
                WHERE g.retired_at IS NULL  -- retired grids live on only for the cases closed in them
                ORDER BY g.code""",
    "buildings": """SELECT b.code, b.address, coalesce(g.code, ''), b.road, b.house_number, b.building_number,
                           b.households, b.population, b.name, ST_AsBinary(b.geom)
                    FROM territory_building b LEFT JOIN territory_grid g ON g.id = b.grid_id ORDER BY b.code""",
    # One row per assignment; workers answering for no grid get one row without a grid.
    "workers": """SELECT w.worker_id, w.name, w.phone, coalesce(g.code, ''), coalesce(a.role, '')
                  FROM workforce_gridworker w LEFT JOIN (
                      workforce_gridassignment a JOIN territory_grid g ON g.id = a.grid_id AND g.retired_at IS NULL
                  ) ON a.worker_id = w.id ORDER BY w.worker_id, g.code""",
    "departments": """SELECT p.code, p.name, coalesce(d.code, ''), p.phone
                      FROM workforce_department p LEFT JOIN territory_district d ON d.id = p.district_id
                      ORDER BY p.code""",
}


def export_territory(*, path: Path) -> dict[str, int]:
    """Writes every non-empty layer to PATH (.gpkg, or a folder) and returns the row count per layer."""
    layers = {}
    with connection.cursor() as cursor:
        for spec in LAYERS:
            frame = _layer(cursor, spec)
            if len(frame):
                layers[spec.name] = frame
    write_layers(layers, Path(path))
    return {name: len(frame) for name, frame in layers.items()}


def _layer(cursor, spec) -> pd.DataFrame:
    cursor.execute(QUERIES[spec.name])
    rows = cursor.fetchall()
    columns = list(spec.fields)
    if not spec.spatial:
        return pd.DataFrame(rows, columns=columns)
    frame = pd.DataFrame([row[:-1] for row in rows], columns=columns)
    geoms = shapely.from_wkb([bytes(row[-1]) for row in rows])
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs="EPSG:4326")
