"""Benchmark: import_territory on the demo city beside GDAL's ogr2ogr raw load of the same layers.

    .venv/bin/python bench/import_territory.py [--format geojson|gpkg|both] [--repeat N] [--keep]

Builds the demo city's interchange files (geodata.democity.write_demo_city), creates a scratch database
`gridgis_bench` (bench/scratch.py), and measures in the same run:
- ours: `import_territory` — read, validate, reproject, repair, place, link, upsert, coverage check;
- the peer: `ogr2ogr -f PostgreSQL` loading the same layers into plain tables (COPY, GiST index).
It prints both times, buildings per second, and the ratio ours / ogr2ogr (goal: ≤ 2.0), for the GeoJSON
folder the demo city is (what `make run` imports) and for the same city as one GeoPackage. The scratch
database is dropped at the end unless --keep is given. Connection parameters come from settings.DATABASES.
Exit status 1 when a ratio misses the goal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.scratch import conninfo, scratch_database  # noqa: E402
from geodata.democity import write_demo_city  # noqa: E402
from gridgis.territory.importing import import_territory  # noqa: E402

BENCH_DB = "gridgis_bench"
GOAL = 2.0


# --- the data -------------------------------------------------------------------------------------


def write_city(path: Path) -> None:
    """Writes the demo city to PATH (a .gpkg, or a folder of GeoJSON files)."""
    write_demo_city(path, fmt="gpkg" if path.suffix == ".gpkg" else "geojson")


# --- the scratch database -------------------------------------------------------------------------


def empty_territory() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE workforce_gridassignment, workforce_gridworker, workforce_department, "
                       "territory_building, territory_grid, territory_community, territory_street, "
                       "territory_district CASCADE")
        cursor.execute("DROP SCHEMA IF EXISTS raw CASCADE; CREATE SCHEMA raw")


# --- the two loads --------------------------------------------------------------------------------


def run_ours(path: Path):
    started = time.perf_counter()
    report = import_territory(path=path)
    return time.perf_counter() - started, report


def ogr2ogr_commands(path: Path) -> list[list[str]]:
    """Raw loads of the same layers into plain tables of schema `raw`: one ogr2ogr for a GeoPackage,
    one per file for a folder (GeoJSON layers, CSV tables)."""
    target = f"PG:{conninfo(connection.settings_dict['NAME'])}"
    common = ["ogr2ogr", "-f", "PostgreSQL", target, "-lco", "SCHEMA=raw", "-lco", "GEOMETRY_NAME=geom",
              "-overwrite", "--config", "PG_USE_COPY", "YES"]
    if path.suffix == ".gpkg":
        return [[*common, str(path)]]
    files = sorted(p for p in path.iterdir() if p.suffix in {".geojson", ".csv"})
    return [[*common, str(p), "-nln", p.stem] for p in files]


def run_ogr2ogr(path: Path) -> float:
    commands = ogr2ogr_commands(path)
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def raw_building_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM raw.buildings")
        return cursor.fetchone()[0]


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=["geojson", "gpkg", "both"], default="both",
                        help="a GeoJSON folder (what make run imports), a GeoPackage, or both (default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each load; the best counts (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    formats = ["geojson", "gpkg"] if args.format == "both" else [args.format]
    with tempfile.TemporaryDirectory(prefix="gridgis-bench-") as tmp, scratch_database(BENCH_DB, keep=args.keep):
        ratios = [bench_format(Path(tmp), fmt, args) for fmt in formats]
    return 0 if all(r <= GOAL for r in ratios) else 1


def bench_format(folder: Path, fmt: str, args: argparse.Namespace) -> float:
    path = folder / ("city.gpkg" if fmt == "gpkg" else "city")
    started = time.perf_counter()
    write_city(path)
    print(f"\n== {fmt}: the demo city, written in {time.perf_counter() - started:.1f} s")
    return measure(path, args.repeat)


def measure(path: Path, repeat: int) -> float:
    """Interleaves our import and ogr2ogr's load `repeat` times (the machine's load varies: the best
    of each is compared), then imports the same file once more to time the idempotent no-op."""
    ours, theirs = [], []
    for _ in range(repeat):
        empty_territory()
        ours.append(run_ours(path))
        theirs.append(run_ogr2ogr(path))
    again, second = run_ours(path)
    (best, report), peer = min(ours, key=lambda run: run[0]), min(theirs)
    buildings = report.counts["buildings"].created
    assert raw_building_count() == buildings, "ogr2ogr and import_territory loaded different buildings"
    coverage = report.timings.get("coverage check", 0.0)
    print("\n".join(report.lines()[1:9]))
    print("ours, by step: " + ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items()))
    print(f"import_territory: {best:.2f} s, {buildings / best:,.0f} buildings/s ({buildings:,} buildings)")
    print(f"ogr2ogr raw load: {peer:.2f} s, {buildings / peer:,.0f} buildings/s")
    verdict = "goal met" if best / peer <= GOAL else "goal missed"
    print(f"ratio ours/ogr2ogr: {best / peer:.2f} ({verdict}: ≤ {GOAL}); without the coverage check "
          f"({coverage:.2f} s): {(best - coverage) / peer:.2f}")
    print(f"re-import of the same file: {again:.2f} s, {second.changed} rows changed")
    return best / peer


if __name__ == "__main__":
    sys.exit(main())
