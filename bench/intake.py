"""Benchmark: taking reports in through POST /api/v1/cases/, beside a bare DRF create endpoint.

    .venv/bin/python bench/intake.py [--requests N] [--seconds S] [--keep] [--debug]

In a scratch database holding the demo city (bench/scratch.py), measured in the same run:
1. latency in process (Django's test client, no HTTP): p50/p95 of a report with a point, and of a
   hotline report with only a noisy address to geocode, beside the bare DRF create endpoint
   (bench/bare_api.py); goal p95 < 30 ms for both;
2. reports/s over HTTP against uvicorn with 2 workers (DEBUG off, as in production; --debug for on), for
   ours and for the bare endpoint on the same database, with the same client and server settings; goal ≥ 0.5×
   the bare endpoint.

The machine is shared: beside wall-clock figures, CPU per report (this process's Python, and the PostgreSQL
backend serving it; over HTTP the server's workers and their backends) does not stretch with others' load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
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
from django.test.utils import override_settings  # noqa: E402
from django.urls import clear_url_caches  # noqa: E402
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def in_process_latency(client: APIClient, bodies: list[dict], path: str = "/api/v1/cases/") -> tuple[list, float]:
    """Wall-clock ms per report, and CPU ms per report (Python here + the PostgreSQL backend)."""
    timings = []
    backend = _backend_pid()
    cpu_before = time.process_time() + _cpu_seconds(backend)
    for body in bodies:
        started = time.perf_counter()
        response = client.post(path, body, format="json")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.content
    cpu = time.process_time() + _cpu_seconds(backend) - cpu_before
    return timings, cpu * 1000 / len(bodies)


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


def _server_cpu(server: subprocess.Popen, dbname: str) -> float:
    """CPU seconds so far of the server's processes and of the PostgreSQL backends serving `dbname`."""
    from django.db import connection

    pids = [server.pid]
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(path.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                pids.append(int(path.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [dbname])
        pids += [pid for (pid,) in cursor.fetchall()]
    return sum(_cpu_seconds(pid) for pid in pids)


def throughput(path: str, token: str, bodies: list[dict], seconds: float, server=None,
               dbname: str = "") -> tuple[float, float]:
    """Reports/s, and server CPU ms per report (workers + their backends; backends that closed meanwhile
    are not counted, so without persistent connections this undercounts)."""
    cpu_before = _server_cpu(server, dbname) if server else 0.0
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        started = time.perf_counter()
        counts = pool.map(_client_loop, [(path, token, bodies, seconds)] * CLIENTS)
        elapsed = time.perf_counter() - started
    cpu = (_server_cpu(server, dbname) - cpu_before) if server else 0.0
    return sum(counts) / elapsed, cpu * 1000 / max(sum(counts), 1)


def start_server(dbname: str, *, debug: bool = False) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(dbname), "DJANGO_SETTINGS_MODULE": "bench.settings",
           "PYTHONPATH": str(ROOT)}
    if not debug:  # as in production (DEBUG logs every query, which costs the side with more queries more)
        env.update(GRIDGIS_DEBUG="0", GRIDGIS_SECRET_KEY=secrets.token_urlsafe(40),
                   GRIDGIS_ALLOWED_HOSTS="127.0.0.1,localhost")
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
    parser.add_argument("--debug", action="store_true", help="servers with DEBUG on (default: off, as in production)")
    args = parser.parse_args()

    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep) as dbname:
        operator = get_user_model().objects.create_user("bench-operator", password=None)
        StaffRole.objects.create(user=operator, role=StaffRole.Role.COMMAND_CENTRE, scope_code="210302")
        token = Token.objects.create(user=operator).key
        client = APIClient()
        client.force_authenticate(operator)
        points = sample_points(max(args.requests, 2000))
        addresses = sample_addresses(args.requests)

        with override_settings(ROOT_URLCONF="bench.bare_api", DEBUG=args.debug):
            clear_url_caches()
            point_bodies = [report(point=p, n=i) for i, p in enumerate(points[:args.requests])]
            in_process_latency(client, [report(point=p) for p in points[:20]])  # warm caches
            in_process_latency(client, point_bodies[:20], "/bench/bare-cases/")
            with_point, cpu_point = in_process_latency(client, point_bodies)
            with_address, cpu_address = in_process_latency(
                client, [report(address=a, n=i) for i, a in enumerate(addresses)])
            bare_point, cpu_bare = in_process_latency(client, point_bodies, "/bench/bare-cases/")
        clear_url_caches()

        server = start_server(dbname, debug=args.debug)
        try:
            bodies = [report(point=p, n=i) for i, p in enumerate(points)]
            throughput("/bench/bare-cases/", token, bodies[:50], 2)  # warm both workers
            throughput("/api/v1/cases/", token, bodies[:50], 2)
            ours, cpu_ours = throughput("/api/v1/cases/", token, bodies, args.seconds, server, dbname)
            bare, cpu_bare_http = throughput("/bench/bare-cases/", token, bodies, args.seconds, server, dbname)
        finally:
            server.terminate()
            server.wait(timeout=10)

    p95_point, p95_address = percentile(with_point, 95), percentile(with_address, 95)
    ratio = ours / bare
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"intake latency in process (ms), DEBUG {'on' if args.debug else 'off'}    p50      p95   "
          "CPU/report (Python + PostgreSQL)")
    print(f"  report with a point            {statistics.median(with_point):8.1f} {p95_point:8.1f} {cpu_point:8.1f}")
    print(f"  hotline report, address only   {statistics.median(with_address):8.1f} {p95_address:8.1f} "
          f"{cpu_address:8.1f}")
    print(f"  peer: bare DRF create          {statistics.median(bare_point):8.1f} "
          f"{percentile(bare_point, 95):8.1f} {cpu_bare:8.1f}")
    print(f"reports/s over HTTP, uvicorn 2 workers (DEBUG {'on' if args.debug else 'off'} for both), {CLIENTS} "
          f"clients, {args.seconds:.0f} s each;"
          " server CPU ms/report (workers + backends)")
    print(f"  ours  POST /api/v1/cases/      {ours:8.0f} {cpu_ours:8.1f}")
    print(f"  peer  bare DRF create          {bare:8.0f} {cpu_bare_http:8.1f}")
    print(f"  ratio ours / bare              {ratio:8.2f}   (goal ≥ {GOAL_RATIO}); by server CPU "
          f"{cpu_bare_http / cpu_ours if cpu_ours else 0:.2f}")
    missed = [name for name, ok in (("p95 with a point", p95_point < GOAL_P95_MS),
                                    ("p95 address only", p95_address < GOAL_P95_MS),
                                    ("HTTP ratio", ratio >= GOAL_RATIO)) if not ok]
    met = not missed
    print("goals met (both p95 < 30 ms, HTTP ratio ≥ 0.5)" if met else f"goal missed: {', '.join(missed)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
