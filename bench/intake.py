"""Benchmark: taking reports in through POST /api/v1/cases/, beside a bare DRF create endpoint.

    .venv/bin/python bench/intake.py [--requests N] [--seconds S] [--keep]

In a scratch database holding the demo city (bench/scratch.py), measured in the same run:
1. latency in process (Django's test client, no HTTP): p50/p95 of a report with a point, and of a
   hotline report with only a noisy address to geocode; goal p95 < 30 ms;
2. reports/s over HTTP against uvicorn with 2 workers, for ours and for the bare DRF create endpoint
   (bench/bare_api.py) on the same database, with the same client; goal ≥ 0.5× the bare endpoint.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.scratch import database_url, scratch_database  # noqa: E402
from gridgis.territory.models import Building, Grid  # noqa: E402
from gridgis.workforce.models import StaffRole  # noqa: E402

BENCH_DB = "gridgis_bench_intake"
PORT = 8765
CLIENTS = 4
GOAL_RATIO = 0.5
GOAL_P95_MS = 30.0


def sample_points(n: int, seed: int = 11) -> list[tuple[float, float]]:
    """Points inside random grids of the city (their point on surface, jittered a little)."""
    rng = random.Random(seed)
    grids = list(Grid.objects.values_list("geom", flat=True)[:700])
    points = []
    for _ in range(n):
        p = rng.choice(grids).point_on_surface
        points.append((p.x + rng.uniform(-2e-5, 2e-5), p.y + rng.uniform(-2e-5, 2e-5)))
    return points


def sample_addresses(n: int, seed: int = 12) -> list[str]:
    """Hotline-style addresses: the standard address without province/city/district, as people say it."""
    rng = random.Random(seed)
    addresses = list(Building.objects.values_list("address", flat=True)[:5000])
    return [rng.choice(addresses).replace("辽宁省鞍山市铁东区", "") for _ in range(n)]


def report(point=None, address=None, n=0) -> dict:
    body = {"description": f"楼下暴露垃圾 #{n}", "category": "SJ0102", "channel": "hotline"}
    if point:
        body["location"] = {"type": "Point", "coordinates": list(point)}
    if address:
        body["address"] = address
    return body


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def in_process_latency(client: APIClient, bodies: list[dict]) -> list[float]:
    timings = []
    for body in bodies:
        started = time.perf_counter()
        response = client.post("/api/v1/cases/", body, format="json")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.content
    return timings


# --- HTTP load ----------------------------------------------------------------------------------


def _client_loop(args) -> int:
    path, token, bodies, seconds = args
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        # bytes, not str: http.client then sends headers and body in one packet (a str body goes in a second
        # write, and Nagle + delayed ACK stall every request by ~40 ms, hiding both servers' real speed).
        conn.request("POST", path, json.dumps(bodies[done % len(bodies)]).encode(), headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        done += 1
    return done


def throughput(path: str, token: str, bodies: list[dict], seconds: float) -> float:
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        started = time.perf_counter()
        counts = pool.map(_client_loop, [(path, token, bodies, seconds)] * CLIENTS)
        elapsed = time.perf_counter() - started
    return sum(counts) / elapsed


def start_server(dbname: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(dbname), "DJANGO_SETTINGS_MODULE": "bench.settings",
           "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gridgis.asgi:application", "--port", str(PORT), "--workers", "2",
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/accounts/login/")
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("uvicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="reports per in-process latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each HTTP load run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep) as dbname:
        operator = get_user_model().objects.create_user("bench-operator", password=None)
        StaffRole.objects.create(user=operator, role=StaffRole.Role.COMMAND_CENTRE, scope_code="210302")
        token = Token.objects.create(user=operator).key
        client = APIClient()
        client.force_authenticate(operator)
        points = sample_points(max(args.requests, 2000))
        addresses = sample_addresses(args.requests)

        in_process_latency(client, [report(point=p) for p in points[:20]])  # warm caches
        with_point = in_process_latency(client, [report(point=p, n=i) for i, p in enumerate(points[:args.requests])])
        with_address = in_process_latency(client, [report(address=a, n=i) for i, a in enumerate(addresses)])

        server = start_server(dbname)
        try:
            bodies = [report(point=p, n=i) for i, p in enumerate(points)]
            throughput("/bench/bare-cases/", token, bodies[:50], 2)  # warm both workers
            ours = throughput("/api/v1/cases/", token, bodies, args.seconds)
            bare = throughput("/bench/bare-cases/", token, bodies, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)

    p95_point, p95_address = percentile(with_point, 95), percentile(with_address, 95)
    ratio = ours / bare
    print("intake latency in process (ms)        p50      p95")
    print(f"  report with a point            {statistics.median(with_point):8.1f} {p95_point:8.1f}")
    print(f"  hotline report, address only   {statistics.median(with_address):8.1f} {p95_address:8.1f}")
    print(f"reports/s over HTTP, uvicorn 2 workers, {CLIENTS} clients, {args.seconds:.0f} s each")
    print(f"  ours  POST /api/v1/cases/      {ours:8.0f}")
    print(f"  peer  bare DRF create          {bare:8.0f}")
    print(f"  ratio ours / bare              {ratio:8.2f}   (goal ≥ {GOAL_RATIO})")
    met = ratio >= GOAL_RATIO and p95_point < GOAL_P95_MS
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
