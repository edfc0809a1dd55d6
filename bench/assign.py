"""Benchmark: assigning points to grids in bulk, and import_cases end to end.

    .venv/bin/python bench/assign.py [--points N] [--grids N] [--rows N] [--keep] [--skip-import]

(a) 1,000,000 random points over a generated city of 20,000 grids (a perturbed Voronoi tessellation,
    each grid ~25 vertices, tiling ~600 km² exactly): geodata.assign_points.PointAssigner (index built
    for the layout, then assign) beside geopandas `sjoin(points, grids, predicate="within")` of the same
    points and polygons in memory, same run; and, for reference, a plain PostGIS
    `UPDATE … FROM grids WHERE ST_Contains` over a 100,000-point sample in a scratch database.
    Goal: ≥ 1.0× sjoin.
(b) `import_cases` of a 1,000,000-row CSV (points inside the demo city, GCJ-02 for a third of them),
    parse → validate → convert → assign → write, into the scratch database `gridgis_bench_assign`
    (migrated, the demo city imported). Goal: ≥ 150,000 cases/s.

The scratch database is dropped at the end unless --keep is given. Figures are wall-clock seconds; the
machine is shared, so each figure is compared with its peer measured right beside it.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

CENTRE = (123.0, 41.1)  # Anshan, where the demo city is
METRES_PER_DEG_LAT = 110_574.0


def voronoi_tiling(n: int = 20_000, *, seed: int = 1, area_km2: float = 600.0, between: int = 3,
                   wiggle: float = 0.06, centre: tuple[float, float] = CENTRE) -> np.ndarray:
    """`n` grids tiling a square of `area_km2` exactly, as WGS84 polygons in row-major order.

    Voronoi cells of jittered lattice seeds (6 edges on average), every edge given `between` extra vertices
    pushed sideways by up to `wiggle` of its length (so ~25 vertices a grid). Each edge is built once and
    used by both its neighbours, forwards and backwards, so shared boundaries are identical; a polygon made
    invalid by its wiggles gets straight edges instead."""
    rng = np.random.default_rng(seed)
    side = math.sqrt(area_km2) * 1000.0
    cols = max(2, round(math.sqrt(n)))
    rows = math.ceil(n / cols)
    step_x, step_y = side / cols, side / rows
    lattice = np.stack(np.divmod(np.arange(n), cols), axis=1)[:, ::-1].astype(float)
    seeds = (lattice + 0.5 + rng.uniform(-0.4, 0.4, (n, 2))) * [step_x, step_y]
    frame = shapely.box(0, 0, cols * step_x, rows * step_y)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    cells = shapely.set_precision(shapely.intersection(cells, frame), 1e-3)  # shared vertices, to the mm
    cells = cells[shapely.area(cells) > 0]
    metres = _wiggled(cells, rng, between, wiggle)
    east = 111_320.0 * math.cos(math.radians(centre[1]))
    degrees = shapely.transform(metres, lambda xy: np.stack(
        [centre[0] + (xy[:, 0] - side / 2) / east, centre[1] + (xy[:, 1] - side / 2) / METRES_PER_DEG_LAT], 1))
    return _row_major(degrees)


def _wiggled(cells: np.ndarray, rng: np.random.Generator, between: int, wiggle: float) -> np.ndarray:
    coords, owner = shapely.get_coordinates(shapely.get_exterior_ring(cells), return_index=True)
    same = owner[:-1] == owner[1:]
    a, b, edge_owner = coords[:-1][same], coords[1:][same], owner[:-1][same]
    key_a, key_b = (np.round(p * 1000).astype(np.int64) @ [10**10, 1] for p in (a, b))
    forward = key_a < key_b  # each edge is built from its lower end: neighbours agree on the direction
    _, edge_id = np.unique(np.stack([np.minimum(key_a, key_b), np.maximum(key_a, key_b)], 1), axis=0,
                           return_inverse=True)
    edge_id = edge_id.ravel()
    offsets = rng.uniform(-wiggle, wiggle, (edge_id.max() + 1, between))
    t = np.arange(1, between + 1) / (between + 1)
    start, end = np.where(forward[:, None], a, b), np.where(forward[:, None], b, a)

    def build() -> np.ndarray:
        d = end - start
        normal = np.stack([-d[:, 1], d[:, 0]], 1)
        inner = start[:, None] + t[None, :, None] * d[:, None] + offsets[edge_id][:, :, None] * normal[:, None]
        inner = np.where(forward[:, None, None], inner, inner[:, ::-1])
        ring = np.concatenate([a[:, None], inner], axis=1).reshape(-1, 2)
        return shapely.polygons(shapely.linearrings(ring, indices=np.repeat(edge_owner, between + 1)))

    polygons = build()
    for _ in range(3):
        invalid = np.flatnonzero(~shapely.is_valid(polygons))
        if not invalid.size:
            break
        offsets[np.unique(edge_id[np.isin(edge_owner, invalid)])] = 0.0
        polygons = build()
    return polygons


def _row_major(grids: np.ndarray) -> np.ndarray:
    """North to south in bands, west to east within a band: the order grid codes number them in."""
    centres = shapely.centroid(grids)
    x, y = shapely.get_x(centres), shapely.get_y(centres)
    band = math.sqrt((y.max() - y.min()) * (x.max() - x.min()) / len(grids))
    return grids[np.lexsort((x, -np.floor((y.max() - y) / band)))]


def grid_codes(count: int, district: str = "210302") -> np.ndarray:
    """GB/T 30428.1-shaped codes: district + street (3) + community (3) + grid (3), in order."""
    return np.array([f"{district}{i // 90_000 + 1:03d}{i // 300 % 300 + 1:03d}{i % 300 + 1:03d}"
                     for i in range(count)], dtype=object)
