"""From metres to a clean WGS84 coverage: grids whose shared edges have identical vertices, and
communities, streets and the district made as exact unions of their children.

A cut through a part adds a vertex on its edge that the neighbour across that edge never got
(a T-junction). Geometrically that still tiles, but coverage validators want matching vertices,
and rounding to 7 decimals would open hairline gaps there. So all grid edges are noded together
at the output precision and the grids rebuilt from the faces."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

DEGREE_PRECISION = 1e-7  # 7 decimals, as written to GeoJSON (≈ 1 cm)


def clean_coverage(polygons: list[BaseGeometry]) -> list[BaseGeometry]:
    """The same polygons (WGS84), snapped to the output precision and noded against each other."""
    polygons = np.asarray(polygons, dtype=object)
    # Snap-rounding nodes the edges of all polygons at once: an edge passing within a pixel of a
    # neighbour's vertex gets that vertex too, so both sides end up with the same vertices.
    edges = shapely.union_all(shapely.boundary(polygons), grid_size=DEGREE_PRECISION)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    owners = face_owners(faces, polygons)
    cleaned = []
    for i in range(len(polygons)):
        mine = faces[owners == i]
        if len(mine) == 0:
            raise RuntimeError(f"polygon {i} vanished while noding the coverage")
        cleaned.append(mine[0] if len(mine) == 1 else shapely.coverage_union_all(mine))
    return cleaned


def face_owners(faces: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """For each face, the polygon it lies in (-1 for a face outside all of them, e.g. a hole)."""
    owners = np.full(len(faces), -1)
    tree = shapely.STRtree(polygons)
    face_index, polygon_index = tree.query(shapely.point_on_surface(faces), predicate="within")
    owners[face_index] = polygon_index
    for f in np.flatnonzero(owners < 0):  # a hairline face: the polygon it overlaps most
        candidates = tree.query(faces[f])
        if len(candidates):
            overlap = shapely.area(shapely.intersection(faces[f], polygons[candidates]))
            if overlap.max() > 0:
                owners[f] = candidates[int(np.argmax(overlap))]
    return owners


def union_by(children: list[BaseGeometry], keys: list[str]) -> dict[str, BaseGeometry]:
    """Parent geometry per key: the exact union of a valid coverage of children."""
    groups: dict[str, list[BaseGeometry]] = {}
    for child, key in zip(children, keys, strict=True):
        groups.setdefault(key, []).append(child)
    return {key: shapely.coverage_union_all(np.asarray(parts, dtype=object)) for key, parts in groups.items()}


def as_multipolygons(geoms) -> np.ndarray:
    """Every geometry as a MultiPolygon (the territory model's type), polygons wrapped, other parts
    (points, lines a union may leave) dropped."""
    geoms = np.asarray(geoms, dtype=object)
    result = geoms.copy()
    polygon = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    result[polygon] = shapely.multipolygons(geoms[polygon], indices=np.arange(int(polygon.sum())))
    for i in np.flatnonzero(shapely.get_type_id(geoms) != shapely.GeometryType.POLYGON):
        result[i] = MultiPolygon([p for p in shapely.get_parts(geoms[i]) if p.geom_type == "Polygon"])
    return result
