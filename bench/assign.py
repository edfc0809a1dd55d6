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

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "gridgis_bench_assign"
GOAL_SJOIN = 1.0
GOAL_CASES_PER_S = 150_000
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


# --- (a) assignment in memory -----------------------------------------------------------------------------


def random_points(grids: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform over the tiling's bounding box widened by 0.2 % (~50 m): a few points near the edge or
    beyond it, for the nearest and unassigned rules."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(grids)
    pad_x, pad_y = (xmax - xmin) * 0.002, (ymax - ymin) * 0.002
    return rng.uniform(xmin - pad_x, xmax + pad_x, count), rng.uniform(ymin - pad_y, ymax + pad_y, count)


def run_ours(codes, grids, lon, lat):
    from geodata.assign_points import PointAssigner

    started = time.perf_counter()
    assigner = PointAssigner(codes, grids)
    built = time.perf_counter()
    result = assigner.assign(lon, lat)
    return built - started, time.perf_counter() - built, result, assigner


def run_sjoin(codes, grids, lon, lat):
    import geopandas as gpd

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    polygons = gpd.GeoDataFrame({"code": codes}, geometry=grids, crs="EPSG:4326")
    started = time.perf_counter()
    joined = gpd.sjoin(points, polygons, predicate="within", how="inner")
    return time.perf_counter() - started, joined


def bench_memory(args) -> None:
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    grids = voronoi_tiling(args.grids, seed=args.seed)
    codes = grid_codes(len(grids))
    lon, lat = random_points(grids, args.points, rng)
    print(f"(a) {len(grids):,} grids ({shapely.get_num_coordinates(grids).mean():.1f} vertices each, generated in "
          f"{time.perf_counter() - started:.1f} s), {args.points:,} random points")
    ours, theirs = [], []
    for _ in range(args.repeat):  # interleaved, best of each: the machine is shared
        ours.append(run_ours(codes, grids, lon, lat))
        theirs.append(run_sjoin(codes, grids, lon, lat))
    build, assign, result, assigner = min(ours, key=lambda run: run[0] + run[1])
    peer, joined = min(theirs, key=lambda run: run[0])
    _check_against_sjoin(result, joined, codes)
    n = args.points
    print(f"    index: {assigner.describe()}")
    print(f"    rules: {np.bincount(result.rule, minlength=3).tolist()} (covering, nearest, unassigned)")
    print(f"    ours, index + assign: {build + assign:.2f} s ({build:.2f} + {assign:.2f}), "
          f"{n / (build + assign):,.0f} points/s; assign alone {n / assign:,.0f} points/s")
    print(f"    geopandas sjoin:      {peer:.2f} s, {n / peer:,.0f} points/s")
    ratio = peer / (build + assign)
    print(f"    ratio ours/sjoin: {ratio:.2f}× with the index built, {peer / assign:.2f}× for assign alone "
          f"({'goal met' if ratio >= GOAL_SJOIN else 'goal missed'}: ≥ {GOAL_SJOIN})")
    return grids, codes, lon, lat


def _check_against_sjoin(result, joined, codes) -> None:
    """Every point sjoin puts in exactly one grid is in that grid here too (on shared boundaries sjoin
    gives several rows; ours the lowest code)."""
    index = joined.index.to_numpy()
    once = np.bincount(index, minlength=result.grid_index.size)[index] == 1
    theirs = joined["code"].to_numpy()[once]
    ours = codes[result.grid_index[index[once]]]
    assert (ours == theirs).all(), f"{(ours != theirs).sum()} points placed differently from sjoin"


def bench_postgis(grids, codes, lon, lat, sample: int) -> None:
    """The plain SQL way, for reference: UPDATE … FROM grids WHERE ST_Contains over a sample."""
    from django.db import connection, transaction

    from gridgis.cases.bulk import pgcopy
    from gridgis.cases.bulk.db import stage

    with transaction.atomic(), connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
        wkb = shapely.to_wkb(shapely.set_srid(grids, 4326), include_srid=True)
        stage(cursor, "bench_grids", {"code": ("text", pgcopy.Text(codes)),
                                      "geom": ("bytea", pgcopy.Coded(np.arange(len(wkb)), list(wkb)))}, len(grids))
        cursor.execute("CREATE TABLE bench_grid AS SELECT code, ST_GeomFromEWKB(geom) AS geom FROM bench_grids")
        cursor.execute("CREATE INDEX ON bench_grid USING gist (geom); ANALYZE bench_grid")
        x, y = lon[:sample], lat[:sample]
        stage(cursor, "bench_xy", {"x": ("float8", pgcopy.Float8(x)), "y": ("float8", pgcopy.Float8(y))}, sample)
        cursor.execute("CREATE TABLE bench_point AS SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom, "
                       "NULL::text AS code FROM bench_xy")
        cursor.execute("ANALYZE bench_point")
        started = time.perf_counter()
        cursor.execute("UPDATE bench_point p SET code = g.code FROM bench_grid g WHERE ST_Contains(g.geom, p.geom)")
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_grid, bench_point")
    print(f"    PostGIS UPDATE … FROM grids WHERE ST_Contains, {sample:,} points: {seconds:.2f} s, "
          f"{sample / seconds:,.0f} points/s (reference; anchor ≈ 35,000/s)")


# --- (b) import_cases end to end ----------------------------------------------------------------------------

DESCRIPTIONS = ("路灯不亮，晚上很黑", "井盖丢失，存在安全隐患", "垃圾堆放多日无人清理", "占道经营影响通行",
                "下水道堵塞污水外溢", "违章搭建", "噪音扰民", "绿化带被毁", "共享单车乱停放", "楼道堆放杂物")


def write_cases_csv(path: Path, rows: int, rng: np.random.Generator) -> dict[str, int]:
    """`rows` cases in the demo city (imported in the scratch database): points in its grids (a third sent
    as GCJ-02), 2 % with only a building's address, two years of reception times, no numbers."""
    import pandas as pd
    from django.db import connection

    from geodata.china_coords import wgs84_to_gcj02_array
    from gridgis.cases.models import Category

    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_AsBinary(ST_Union(geom)) FROM territory_grid")
        city = shapely.from_wkb(bytes(cursor.fetchone()[0]))
        cursor.execute("SELECT address FROM territory_building ORDER BY code")
        addresses = np.array([a for (a,) in cursor.fetchall()], dtype=object)
    shapely.prepare(city)
    xmin, ymin, xmax, ymax = city.bounds
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < rows:
        x, y = rng.uniform(xmin, xmax, rows), rng.uniform(ymin, ymax, rows)
        inside = shapely.contains_xy(city, x, y)
        lon, lat = np.r_[lon, x[inside]], np.r_[lat, y[inside]]
    lon, lat = lon[:rows], lat[:rows]
    gcj = rng.random(rows) < 1 / 3
    lon[gcj], lat[gcj] = wgs84_to_gcj02_array(lon[gcj], lat[gcj])
    by_address = rng.random(rows) < 0.02
    seconds = rng.integers(0, 2 * 365 * 86_400, rows)
    received = np.datetime_as_string(np.datetime64("2023-01-01T00:00:00") + seconds.astype("timedelta64[s]"))
    frame = pd.DataFrame({
        "received_at": np.char.replace(received, "T", " "),
        "description": [f"{DESCRIPTIONS[k]}（{i}）" for i, k in enumerate(rng.integers(0, len(DESCRIPTIONS), rows))],
        "category": rng.choice(list(Category.objects.values_list("code", flat=True)), rows),
        "channel": rng.choice(["hotline", "app", "patrol", "open311"], rows),
        "lon": np.where(by_address, np.nan, np.round(lon, 7)), "lat": np.where(by_address, np.nan, np.round(lat, 7)),
        "crs": np.where(gcj, "gcj02", "wgs84"),
        "address": np.where(by_address, rng.choice(addresses, rows), ""),
        "status": rng.choice(["closed", "closed", "closed", "dispatched", "received"], rows),
        "reporter_name": rng.choice(["张先生", "李女士", "王女士", "赵先生", ""], rows),
        "reporter_phone": [f"138{k:08d}" for k in rng.integers(0, 10**8, rows)],
    })
    frame.to_csv(path, index=False)
    return {"gcj02": int(gcj.sum()), "by_address": int(by_address.sum())}


def bench_import(rows: int, rng: np.random.Generator) -> None:
    from gridgis.cases.bulk.importing import import_cases

    with tempfile.TemporaryDirectory(prefix="gridgis-bench-") as tmp:
        path = Path(tmp) / "cases.csv"
        started = time.perf_counter()
        kinds = write_cases_csv(path, rows, rng)
        print(f"\n(b) import_cases of {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB; {kinds['gcj02']:,} in GCJ-02, "
              f"{kinds['by_address']:,} by address only), written in {time.perf_counter() - started:.1f} s")
        report = import_cases(path=path)
    print("\n".join(f"    {line}" for line in report.lines()))
    print("    by step: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in report.timings.items()))
    bare = bare_copy_seconds()
    rate = report.rows / report.seconds
    verdict = "goal met" if rate >= GOAL_CASES_PER_S else "goal missed"
    print(f"    import_cases: {rate:,.0f} cases/s end to end; ratio to the goal {rate / GOAL_CASES_PER_S:.2f} "
          f"({verdict}: ≥ {GOAL_CASES_PER_S:,}/s)")
    print(f"    peer: the same {report.imported:,} rows COPYed (binary) into a copy of the table without indexes "
          f"or keys: {bare:.1f} s, {report.imported / bare:,.0f} rows/s; import_cases takes "
          f"{report.seconds / bare:.1f}× that")


def bare_copy_seconds() -> float:
    """What the database alone needs to take in the imported rows: binary COPY of them (read back out of the
    cases table) into a table like it with no index, key or constraint beyond NOT NULL."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
        with cursor.copy("COPY cases_case TO STDOUT (FORMAT binary)") as copy:
            blocks = [bytes(block) for block in copy]
        cursor.execute("CREATE TABLE bench_bare (LIKE cases_case INCLUDING DEFAULTS)")
        started = time.perf_counter()
        with cursor.copy("COPY bench_bare FROM STDIN (FORMAT binary)") as copy:
            for block in blocks:
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=100_000, help="points for the PostGIS UPDATE reference")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the import_cases file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a); the best of each side counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--skip-import", action="store_true", help="only (a)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
    import django

    django.setup()
    from bench.scratch import scratch_database

    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores "
          "(figures are wall-clock: other work on the machine slows both sides of each comparison)")
    grids, codes, lon, lat = bench_memory(args)
    started = time.perf_counter()
    with scratch_database(BENCH_DB, demo_city=not args.skip_import, keep=args.keep):
        print(f"\nscratch database {BENCH_DB}: migrated{'' if args.skip_import else ', demo city imported'} in "
              f"{time.perf_counter() - started:.1f} s")
        bench_postgis(grids, codes, lon, lat, min(args.sample, args.points))
        if not args.skip_import:
            bench_import(args.rows, np.random.default_rng(args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
