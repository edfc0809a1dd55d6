"""Benchmark: live case events over Server-Sent Events, beside the naive one-LISTEN-connection-per-client design.

    .venv/bin/python bench/live.py [--clients 200] [--rate 50] [--seconds 60] [--peer-clients 50]
                                   [--peer-seconds 10] [--keep]

In a scratch database holding the demo city (bench/scratch.py), uvicorn with 2 workers, loopback only:
1. ours (GET /api/v1/live/cases/): `--clients` SSE clients with their own logins and scopes (half the
   command centre, a quarter street staff, a quarter grid workers), connected in four waves while the
   PostgreSQL sessions on the database are counted; then `--rate` cases/s for `--seconds` s, filed by
   case_create in a process of its own (the path every channel takes; with --via-api through
   POST /api/v1/cases/, which costs ~150 ms of a 2-core machine per report and cannot reach 50/s here
   beside 200 streams). Measured: delivery latency from the event's `at` (stamped by case_create before
   its queries) and from the commit (case_create's return in the filing process) to the arrival at the
   client; events lost (each client must get every event cases_for lets its user see); events outside
   the client's scope (must be none); PostgreSQL sessions on the database (the servers' only).
2. peer, in the same run: the same SQL and the same position tracking, but one connection with its own
   LISTEN per client (an ASGI app in this file, scope by a prefix in the URL, no auth), `--peer-clients`
   clients (the cluster allows 200 connections in all, so the peer cannot be run at 200), same rate.
   Meanwhile one boundary change a second (NOTIFY gridgis_territory, as the planner's commit sends, rotating
   through the city's communities) rides the same listener: territory hints delivered, lost, outside scope,
   and their latency from the NOTIFY.
Goals: 0 events lost, none outside scope, sessions flat as clients grow, p95 latency within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import itertools
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.scratch import conninfo, database_url, scratch_database  # noqa: E402

BENCH_DB = "gridgis_bench_live"
PORT, PEER_PORT = 8766, 8767
CREATOR_PROCESSES, CREATORS = 2, 4  # processes and threads per process filing cases
WAVES = 4
CLIENT_PROCESSES = 2
GOAL_P95_MS = 2000.0


# --- the peer: one connection and one LISTEN per client -------------------------------------------------


async def naive_application(scope, receive, send):
    """SSE with a database connection of its own per client: LISTEN, and on each doorbell read what is new."""
    if scope["type"] != "http":
        return
    if scope["path"] != "/":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    from gridgis.live.feed import read_new, read_start
    from gridgis.live.hub import READ_INTERVAL_S, _doorbell, _swallow
    from gridgis.live.position import Position

    prefix = parse_qs(scope["query_string"].decode()).get("prefix", [""])[0]
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    async with await psycopg.AsyncConnection.connect(os.environ["BENCH_CONNINFO"], autocommit=True,
                                                     application_name="bench-naive") as conn:
        await conn.execute("LISTEN case_events")
        top, present, snapshot = await read_start(conn, scan=1000)
        position = Position.start(top, present, snapshot, scan=1000)
        await send({"type": "http.response.body", "body": b"retry: 3000\n\n", "more_body": True})
        await receive()  # the (empty) request body
        gone = asyncio.ensure_future(receive())  # then http.disconnect
        while not gone.done():
            read_at = time.monotonic()
            events, snapshot = await read_new(conn, after=position.last, gaps=position.wanted(), limit=500)
            position.advance([e.id for e in events], snapshot, time.monotonic(), complete=len(events) < 500)
            body = "".join(e.sse(e.id) for e in events if e.audience.territory_code.startswith(prefix))
            if body:
                await send({"type": "http.response.body", "body": body.encode(), "more_body": True})
            await _doorbell(conn, 0.25 if position.gaps else 5.0)
            await asyncio.sleep(read_at + READ_INTERVAL_S - time.monotonic())
            await _swallow(conn)


# --- SSE clients (asyncio, raw sockets), in their own processes --------------------------------------------


@dataclass
class ClientResult:
    name: str
    ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    stamped: list[float] = field(default_factory=list)  # the event's `at`
    received: list[float] = field(default_factory=list)
    hints: list[tuple[str, int, float]] = field(default_factory=list)  # territory: community, version, arrival
    reconnects: int = 0


async def _read_head(reader) -> int:
    status = int((await reader.readline()).split()[1])
    while (await reader.readline()).strip():
        pass
    return status


async def _messages(reader):
    """SSE messages (as lists of lines) out of a chunked HTTP body."""
    buffer = b""
    while size := int((await reader.readline()).strip() or b"0", 16):
        buffer += (await reader.readexactly(size + 2))[:-2]
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            yield block.split(b"\n")


async def _one_client(port: int, path: str, header: str, result: ClientResult, connected) -> None:
    cursor, first = None, True
    while True:  # like EventSource: reconnect with the last id when the server ends the stream
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        resume = f"Last-Event-ID: {cursor}\r\n" if cursor else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}{resume}\r\n".encode())
        if await _read_head(reader) != 200:
            raise RuntimeError(f"{result.name}: stream refused")
        if first:
            connected()
            first = False
        try:
            async for lines in _messages(reader):
                cursor = _record(lines, result) or cursor
        finally:
            writer.close()
        result.reconnects += 1


def _record(lines: list[bytes], result: ClientResult) -> str | None:
    received, cursor, data, kind = time.time(), None, None, b"message"
    for line in lines:
        if line.startswith(b"id: "):
            cursor = line[4:].decode()
        elif line.startswith(b"data: "):
            data = line[6:]
        elif line.startswith(b"event: "):
            kind = line[7:]
    if kind == b"territory":  # a hint: no id, the cursor stays
        hint = json.loads(data)
        result.hints.append((hint["community"], hint["version"], received))
    elif data is not None and data.startswith(b"{"):
        event = json.loads(data)
        result.ids.append(event["event_id"])
        result.case_ids.append(event["case_id"])
        result.stamped.append(dt.datetime.fromisoformat(event["at"]).timestamp())
        result.received.append(received)
    return cursor


def clients_main(port, specs, waves_allowed, connected_counter, stop, results_queue) -> None:
    """Opens the clients in WAVES waves when told, keeps them until `stop`, then sends back what each got."""

    def connected():
        with connected_counter.get_lock():
            connected_counter.value += 1

    async def run():
        results = [ClientResult(name) for name, _, _ in specs]
        tasks = []
        for wave in range(WAVES):
            while waves_allowed.value <= wave:
                await asyncio.sleep(0.05)
            for (_, path, header), result in list(zip(specs, results, strict=True))[wave::WAVES]:
                tasks.append(asyncio.create_task(_one_client(port, path, header, result, connected)))
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return results

    results_queue.put(asyncio.run(run()))


# --- cases at a steady rate, in a process of their own --------------------------------------------------------


def _post(port: int, token: str):
    """Files a report through POST /api/v1/cases/ (one keep-alive connection per thread)."""
    local = threading.local()

    def post(body: dict) -> int | None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local.conn.request("POST", "/api/v1/cases/", json.dumps(body),
                           {"Content-Type": "application/json", "Authorization": f"Token {token}"})
        response = local.conn.getresponse()
        body = response.read()
        return json.loads(body)["id"] if response.status == 201 else None

    return post


def _create(dbname: str):
    """Files a report with case_create in this process, the one path every channel goes through."""
    from bench.scratch import use_database
    from gridgis.cases.models import Category
    from gridgis.cases.services import IntakeReport, case_create

    use_database(dbname)
    connection.settings_dict["OPTIONS"] = {**connection.settings_dict["OPTIONS"], "application_name": "bench-creator"}
    category, operator = Category.objects.get(code="SJ0102"), get_user_model().objects.get(username="live-operator")
    connection.close()

    def create(body: dict) -> int | None:
        lon, lat = body["location"]["coordinates"]
        report = IntakeReport(description=body["description"], channel="app", category=category, lon=lon, lat=lat)
        return case_create(report=report, by=operator).pk

    return create


def creator_main(share, dbname, via_api, port, token, bodies, rate, go, done_queue) -> None:
    """Files bodies[k::of] for share (k, of), body n at its time n / rate after `go`; sends back when each
    case was committed (for the latency from commit to arrival)."""
    file_one = _post(port, token) if via_api else _create(dbname)
    k, of = share
    todo, lock, committed, failures = iter(range(k, len(bodies), of)), threading.Lock(), {}, []
    go.wait()
    started = time.time()

    def worker():
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                break
            time.sleep(max(0.0, started + n / rate - time.time()))
            case_id = file_one(bodies[n])
            if case_id is None:
                failures.append(n)
            else:
                committed[case_id] = time.time()
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CREATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done_queue.put({"sent": len(range(k, len(bodies), of)), "failures": len(failures),
                    "seconds": time.time() - started, "committed": committed})


def hinter_main(dbname, communities, go, stop, sent_queue) -> None:
    """One NOTIFY gridgis_territory a second from `go` to `stop`, as a planner's commit sends it."""
    sent = []
    with psycopg.connect(conninfo(dbname), autocommit=True, application_name="bench-creator") as conn:
        go.wait()
        started = time.time()
        for version in itertools.count(1):
            if stop.wait(max(0.0, started + version - 1 - time.time())):
                break
            community = communities[version % len(communities)]
            sent_at = time.time()
            conn.execute("SELECT pg_notify('gridgis_territory', %s)",
                         [json.dumps({"community": community, "version": version})])
            sent.append((community, version, sent_at))
    sent_queue.put(sent)


# --- the scratch city: viewers, an operator, report bodies ----------------------------------------------------


@dataclass
class Viewer:
    user: object
    token: str
    kind: str
    prefix: str  # for the peer, which has no logins


def make_viewers(n: int) -> list[Viewer]:
    from gridgis.territory.models import Street
    from gridgis.workforce.models import GridAssignment, StaffRole

    users = get_user_model().objects
    district = "210302"
    streets = list(Street.objects.order_by("code").values_list("code", flat=True))
    primaries = list(GridAssignment.objects.filter(role="primary").select_related("worker", "grid")
                     .order_by("grid__code"))
    random.Random(5).shuffle(primaries)
    viewers = []
    for i in range(n):
        kind = ("command", "command", "street", "worker")[i % 4]
        user = users.create_user(f"live-{kind}-{i}", password=None)
        if kind == "command":
            StaffRole.objects.create(user=user, role=StaffRole.Role.COMMAND_CENTRE, scope_code=district)
            prefix = district
        elif kind == "street":
            prefix = streets[i % len(streets)]
            StaffRole.objects.create(user=user, role=StaffRole.Role.STREET_STAFF, scope_code=prefix)
        else:
            assignment = primaries[i % len(primaries)]
            assignment.worker.user = user
            assignment.worker.save(update_fields=["user"])
            prefix = assignment.grid.code
        viewers.append(Viewer(user, Token.objects.create(user=user).key, kind, prefix))
    return viewers


def report_bodies(n: int, worker_grids: list[str], seed: int) -> list[dict]:
    """Half the reports in the grids of the benchmark's grid workers (so they get events too), half anywhere."""
    from gridgis.territory.models import Grid

    rng = random.Random(seed)
    surfaces = dict(Grid.objects.values_list("code", "geom"))
    mine = [surfaces[c].point_on_surface for c in worker_grids]
    anywhere = [g.point_on_surface for g in surfaces.values()]
    bodies = []
    for i in range(n):
        p = rng.choice(mine if i % 2 else anywhere)
        point = [p.x + rng.uniform(-2e-5, 2e-5), p.y + rng.uniform(-2e-5, 2e-5)]
        bodies.append({"description": f"bench-live #{i} 占道经营", "category": "SJ0102", "channel": "app",
                       "location": {"type": "Point", "coordinates": point}})
    return bodies


# --- servers and PostgreSQL sessions ------------------------------------------------------------------------


def start_server(dbname: str, app: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(dbname), "PYTHONPATH": str(ROOT),
           "BENCH_CONNINFO": conninfo(dbname), "DJANGO_SETTINGS_MODULE": "gridgis.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--host", "127.0.0.1", "--workers", "2",
         "--no-access-log", "--log-level", "warning", "--lifespan", "off", "--timeout-graceful-shutdown", "3"],
        cwd=ROOT, env=env,
    )
    for _ in range(150):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/accounts/login/")
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"uvicorn {app} did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


class Sessions:
    """Samples the sessions on the scratch database twice a second, in a thread (not its own, nor those of
    the process filing cases in-process: only what the servers use)."""

    QUERY = """SELECT count(*), count(*) FILTER (WHERE application_name = 'gridgis-live'),
                      count(*) FILTER (WHERE application_name = 'bench-naive')
               FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                 AND backend_type = 'client backend' AND application_name <> 'bench-creator'"""

    def __init__(self, dbname: str):
        self.conn = psycopg.connect(conninfo(dbname), autocommit=True, application_name="bench-sampler")
        self.samples: list[tuple[float, int, int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.samples.append((time.monotonic(), *self.now()))

    def listening_backends(self) -> list[int]:
        return [pid for (pid,) in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name IN ('gridgis-live', 'bench-naive')").fetchall()]

    def now(self) -> tuple[int, int, int]:
        return self.conn.execute(self.QUERY).fetchone()

    def between(self, start: float, end: float) -> list[tuple[int, int, int]]:
        return [s[1:] for s in self.samples if start <= s[0] <= end]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.conn.close()


# --- one run: connect clients in waves, post cases, collect ------------------------------------------------


@dataclass
class Run:
    results: list[ClientResult]
    hints_sent: list[tuple[str, int, float]]
    sessions_by_clients: list[tuple[int, tuple[int, int, int]]]
    sessions_under_load: list[tuple[int, int, int]]
    created: dict
    cpu_s: float  # uvicorn processes and their listening PostgreSQL backends, from the first case to the last event


def run_load(port: int, server: subprocess.Popen, specs: list[tuple[str, str, str]], sessions: Sessions,
             bodies: list[dict], args, operator_token: str, communities: list[str] | None = None) -> Run:
    ctx = multiprocessing.get_context("spawn")
    counter, waves, stop, results_queue = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Event(), ctx.Queue()
    groups = [specs[k::CLIENT_PROCESSES] for k in range(CLIENT_PROCESSES)]
    procs = [ctx.Process(target=clients_main, args=(port, g, waves, counter, stop, results_queue)) for g in groups]
    by_clients = [(0, sessions.now())]
    for proc in procs:
        proc.start()
    for wave in range(1, WAVES + 1):
        waves.value = wave
        expected = sum(len(g[w::WAVES]) for g in groups for w in range(wave))
        _wait(lambda expected=expected: counter.value >= expected, timeout=30)
        time.sleep(0.5)  # let the connection set-up sessions close
        by_clients.append((counter.value, sessions.now()))
    done, go = ctx.Queue(), ctx.Event()
    creators = [ctx.Process(target=creator_main, args=((k, CREATOR_PROCESSES), args.dbname, args.via_api, PORT,
                                                       operator_token, bodies, args.rate, go, done))
                for k in range(CREATOR_PROCESSES)]
    for creator in creators:
        creator.start()
    hints_stop, hints_done = ctx.Event(), ctx.Queue()
    hinter = ctx.Process(target=hinter_main, args=(args.dbname, communities, go, hints_stop, hints_done))
    if communities:
        hinter.start()
    time.sleep(3.0)  # Django set up in the creators
    serving = [server.pid, *_children(server.pid), *sessions.listening_backends()]
    cpu_before = _cpu_seconds(serving)
    load_start = time.monotonic()
    go.set()
    shares = [done.get(timeout=len(bodies) / args.rate + 120) for _ in creators]
    load_end = time.monotonic()
    for creator in creators:
        creator.join()
    hints_stop.set()
    hints_sent = hints_done.get(timeout=30) if communities else []
    if communities:
        hinter.join()
    created = {"sent": sum(s["sent"] for s in shares), "failures": sum(s["failures"] for s in shares),
               "seconds": max(s["seconds"] for s in shares),
               "committed": {k: v for s in shares for k, v in s["committed"].items()}}
    time.sleep(3.0)  # the last events on their way
    cpu = _cpu_seconds(serving) - cpu_before
    stop.set()
    results = [r for _ in procs for r in results_queue.get(timeout=60)]
    for proc in procs:
        proc.join()
    return Run(results, hints_sent, by_clients, sessions.between(load_start, load_end), created, cpu)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (from /proc: Linux only)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _wait(condition, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("clients did not connect in time")
        time.sleep(0.05)


# --- checking and printing ----------------------------------------------------------------------------------


@dataclass
class Verdict:
    deliveries: int
    lost: int
    outside: int
    duplicates: int
    reconnects: int
    from_stamp: list[float]  # ms from the event's `at` (stamped in case_create, before its queries)
    from_commit: list[float]  # ms from case_create's return in the creator


def judge(results: list[ClientResult], expected_by_name: dict[str, set[int]], first_id: int,
          committed: dict[int, float]) -> Verdict:
    lost = outside = duplicates = 0
    from_stamp: list[float] = []
    from_commit: list[float] = []
    for result in results:
        got = [i for i in result.ids if i > first_id]
        expected = expected_by_name[result.name]
        lost += len(expected - set(got))
        outside += len(set(got) - expected)
        duplicates += len(got) - len(set(got))
        for i, case_id, stamped, received in zip(result.ids, result.case_ids, result.stamped, result.received,
                                                 strict=True):
            if i > first_id:
                from_stamp.append((received - stamped) * 1000)
                from_commit.append((received - committed[case_id]) * 1000)
    return Verdict(sum(len(r.ids) for r in results), lost, outside, duplicates,
                   sum(r.reconnects for r in results), from_stamp, from_commit)


@dataclass
class HintVerdict:
    sent: int
    delivered: int
    lost: int
    outside: int
    latency: list[float]  # ms from the NOTIFY to the arrival


def judge_hints(results: list[ClientResult], sent: list[tuple[str, int, float]],
                prefixes: dict[str, str]) -> HintVerdict:
    """Each client must get the hints of the communities overlapping its territory (the hub's rule, from the
    viewer's prefix: within it, or holding it), once, and no other."""
    at = {(c, v): t for c, v, t in sent}
    lost = outside = delivered = 0
    latency = []
    for result in results:
        p = prefixes[result.name]
        expected = {(c, v) for c, v, _ in sent if c.startswith(p) or p.startswith(c)}
        got = {(c, v) for c, v, _ in result.hints}
        delivered += len(result.hints)
        lost += len(expected - got)
        outside += len(got - expected)
        latency += [(t - at[(c, v)]) * 1000 for c, v, t in result.hints if (c, v) in at]
    return HintVerdict(len(sent), delivered, lost, outside, latency)


def expected_events(viewers: list[Viewer], first_id: int) -> dict[str, set[int]]:
    """Per viewer, the run's events on cases that cases_for lets the viewer see."""
    from gridgis.cases.models import CaseEvent
    from gridgis.cases.selectors import cases_for

    return {v.user.username: set(CaseEvent.objects.filter(id__gt=first_id, case__in=cases_for(v.user))
                                 .values_list("id", flat=True)) for v in viewers}


def expected_by_prefix(viewers: list[Viewer], first_id: int) -> dict[str, set[int]]:
    from gridgis.cases.models import CaseEvent

    return {v.user.username: set(CaseEvent.objects.filter(id__gt=first_id, case__territory_code__startswith=v.prefix)
                                 .values_list("id", flat=True)) for v in viewers}


def last_event_id() -> int:
    from gridgis.cases.models import CaseEvent

    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values or [float("nan")])[0]


def print_report(args, ours: Run, ours_v: Verdict, peer: Run, peer_v: Verdict, hints: HintVerdict) -> bool:
    def row(label, a, b):
        print(f"  {label:<44}{a:>16}{b:>16}")

    via = "POST /api/v1/cases/" if args.via_api else "case_create in 2 separate processes"
    print(f"live case events, uvicorn 2 workers, demo city, {args.rate:.0f} cases/s filed by {via}")
    row("", "ours", "peer")
    row("design", "1 LISTEN/process", "1 LISTEN/client")
    row("SSE clients", len(ours.results), len(peer.results))
    row("cases created (failed)", f"{ours.created['sent']} ({ours.created['failures']})",
        f"{peer.created['sent']} ({peer.created['failures']})")
    row("cases/s achieved", f"{ours.created['sent'] / ours.created['seconds']:.1f}",
        f"{peer.created['sent'] / peer.created['seconds']:.1f}")
    row("events delivered", ours_v.deliveries, peer_v.deliveries)
    for label, attr in (("from `at`", "from_stamp"), ("from commit", "from_commit")):
        a, b = getattr(ours_v, attr), getattr(peer_v, attr)
        row(f"latency {label} p50/p95/max (ms)", _triple(a), _triple(b))
    row("events lost (goal 0)", ours_v.lost, peer_v.lost)
    row("events outside the client's scope (goal 0)", ours_v.outside, peer_v.outside)
    row("territory hints sent / delivered", f"{hints.sent} / {hints.delivered}", "-")
    row("territory hints lost / outside scope (goal 0)", f"{hints.lost} / {hints.outside}", "-")
    row("territory hint latency p50/p95/max (ms)", _triple(hints.latency), "-")
    row("server CPU s (uvicorn + listening backends)", f"{ours.cpu_s:.1f}", f"{peer.cpu_s:.1f}")
    row("  per 1000 events delivered", f"{ours.cpu_s / ours_v.deliveries * 1000:.2f}",
        f"{peer.cpu_s / max(peer_v.deliveries, 1) * 1000:.2f}")
    row("duplicates / reconnects", f"{ours_v.duplicates} / {ours_v.reconnects}",
        f"{peer_v.duplicates} / {peer_v.reconnects}")
    print("  PostgreSQL sessions on the database as clients connect (all / listeners):")
    for (n_ours, s_ours), (n_peer, s_peer) in itertools.zip_longest(ours.sessions_by_clients,
                                                                    peer.sessions_by_clients, fillvalue=(None, None)):
        left = f"{n_ours:>3} clients: {s_ours[0]:>3} / {s_ours[1]}" if n_ours is not None else ""
        right = f"{n_peer:>3} clients: {s_peer[0]:>3} / {s_peer[2]}" if n_peer is not None else ""
        print(f"  {'':<24}{left:>36}{right:>28}")
    ours_load = [s[0] for s in ours.sessions_under_load]
    peer_load = [s[0] for s in peer.sessions_under_load]
    row("sessions under load min/median/max", _spread(ours_load), _spread(peer_load))
    ours_per_client = max(ours_load) / len(ours.results)
    peer_per_client = max(peer_load) / len(peer.results)
    print(f"  ratios: sessions per client peer/ours {peer_per_client / ours_per_client:.0f}×; "
          f"p95 latency from commit peer/ours {pct(peer_v.from_commit, 95) / pct(ours_v.from_commit, 95):.2f}×; "
          f"server CPU per event delivered peer/ours "
          f"{(peer.cpu_s / max(peer_v.deliveries, 1)) / (ours.cpu_s / ours_v.deliveries):.1f}×; "
          f"peer at {len(ours.results)} clients would need ≥ {len(ours.results)} sessions "
          f"(max_connections here: {args.max_connections})")
    flat = max(s[0] for _, s in ours.sessions_by_clients[1:]) - min(s[0] for _, s in ours.sessions_by_clients[1:]) <= 2
    met = (ours_v.lost == 0 and ours_v.outside == 0 and flat and pct(ours_v.from_stamp, 95) <= GOAL_P95_MS
           and hints.lost == 0 and hints.outside == 0)
    print("goals met" if met else "goal missed")
    return met


def _triple(ms: list[float]) -> str:
    return f"{pct(ms, 50):.0f}/{pct(ms, 95):.0f}/{max(ms, default=float('nan')):.0f}"


def _spread(values: list[int]) -> str:
    return f"{min(values)}/{statistics.median(values):.0f}/{max(values)}" if values else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="new cases per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--peer-clients", type=int, default=50)
    parser.add_argument("--peer-seconds", type=float, default=10.0)
    parser.add_argument("--via-api", action="store_true",
                        help="file cases through POST /api/v1/cases/ (default: case_create in a process of its own)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep) as dbname:
        args.dbname = dbname
        from gridgis.workforce.models import StaffRole

        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            args.max_connections = int(cursor.fetchone()[0])
        operator = get_user_model().objects.create_user("live-operator", password=None)
        StaffRole.objects.create(user=operator, role=StaffRole.Role.COMMAND_CENTRE, scope_code="210302")
        operator_token = Token.objects.create(user=operator).key
        viewers = make_viewers(args.clients)
        from gridgis.territory.models import Community

        communities = list(Community.objects.order_by("code").values_list("code", flat=True))
        worker_grids = [v.prefix for v in viewers if v.kind == "worker"]
        ours_bodies = report_bodies(int(args.rate * args.seconds), worker_grids, seed=1)
        peer_bodies = report_bodies(int(args.rate * args.peer_seconds), worker_grids, seed=2)
        peer_viewers = viewers[: args.peer_clients]
        connection.close()

        servers = [start_server(dbname, "gridgis.asgi:application", PORT)]
        try:
            servers.append(start_server(dbname, "bench.live:naive_application", PEER_PORT))
            with Sessions(dbname) as sessions:
                specs = [(v.user.username, "/api/v1/live/cases/", f"Authorization: Token {v.token}\r\n")
                         for v in viewers]
                first = last_event_id()
                connection.close()
                ours = run_load(PORT, servers[0], specs, sessions, ours_bodies, args, operator_token, communities)
                ours_v = judge(ours.results, expected_events(viewers, first), first, ours.created["committed"])
                hints = judge_hints(ours.results, ours.hints_sent, {v.user.username: v.prefix for v in viewers})
                peer_specs = [(v.user.username, f"/?prefix={v.prefix}", "") for v in peer_viewers]
                first = last_event_id()
                connection.close()
                peer = run_load(PEER_PORT, servers[1], peer_specs, sessions, peer_bodies, args, operator_token)
                peer_v = judge(peer.results, expected_by_prefix(peer_viewers, first), first,
                               peer.created["committed"])
                connection.close()
        finally:
            for server in servers:
                stop_server(server)
    return 0 if print_report(args, ours, ours_v, peer, peer_v, hints) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
