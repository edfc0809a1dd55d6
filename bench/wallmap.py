"""Benchmark: the wall map's data with 100,000 open cases, beside a plain djangorestframework-gis GeoJSON list.

    .venv/bin/python bench/wallmap.py [--open 100000] [--closed 50000] [--runs 30] [--keep] [--no-browser]

In a scratch database holding the demo city (bench/scratch.py): `--open` open cases spread over the city's
grids (busy and quiet grids, 2% unplaced; ~12% overdue, ~3% supervised) and `--closed` closed ones, written
with one COPY (bench/stats.py's loader), indexed and VACUUM ANALYZEd. Then, for the district command centre,
three views as the page asks for them (the screen's box padded by 10%, the zoom that fits the area on a
1920×1080 wall beside its 440 px panel):
  (a) the whole city zoomed out, (b) one street, (c) one community, and (d) a zoom-18 screen in that
  community (points however many there are, capped);
- ours: GET /api/v1/wall/cases/ in process (Django's test client: scope, query, JSON) — payload bytes (plain and
  gzip), server time p50/p95 over `--runs` runs cold (the per-code counts' cache emptied, as after any case
  event) and warm (as the page's other reads and pans find it), and the CPU of a cold run (Python + the
  PostgreSQL backend, serial plans): the figure the shared machine's load does not stretch;
- peer: a plain DRF-gis list (GeoFeatureModelSerializer ListAPIView, InBBoxFilter) of the same cases (open,
  in scope, in the box), rendered to GeoJSON — bytes and time over a few runs;
- for "measure and choose": ST_AsMVT vector tiles of the same cases covering the view (the tiles a vector-tile
  layer would fetch), bytes and the time of all of them on a bare connection;
and the page's other reads (grid loads, live counts). Finally the first render of /wall/ in headless
Chromium against uvicorn on the scratch database: from navigation to the clusters/markers drawn.
Goals: ≤ 500 KB and ≤ 150 ms p95 per view; first render ≤ 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import math
import os
import shutil
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

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.db.models import Extent  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.generics import ListAPIView  # noqa: E402
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate  # noqa: E402
from rest_framework_gis.filters import InBBoxFilter  # noqa: E402
from rest_framework_gis.serializers import GeoFeatureModelSerializer  # noqa: E402

from bench.scratch import conninfo, database_url, scratch_database  # noqa: E402
from bench.stats import NULL, _numbers, _places, _text_timestamps, load  # noqa: E402
from gridgis.cases.models import Case, Category  # noqa: E402
from gridgis.stats import wallmap  # noqa: E402
from gridgis.territory.models import Community, District, Street  # noqa: E402
from gridgis.workforce.models import StaffRole  # noqa: E402

BENCH_DB = "gridgis_bench_wallmap"
DISTRICT = "210302"
PASSWORD = "bench-wall-2026"  # noqa: S105 - a throw-away user in a scratch database
SCREEN = (1920 - 440, 1080)  # the map's part of the wall, beside the panel
GOAL_BYTES, GOAL_P95_MS, GOAL_RENDER_S = 500_000, 150.0, 2.0
PORT = 8771
DAY = 86400.0

# --- the cases ---------------------------------------------------------------------------------------------

DESCRIPTIONS = ["楼下垃圾堆了三天没人清理", "小区路灯不亮", "井盖缺失", "占道经营", "楼道堆放杂物"]
OPEN_MIX = {"received": 0.08, "registered": 0.07, "dispatched": 0.25, "accepted": 0.15, "in_progress": 0.3,
            "handled": 0.1, "verified": 0.05}


def generate(n_open: int, n_closed: int, now: dt.datetime, seed: int = 2026) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    n = n_open + n_closed
    t_now = now.timestamp()
    received = np.sort(t_now - rng.exponential(12 * DAY, n))  # the heap in arrival order
    is_open = rng.permutation(np.r_[np.ones(n_open, bool), np.zeros(n_closed, bool)])
    status = np.where(is_open, rng.choice(list(OPEN_MIX), n, p=list(OPEN_MIX.values())), "closed")
    late = is_open & (rng.random(n) < 0.12)
    deadline = np.where(late, t_now - rng.uniform(1, 5 * DAY, n), np.maximum(received + 7 * DAY, t_now + DAY))
    closed_at = np.where(is_open, np.nan, np.minimum(received + rng.uniform(0.5, 6, n) * DAY, t_now))
    supervised = is_open & (rng.random(n) < 0.03)
    columns = {
        "number": _numbers(received),
        "status": status.astype(str),
        "description": rng.choice(DESCRIPTIONS, n),
        "channel": rng.choice(["hotline", "app", "patrol"], n),
        **_places(rng, n),
        "category_id": rng.choice(list(Category.objects.values_list("id", flat=True)), n).astype(str),
        "received_at": _text_timestamps(received),
        "deadline": _text_timestamps(deadline),
        "closed_at": _text_timestamps(closed_at),
        "closed_on_time": np.where(is_open, NULL, "t"),
        "overdue": np.where(late, "t", "f"),
        "supervised": np.where(supervised, "t", "f"),
        "supervision_note": np.where(supervised, "限期办结", ""),
        "priority": np.where(rng.random(n) < 0.08, "urgent", "normal"),
    }
    constants = {"raw_crs": "wgs84", "address": "", "reporter_name": "", "reporter_phone": "13800000000",
                 "geocode_candidates": "[]", "warnings": "[]", "updated_at": now.isoformat()}
    columns.update({name: np.full(n, value) for name, value in constants.items()})
    return {name: values.tolist() for name, values in columns.items()}


# --- the views -----------------------------------------------------------------------------------------------

def fit_zoom(extent: tuple[float, float, float, float]) -> int:
    """The largest zoom at which the extent fits the screen (Web Mercator)."""
    west, south, east, north = extent
    y = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
    zx = math.log2(SCREEN[0] * 360 / (256 * (east - west)))
    zy = math.log2(SCREEN[1] * 2 * math.pi / (256 * (y(north) - y(south))))
    return int(min(zx, zy, 19))


def screen_box(lon: float, lat: float, zoom: int) -> tuple[float, float, float, float]:
    """The box a SCREEN-sized map centred on (lon, lat) shows at `zoom`."""
    half_w = SCREEN[0] / 2 * 360 / (256 * 2 ** zoom)
    half_h = half_w * SCREEN[1] / SCREEN[0] * math.cos(math.radians(lat))
    return lon - half_w, lat - half_h, lon + half_w, lat + half_h


def padded(extent, ratio: float = 0.1) -> tuple[float, ...]:
    west, south, east, north = extent
    dx, dy = (east - west) * ratio, (north - south) * ratio
    return west - dx, south - dy, east + dx, north + dy


def views() -> list[tuple[str, tuple[float, ...], int]]:
    city = District.objects.filter(code=DISTRICT).aggregate(e=Extent("geom"))["e"]
    busiest = lambda model: (model.objects.filter(code__startswith=DISTRICT)  # noqa: E731
                             .order_by("code").first())
    street = busiest(Street)
    community = Community.objects.filter(code__startswith=street.code).order_by("code").first()
    out = []
    areas = ((f"(a) city {DISTRICT}", city), (f"(b) street {street.code} {street.name}", street.geom.extent),
             (f"(c) community {community.code} {community.name}", community.geom.extent))
    for label, extent in areas:
        zoom = fit_zoom(extent)
        centre = ((extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2)
        out.append((label, padded(screen_box(*centre, zoom)), zoom))
    centre = community.geom.point_on_surface
    out.append(("(d) z18 screen in (c)", padded(screen_box(centre.x, centre.y, 18)), 18))
    return out


# --- ours and the peer ----------------------------------------------------------------------------------------

class PlainSerializer(GeoFeatureModelSerializer):
    class Meta:
        model = Case
        geo_field = "location"
        fields = ("id", "number", "status", "overdue", "supervised", "deadline", "priority", "territory_code")


class PlainList(ListAPIView):
    """What a wall map would get from the textbook DRF-gis endpoint: every case in the box as a Feature."""

    serializer_class = PlainSerializer
    filter_backends = [InBBoxFilter]
    bbox_filter_field = "location"
    bbox_filter_include_overlapping = True

    def get_queryset(self):
        return wallmap.open_cases(self.request.user).order_by()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return (time.perf_counter() - started) * 1000, result


def _backend_cpu_ms(pid: int) -> float:
    """User + system CPU time of a PostgreSQL backend (same machine), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure_ours(client: APIClient, url: str, params: dict, runs: int) -> dict:
    """Cold: the per-code counts' cache emptied before each run (as after a case event); warm: as the page's
    next reads and pans find it. Then the CPU of a cold run, serial plans: what the machine's load does not
    stretch (Python in this process + the PostgreSQL backend)."""
    get = lambda: client.get(url, params)  # noqa: E731
    get()
    cold, warm = [], []
    for _ in range(runs):
        wallmap.code_counts_cache.clear()
        ms, response = timed(get)
        assert response.status_code == 200, response.content[:300]
        cold.append(ms)
        warm.append(timed(get)[0])
    body = response.content
    zipped = client.get(url, params, HTTP_ACCEPT_ENCODING="gzip")
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    python, backend = time.process_time(), _backend_cpu_ms(pid)
    for _ in range(10):
        wallmap.code_counts_cache.clear()
        get()
    cpu = ((time.process_time() - python) * 1000 + _backend_cpu_ms(pid) - backend) / 10
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")
    return {"bytes": len(body), "gzip": len(zipped.content) if zipped.get("Content-Encoding") == "gzip"
            else len(gzip.compress(body)), "p50": statistics.median(cold), "p95": percentile(cold, 95),
            "warm p50": statistics.median(warm), "warm p95": percentile(warm, 95), "cpu": cpu,
            "body": response.json()}


def measure_peer(user, bbox: tuple[float, ...], runs: int) -> dict:
    factory, view = APIRequestFactory(), PlainList.as_view()

    def run():
        request = factory.get("/plain/", {"in_bbox": ",".join(f"{v:.6f}" for v in bbox)})
        force_authenticate(request, user)
        response = view(request)
        response.render()
        return response

    timings = []
    for _ in range(runs):
        ms, response = timed(run)
        timings.append(ms)
    body = response.content
    return {"bytes": len(body), "gzip": len(gzip.compress(body, compresslevel=6)), "p50": statistics.median(timings),
            "p95": percentile(timings, 95), "features": len(response.data["features"])}


MVT = """
SELECT coalesce(length(ST_AsMVT(q, 'cases')), 0) FROM (
  SELECT c.id, c.status, c.overdue, c.supervised,
         ST_AsMVTGeom(ST_Transform(c.location, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s)) AS geom
    FROM cases_case c
   WHERE c.status IN ('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', 'verified')
     AND c.territory_code LIKE %(prefix)s
     AND c.location && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)) q
"""


def tiles(bbox: tuple[float, ...], zoom: int) -> list[tuple[int, int, int]]:
    def tile(lon, lat):
        n = 2 ** zoom
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    (x0, y0), (x1, y1) = tile(bbox[0], bbox[3]), tile(bbox[2], bbox[1])
    return [(zoom, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def measure_mvt(dbname: str, bbox: tuple[float, ...], zoom: int, runs: int = 5) -> dict:
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        wanted = tiles(bbox, zoom)

        def run():
            return sum(conn.execute(MVT, {"z": z, "x": x, "y": y, "prefix": DISTRICT + "%"}).fetchone()[0]
                       for z, x, y in wanted)

        run()
        timings, size = [], 0
        for _ in range(runs):
            ms, size = timed(run)
            timings.append(ms)
    return {"tiles": len(wanted), "bytes": size, "p50": statistics.median(timings), "p95": percentile(timings, 95)}


# --- first render in Chromium --------------------------------------------------------------------------------

def start_server(dbname: str) -> subprocess.Popen:
    import http.client

    env = {**os.environ, "DATABASE_URL": database_url(dbname), "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": "gridgis.settings", "GRIDGIS_BASEMAP": "none"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gridgis.asgi:application", "--port", str(PORT), "--host", "127.0.0.1",
         "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "2"], cwd=ROOT, env=env)
    for _ in range(150):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/accounts/login/")
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("uvicorn did not start")


def first_render(username: str, runs: int = 3) -> list[dict]:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{PORT}"
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                      viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.goto(f"{base}/accounts/login/?next=/wall/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login-form button[type=submit]")
        page.wait_for_url(f"{base}/wall/")
        page.wait_for_selector("#wall-map[data-ready=true]", timeout=30_000)
        for _ in range(runs):  # warm: the server's and the browser's caches as on a wall that reloads
            page.goto(f"{base}/wall/")
            page.wait_for_selector("#wall-map[data-ready=true]", timeout=30_000)
            drawn = page.evaluate("performance.now()")  # ms since the navigation started
            results.append({"ms": drawn, "mode": page.get_attribute("#wall-map", "data-mode"),
                            "markers": page.locator(".case-cluster, .case-dot").count()})
        browser.close()
    return results


# --- the run -------------------------------------------------------------------------------------------------

def kb(n: int) -> str:
    return f"{n / 1000:,.1f} KB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--closed", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--peer-runs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--no-browser", action="store_true", help="skip the first render in Chromium")
    args = parser.parse_args()
    met = True

    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep) as dbname:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        started = time.perf_counter()
        phases = load(dbname, generate(args.open, args.closed, now))
        print(f"{args.open:,} open + {args.closed:,} closed cases loaded in {time.perf_counter() - started:.1f} s ("
              + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
              + f"); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        user = get_user_model().objects.create_user("bench-wall", password=PASSWORD)
        StaffRole.objects.create(user=user, role=StaffRole.Role.COMMAND_CENTRE, scope_code=DISTRICT)
        client = APIClient()
        client.force_authenticate(user)
        connection.settings_dict["CONN_MAX_AGE"] = None

        print(f"\nGET /api/v1/wall/cases/ (ours, in process, {args.runs} runs cold and warm) beside a plain DRF-gis "
              f"GeoJSON list of the same cases ({args.peer_runs} runs) and ST_AsMVT tiles of the view")
        for label, bbox, zoom in views():
            params = {"bbox": ",".join(f"{v:.6f}" for v in bbox), "zoom": zoom}
            ours = measure_ours(client, "/api/v1/wall/cases/", params, args.runs)
            peer = measure_peer(user, bbox, args.peer_runs)
            mvt = measure_mvt(dbname, bbox, zoom)
            body = ours["body"]
            shown = (f"{len(body['clusters'])} clusters of {body['count']:,} cases" if body["mode"] == "clusters"
                     else f"{len(body['cases']):,} points{' (truncated)' if body['truncated'] else ''}")
            ok = ours["bytes"] <= GOAL_BYTES and ours["p95"] <= GOAL_P95_MS
            met &= ok
            print(f"  {label}, zoom {zoom}: {shown}; the peer lists {peer['features']:,} features")
            print(f"    ours  {kb(ours['bytes']):>12} (gzip {kb(ours['gzip'])})  p50 {ours['p50']:7.1f} ms  "
                  f"p95 {ours['p95']:7.1f} ms cold  {'ok' if ok else 'GOAL MISSED'}; warm p50 {ours['warm p50']:.1f} "
                  f"p95 {ours['warm p95']:.1f} ms; CPU per cold run {ours['cpu']:.0f} ms")
            print(f"    peer  {kb(peer['bytes']):>12} (gzip {kb(peer['gzip'])})  p50 {peer['p50']:7.1f} ms  "
                  f"p95 {peer['p95']:7.1f} ms")
            print(f"    MVT   {kb(mvt['bytes']):>12} in {mvt['tiles']} tiles, all of them: p50 {mvt['p50']:7.1f} ms "
                  f"p95 {mvt['p95']:7.1f} ms (SQL only)")
            print(f"    peer/ours: bytes ×{peer['bytes'] / ours['bytes']:,.0f}, "
                  f"gzip ×{peer['gzip'] / ours['gzip']:,.0f}, p95 time ×{peer['p95'] / ours['p95']:,.1f}")

        print("\nthe page's other reads (ours):")
        for name, url in (("grid loads", "/api/v1/wall/grids/"), ("live counts", "/api/v1/wall/summary/")):
            r = measure_ours(client, url, {}, args.runs)
            print(f"  {name:<12} {kb(r['bytes']):>10} (gzip {kb(r['gzip'])})  p50 {r['p50']:6.1f} ms  "
                  f"p95 {r['p95']:6.1f} ms cold; warm p50 {r['warm p50']:.1f} p95 {r['warm p95']:.1f} ms; "
                  f"CPU per cold run {r['cpu']:.0f} ms")
        connection.close()

        if not args.no_browser:
            server = start_server(dbname)
            try:
                renders = first_render("bench-wall")
            finally:
                server.terminate()
                server.wait(timeout=10)
            worst = max(r["ms"] for r in renders) / 1000
            met &= worst <= GOAL_RENDER_S
            print(f"\nfirst render of /wall/ in headless Chromium (navigation → {renders[0]['markers']} "
                  f"{renders[0]['mode']} drawn), {len(renders)} loads: "
                  + ", ".join(f"{r['ms'] / 1000:.2f} s" for r in renders)
                  + f" (goal ≤ {GOAL_RENDER_S} s)")
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other sessions share this machine)")
    print("goals met" if met else "goal missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
