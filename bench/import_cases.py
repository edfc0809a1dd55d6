"""Benchmark: import_cases end to end, with the cases table's indexes as they are now and as they were.

    .venv/bin/python bench/import_cases.py [--rows N] [--before] [--keep]

The CSV is bench/assign.py's (points in the demo city, a third in GCJ-02, 2 % by address only, no numbers),
imported into the scratch database `gridgis_bench_import` (migrated, the demo city loaded). Printed: cases/s
end to end (goal ≥ 150,000/s), the seconds of each step, the slowest index and key rebuilds, and a peer — the
same rows COPYed into a bare copy of the table. --before first migrates cases back to 0007 (the indexes before
0008: plain FK indexes, duplicate territory-code and number indexes), for a figure measured alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.assign import GOAL_CASES_PER_S, bare_copy_seconds, write_cases_csv  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from gridgis.cases.bulk.importing import import_cases  # noqa: E402

BENCH_DB = "gridgis_bench_import"


def table_shape() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE indexdef LIKE '%% WHERE %%') FROM pg_indexes "
                       "WHERE tablename = 'cases_case'")
        indexes, partial = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = 'cases_case'::regclass AND contype = 'f'")
        (keys,) = cursor.fetchone()
    return f"{indexes} indexes ({partial} partial), {keys} foreign keys"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--before", action="store_true", help="the cases table's indexes before migration 0008")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep), \
            tempfile.TemporaryDirectory(prefix="gridgis-bench-") as tmp:
        if args.before:
            call_command("migrate", "cases", "0007", verbosity=0)
        print(f"cases_case: {table_shape()}{' (before 0008)' if args.before else ''}")
        path = Path(tmp) / "cases.csv"
        write_cases_csv(path, args.rows, np.random.default_rng(args.seed))
        started = time.perf_counter()
        report = import_cases(path=path)
        wall = time.perf_counter() - started
        print("\n".join(report.lines()))
        print("by step: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in report.timings.items()))
        slowest = sorted(report.rebuild_timings.items(), key=lambda item: -item[1])
        print(f"rebuilt {len(slowest)} indexes and keys in {sum(report.rebuild_timings.values()):.1f} s; slowest: "
              + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in slowest[:8]))
        bare = bare_copy_seconds()
    rate = report.rows / wall
    print(f"import_cases: {rate:,.0f} cases/s end to end ({wall:.1f} s); goal ≥ {GOAL_CASES_PER_S:,}/s: "
          f"{'met' if rate >= GOAL_CASES_PER_S else 'missed'}")
    print(f"peer: the same rows COPYed into a bare copy of the table: {bare:.1f} s "
          f"({report.imported / bare:,.0f} rows/s); import_cases takes {wall / bare:.1f}× that")
    return 0


if __name__ == "__main__":
    sys.exit(main())
