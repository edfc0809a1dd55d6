"""Benchmark: GET /api/v1/stats/ for the whole district over 1,000,000 cases, beside the plain SQL.

    .venv/bin/python bench/stats.py [--cases N] [--runs R] [--keep] [--explain]

In a scratch database holding the demo city (bench/scratch.py): a year of cases (default 1,000,000) spread over
the city's grids — busy and quiet grids, office-hours peaks, 2% unplaced, 3% voided, the life cycle's
milestones, deadlines met or missed, reopenings, ratings, a backlog of stuck cases — written with one COPY
(psycopg 3) while the secondary indexes are dropped, then indexed and VACUUM ANALYZEd.

Then, for the district command centre, for the current month (the API's default) and for the last full month:
- ours: the API in process (Django's test client, DRF, scope, JSON) — `cases_for` + one aggregate query;
- peer: the hand-written `GROUP BY substr(territory_code, 1, 9)` SQL of the same figures over the same rows,
  on a bare psycopg connection;
each cold (a fresh connection, DISCARD ALL: empty plan, catalog and relation caches of the backend) and warm,
interleaved, p50/p95 over R runs. The API's figures must equal the peer's.
"Cold" cannot mean cold disks: the OS page cache can't be dropped without root, and PostgreSQL's shared
buffers only by restarting the shared cluster, which nobody may do. The 1M-case heap (~0.35 GB) stays in the
OS cache, and the ~10k pages a month's query reads (~80 MB) in shared buffers (256 MB here).
Also printed: the API for one street, community and grid (warm p50), and the machine's load average — the
machine is shared, and on 2 CPUs a load of 4–8 stretches every timing 2–3×.
Goals: API p95 ≤ 300 ms cold, and never worse than 2× the plain SQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
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
from django.db import connection  # noqa: E402
from psycopg import sql  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.scratch import conninfo, scratch_database  # noqa: E402
from gridgis.cases.models import Case, Category  # noqa: E402
from gridgis.stats.selectors import (  # noqa: E402
    Period,
    counts_query,
    current_month,
    figures,
    node_subject,
    planner_settings,
)
from gridgis.territory.models import Community, Grid, Street  # noqa: E402
from gridgis.workforce.models import Department, GridAssignment, StaffRole  # noqa: E402

BENCH_DB = "gridgis_bench_stats"
DISTRICT = "210302"
GOAL_P95_MS = 300.0
GOAL_RATIO = 2.0
URL = "/api/v1/stats/"
HOUR, DAY = 3600.0, 86400.0

# --- a year of cases -------------------------------------------------------------------------------------

# Hotline and app reports peak in office hours and the early evening (share of a day's cases per hour).
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 11, 9, 7, 9, 10, 10, 9, 8, 7, 6, 4, 3, 2, 1], float)
DESCRIPTIONS = ["楼下垃圾堆了三天没人清理，气味很大，请尽快处理", "小区路灯不亮，晚上出行不安全",
                "人行道井盖缺失，有老人差点摔倒", "商户占道经营，堵塞消防通道", "楼道堆放杂物，存在火灾隐患",
                "道路坑洼积水，车辆通行困难", "夜间施工噪音扰民，影响休息", "树木枝条遮挡交通信号灯",
                "共享单车乱停乱放，占用盲道", "小区供暖温度不达标，室内只有十五度", "广告牌松动，大风天有坠落危险",
                "河道边有人倾倒建筑垃圾"]
def _grids() -> dict[str, np.ndarray]:
    rows = list(Grid.objects.values_list("id", "code", "community_id", "community__street_id", "geom"))
    primaries = dict(GridAssignment.objects.filter(role="primary").values_list("grid_id", "worker_id"))
    centres = [geom.point_on_surface for *_, geom in rows]
    return {"grid_id": np.array([r[0] for r in rows]), "code": np.array([r[1] for r in rows]),
            "community_id": np.array([r[2] for r in rows]), "street_id": np.array([r[3] for r in rows]),
            "worker_id": np.array([primaries.get(r[0], -1) for r in rows]),
            "lon": np.array([c.x for c in centres]), "lat": np.array([c.y for c in centres])}


def _milestones(rng: np.random.Generator, n: int, received: np.ndarray) -> dict[str, np.ndarray]:
    """Seconds since the epoch for each step; some cases stall, some are reopened and close later."""
    lognormal = lambda median, sigma: median * np.exp(rng.normal(0, sigma, n))  # noqa: E731
    registered = received + rng.uniform(5, 30, n) * 60
    dispatched = registered + rng.uniform(5, 60, n) * 60
    accepted = dispatched + lognormal(HOUR, 0.8)
    handled = accepted + lognormal(30 * HOUR, 0.9)
    reopens = np.where(rng.random(n) < 0.005, 2, np.where(rng.random(n) < 0.04, 1, 0))
    closed = handled + rng.uniform(1, 24, n) * HOUR + reopens * lognormal(48 * HOUR, 0.6)
    stuck = rng.random(n) < 0.004  # a backlog nobody closes
    handled[stuck & (rng.random(n) < 0.5)] = np.inf
    closed[stuck] = np.inf
    return {"registered_at": registered, "dispatched_at": dispatched, "accepted_at": accepted,
            "handled_at": handled, "closed_at": closed, "reopen_count": reopens}


def _status(rng: np.random.Generator, at: dict[str, np.ndarray], now: float, voided: np.ndarray) -> np.ndarray:
    n = len(voided)
    status = np.full(n, "received", dtype=object)
    steps = [("registered_at", ["registered"]), ("dispatched_at", ["dispatched"]),
             ("accepted_at", ["accepted", "in_progress"]), ("handled_at", ["handled", "verified"]),
             ("closed_at", ["closed"])]
    for column, names in steps:
        reached = at[column] <= now
        status[reached] = rng.choice(names, n)[reached]
    status[voided] = "voided"
    return status


def _received(rng: np.random.Generator, n: int, now: dt.datetime) -> np.ndarray:
    """A year of arrivals, peaking in office hours, sorted: the heap in arrival order as a live system has it."""
    midnight = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time.min, tzinfo=dt.UTC).timestamp()
    days = rng.integers(0, 365, n)
    hours = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) - 8  # Shanghai hours in UTC
    received = midnight - days * DAY + (hours + rng.random(n)) * HOUR
    return np.sort(np.where(received > now.timestamp(), received - DAY, received))


def generate(n: int, now: dt.datetime, seed: int = 2026) -> dict[str, list[str]]:
    """The cases as COPY text values, column by column."""
    rng = np.random.default_rng(seed)
    t_now = now.timestamp()
    received = _received(rng, n, now)
    at = _milestones(rng, n, received)
    voided = rng.random(n) < 0.03
    for column in ("registered_at", "dispatched_at", "accepted_at", "handled_at", "closed_at"):
        at[column][voided | (at[column] > t_now)] = np.nan
    status = _status(rng, at, t_now, voided)
    urgent = rng.random(n) < 0.08
    deadline = received + np.where(urgent, 2 * DAY, 7 * DAY) + rng.uniform(0, DAY, n)
    closed = status == "closed"
    on_time = closed & (at["closed_at"] <= deadline)
    open_ = ~closed & ~voided
    rated_at = at["closed_at"] + rng.uniform(2, 72, n) * HOUR
    rated = closed & (rng.random(n) < 0.65) & (rated_at <= t_now)
    to_department = rng.random(n) < 0.12
    departments = np.array(list(Department.objects.values_list("id", flat=True)) or [-1])
    columns = {
        "number": _numbers(received),
        "status": status.astype(str),
        "description": rng.choice(DESCRIPTIONS, n),
        "channel": rng.choice(["hotline", "app", "patrol", "open311", "other"], n, p=[0.55, 0.25, 0.15, 0.03, 0.02]),
        **_places(rng, n),
        "deadline": _text_timestamps(deadline),
        "received_at": _text_timestamps(received),
        "department_id": _text_ids(np.where(to_department, rng.choice(departments, n), -1)),
        "category_id": rng.choice(list(Category.objects.values_list("id", flat=True)), n).astype(str),
        **{column: _text_timestamps(at[column]) for column in
           ("registered_at", "dispatched_at", "accepted_at", "handled_at", "closed_at")},
        "closed_on_time": np.where(closed, np.where(on_time, "t", "f"), NULL),
        "overdue": np.where((open_ & (deadline < t_now)) | (closed & ~on_time), "t", "f"),
        "priority": np.where(urgent, "urgent", "normal"),
        "rated_at": _text_timestamps(np.where(rated, rated_at, np.nan)),
        "reopen_count": np.where(closed | open_, at["reopen_count"], 0).astype(str),
        "satisfaction": np.where(rated, rng.choice(["satisfied", "basic", "unsatisfied"], n, p=[0.86, 0.1, 0.04]), ""),
        "tier": np.where(to_department, "department", "grid"),
    }
    constants = {"raw_crs": "wgs84", "address": "", "reporter_name": "", "reporter_phone": "13800000000",
                 "geocode_candidates": "[]", "warnings": "[]", "updated_at": now.isoformat()}
    columns.update({name: np.full(n, value) for name, value in constants.items()})
    return {name: values.tolist() for name, values in columns.items()}


def _places(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """A grid per case — busy and quiet grids — with a point near its centre; 2% unplaced (district code)."""
    grids = _grids()
    weights = rng.lognormal(0, 0.7, len(grids["code"]))  # markets and old estates report far more
    g = rng.choice(len(grids["code"]), n, p=weights / weights.sum())
    placed = rng.random(n) >= 0.02
    lon, lat = grids["lon"][g] + rng.normal(0, 2e-4, n), grids["lat"][g] + rng.normal(0, 2e-4, n)
    point = np.array([f"SRID=4326;POINT({x:.6f} {y:.6f})" for x, y in zip(lon.tolist(), lat.tolist(), strict=True)])
    unplaced = lambda values: _text_ids(np.where(placed, values, -1))  # noqa: E731
    return {
        "location": np.where(placed, point, NULL),
        "territory_code": np.where(placed, grids["code"][g], DISTRICT),
        "geocode_method": np.where(placed, "point", "none"),
        "needs_location": np.where(placed, "f", "t"),
        "assignment_rule": np.where(placed, "covering_grid", "unassigned"),
        "grid_id": unplaced(grids["grid_id"][g]), "community_id": unplaced(grids["community_id"][g]),
        "street_id": unplaced(grids["street_id"][g]), "assignee_id": unplaced(grids["worker_id"][g]),
    }


NULL = "\\N"


def _text_timestamps(seconds: np.ndarray) -> np.ndarray:
    finite = np.isfinite(seconds)
    stamps = np.where(finite, seconds, 0).astype("int64").astype("datetime64[s]")
    return np.where(finite, np.datetime_as_string(stamps, timezone="UTC"), NULL)  # 2026-01-01T08:30:00Z


def _text_ids(ids: np.ndarray) -> np.ndarray:
    return np.where(ids >= 0, ids.astype(str), NULL)


def _numbers(received: np.ndarray) -> np.ndarray:
    """Case numbers as the intake makes them: the Shanghai date and a 7-digit sequence."""
    days = ((received + 8 * HOUR) // DAY).astype("int64").astype("datetime64[D]")
    dates = np.char.replace(np.datetime_as_string(days), "-", "")
    return np.char.add(dates, np.char.zfill((np.arange(len(received)) % 10_000_000).astype(str), 7))


# --- loading ----------------------------------------------------------------------------------------------

def load(dbname: str, columns: dict[str, list[str]], chunk: int = 100_000) -> dict[str, float]:
    """COPY with the secondary indexes dropped and FK triggers off, then rebuild, VACUUM ANALYZE."""
    seconds = {}
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases_case' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'cases_case'::regclass)").fetchall()
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        started = time.perf_counter()
        conn.execute("SET session_replication_role = replica")  # the generated rows are consistent
        statement = sql.SQL("COPY cases_case ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)))
        rows = len(next(iter(columns.values())))
        with conn.transaction(), conn.cursor().copy(statement) as copy:
            for start in range(0, rows, chunk):
                part = [values[start:start + chunk] for values in columns.values()]
                copy.write("".join("\t".join(row) + "\n" for row in zip(*part, strict=True)))
        seconds["COPY"] = time.perf_counter() - started
        conn.execute("SET session_replication_role = origin")
        conn.execute("SET maintenance_work_mem = '256MB'")
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        seconds["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) cases_case")  # hint bits and visibility map set, as autovacuum would
        seconds["VACUUM ANALYZE"] = time.perf_counter() - started
    return seconds


# --- the peer: plain SQL -------------------------------------------------------------------------------

OPEN = sql.SQL(", ").join(sql.Literal(str(s)) for s in Case.OPEN_STATUSES)
PLAIN = sql.SQL("""
SELECT substr(territory_code, 1, 9) AS key,
       count(*) FILTER (WHERE received_at >= %(lo)s AND received_at < %(hi)s) AS received,
       count(*) FILTER (WHERE registered_at >= %(lo)s AND registered_at < %(hi)s) AS registered,
       count(*) FILTER (WHERE status = 'closed' AND closed_at >= %(lo)s AND closed_at < %(hi)s) AS closed,
       count(*) FILTER (WHERE status <> 'voided'
                              AND (status = 'closed' AND closed_at >= %(lo)s AND closed_at < %(hi)s
                                   OR deadline >= %(lo)s AND deadline < %(hi)s AND deadline <= %(now)s
                                      AND NOT (status = 'closed' AND closed_at < %(lo)s))) AS due_to_close,
       count(*) FILTER (WHERE status = 'closed' AND closed_at >= %(lo)s AND closed_at < %(hi)s
                              AND closed_on_time) AS closed_on_time,
       count(*) FILTER (WHERE status = 'closed' AND closed_at >= %(lo)s AND closed_at < %(hi)s
                              AND reopen_count > 0) AS reopened,
       count(*) FILTER (WHERE rated_at >= %(lo)s AND rated_at < %(hi)s AND satisfaction <> '') AS rated,
       count(*) FILTER (WHERE rated_at >= %(lo)s AND rated_at < %(hi)s AND satisfaction = 'satisfied') AS satisfied,
       count(*) FILTER (WHERE status IN ({open})) AS open_now,
       count(*) FILTER (WHERE status IN ({open})
                              AND (overdue OR deadline < coalesce(deadline_paused_at, %(now)s))) AS overdue_now,
       sum(closed_at - received_at) FILTER (WHERE status = 'closed' AND closed_at >= %(lo)s
                                             AND closed_at < %(hi)s) AS handling
  FROM cases_case
 WHERE territory_code LIKE %(prefix)s
   AND (received_at >= %(lo)s AND received_at < %(hi)s OR registered_at >= %(lo)s AND registered_at < %(hi)s
        OR closed_at >= %(lo)s AND closed_at < %(hi)s OR deadline >= %(lo)s AND deadline < %(hi)s
        OR rated_at >= %(lo)s AND rated_at < %(hi)s OR status IN ({open}))
 GROUP BY 1
""").format(open=OPEN)


def plain_sql(conn: psycopg.Connection, period: Period, now: dt.datetime) -> dict[str, dict]:
    cursor = conn.execute(PLAIN, {"lo": period.lower, "hi": period.upper, "now": now, "prefix": DISTRICT + "%"})
    names = [column.name for column in cursor.description]
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def peer_figures(by_street: dict[str, dict]) -> dict:
    """The district's figures from the peer's rows, through the same rate arithmetic as the API."""
    total = {name: sum(row[name] or 0 for row in by_street.values()) for name in next(iter(by_street.values()))
             if name != "handling"}
    total["handling"] = sum((row["handling"] or dt.timedelta(0) for row in by_street.values()), dt.timedelta(0))
    return figures(total)


# --- measuring -------------------------------------------------------------------------------------------

def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Api:
    """The API in process, on a Django connection we open and reset ourselves (persistent between runs)."""

    def __init__(self, user, params: dict):
        self.client = APIClient()
        self.client.force_authenticate(user)
        self.params = params

    def cold(self) -> None:
        connection.close()
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("DISCARD ALL")

    def run(self) -> dict:
        response = self.client.get(URL, self.params)
        assert response.status_code == 200, response.content
        return response.json()


class Peer:
    def __init__(self, dbname: str, period: Period, now: dt.datetime):
        self.dbname, self.period, self.now = dbname, period, now
        self.conn = _connect(dbname)

    def cold(self) -> None:
        self.conn.close()
        self.conn = _connect(self.dbname)
        self.conn.execute("DISCARD ALL")

    def run(self) -> dict:
        return plain_sql(self.conn, self.period, self.now)

    def close(self) -> None:
        self.conn.close()


def _connect(dbname: str) -> psycopg.Connection:
    # Client-side binding, as Django's backend does: both sides send the same literal SQL.
    return psycopg.connect(conninfo(dbname), autocommit=True, cursor_factory=psycopg.ClientCursor)


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def measure(api: Api, peer: Peer, runs: int) -> dict[str, list[float]]:
    """Interleaved, so both sides see the same state of the caches."""
    timings: dict[str, list[float]] = {"api cold": [], "sql cold": [], "api warm": [], "sql warm": []}
    for _ in range(runs):
        for name, side in (("api", api), ("sql", peer)):
            side.cold()
            timings[f"{name} cold"].append(timed(side.run))
            timings[f"{name} warm"].append(timed(side.run))
    return timings


def _backend_cpu_ms(pid: int) -> float:
    """User + system CPU time of a PostgreSQL backend (same machine), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_per_run(api: Api, peer: Peer, runs: int = 10) -> dict[str, float]:
    """CPU milliseconds per run, with serial plans: a figure the machine's load does not stretch."""
    api.cold()
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        api_pid = cursor.fetchone()[0]
    peer.conn.execute("SET max_parallel_workers_per_gather = 0")
    peer_pid = peer.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    api.run(), peer.run()
    python, api_pg, peer_pg = time.process_time(), _backend_cpu_ms(api_pid), _backend_cpu_ms(peer_pid)
    for _ in range(runs):
        api.run()
    python = (time.process_time() - python) * 1000
    api_pg = _backend_cpu_ms(api_pid) - api_pg
    for _ in range(runs):
        peer.run()
    peer_pg = _backend_cpu_ms(peer_pid) - peer_pg
    return {"api python": python / runs, "api postgres": api_pg / runs, "sql postgres": peer_pg / runs}


def check_same_figures(body: dict, peer: Peer) -> None:
    """The API's district figures equal the peer's, computed at the API's `as_of`."""
    at = dt.datetime.fromisoformat(body["as_of"])
    by_street = plain_sql(peer.conn, peer.period, at)
    assert body["figures"] == peer_figures(by_street), (body["figures"], peer_figures(by_street))
    streets = {c["code"]: c["figures"]["received"] for c in body["children"]}
    assert streets == {k: v["received"] for k, v in by_street.items() if v["received"] or k in streets}


def explain(user, period: Period, now: dt.datetime) -> None:
    query = counts_query(user, node_subject(user, DISTRICT), period, now=now)
    with planner_settings():
        print(query.explain(analyze=True, buffers=True))


def by_level(user, params: dict, runs: int = 5) -> str:
    """Warm p50 of the API for the first street, community and grid: the nodes below the district."""
    codes = [Street.objects.order_by("code").first().code, Community.objects.order_by("code").first().code,
             Grid.objects.order_by("code").first().code]
    results = []
    for code in codes:
        api = Api(user, {"node": code, **params})
        api.run()
        results.append(f"{code} {statistics.median(timed(api.run) for _ in range(runs)):.1f} ms")
    return ", ".join(results)


# --- the run -------------------------------------------------------------------------------------------

def last_full_month(today: dt.date) -> Period:
    return current_month(today.replace(day=1) - dt.timedelta(days=1))


def report(label: str, timings: dict[str, list[float]]) -> bool:
    p50 = {name: statistics.median(values) for name, values in timings.items()}
    p95 = {name: percentile(values, 95) for name, values in timings.items()}
    print(f"  {label}")
    print("                      p50 ms   p95 ms")
    for name in timings:
        print(f"    {name:<16}{p50[name]:9.1f}{p95[name]:9.1f}")
    ratios = {mode: p95[f"api {mode}"] / p95[f"sql {mode}"] for mode in ("cold", "warm")}
    medians = {mode: p50[f"api {mode}"] / p50[f"sql {mode}"] for mode in ("cold", "warm")}
    print(f"    ratio api/sql p95: cold {ratios['cold']:.2f}, warm {ratios['warm']:.2f} (goal ≤ {GOAL_RATIO}); "
          f"p50: cold {medians['cold']:.2f}, warm {medians['warm']:.2f}")
    return p95["api cold"] <= GOAL_P95_MS and max(ratios.values()) <= GOAL_RATIO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--explain", action="store_true", help="print the aggregate query's plan")
    args = parser.parse_args()
    connection.settings_dict["CONN_MAX_AGE"] = None  # the bench opens and resets connections itself

    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep) as dbname:
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        columns = generate(args.cases, now)
        generated = time.perf_counter()
        phases = load(dbname, columns)
        del columns
        print(f"{args.cases:,} cases generated in {generated - started:.1f} s; "
              + ", ".join(f"{name} {value:.1f} s" for name, value in phases.items())
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        user = get_user_model().objects.create_user("bench-command-centre", password=None)
        StaffRole.objects.create(user=user, role=StaffRole.Role.COMMAND_CENTRE, scope_code=DISTRICT)
        today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        met = True
        last = last_full_month(today)
        for label, period, params in (
            ("current month (the API's default period)", current_month(today), {}),
            ("last full month", last, {"start": last.start, "end": last.end}),
        ):
            api, peer = Api(user, {"node": DISTRICT, **params}), Peer(dbname, period, now)
            try:
                body = api.run()
                check_same_figures(body, peer)
                if args.explain:
                    explain(user, period, now)
                timings = measure(api, peer, args.runs)
                levels = by_level(user, params)
                cpu = cpu_per_run(api, peer)
            finally:
                peer.close()
                connection.close()
            print(f"district {DISTRICT}, {period.start} – {period.end}: {_summary(body['figures'])}")
            met &= report(label, timings)
            print(f"    below the district, API warm p50: {levels}")
            print(f"    CPU per run, serial plans (what the load does not stretch): API "
                  f"{cpu['api python'] + cpu['api postgres']:.0f} ms (Python {cpu['api python']:.0f} + PostgreSQL "
                  f"{cpu['api postgres']:.0f}), plain SQL {cpu['sql postgres']:.0f} ms")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other sessions share this machine)")
    print("goals met" if met else "goal missed")
    return 0 if met else 1


def _summary(f: dict) -> str:
    return (f"received {f['received']:,}, closed {f['closed']:,} of {f['due_to_close']:,} due, "
            f"办结率 {f['closed_rate']}, 按期结案率 {f['on_time_rate']}, 返工率 {f['rework_rate']}, "
            f"满意率 {f['satisfaction_rate']}, avg {f['avg_handling_hours']} h, overdue now {f['overdue_now']:,}, "
            f"open now {f['open_now']:,}")


if __name__ == "__main__":
    sys.exit(main())
