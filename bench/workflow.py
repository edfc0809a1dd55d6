"""Benchmark: the closed loop through the API — transitions per second and latency for a full life cycle
(register → dispatch → accept → start → hand_in → verify → close → rate), beside a bare DRF peer.

    .venv/bin/python bench/workflow.py [--cases N] [--rounds R] [--keep]

In a scratch database holding the demo city (bench/scratch.py), in process (Django's test client, no HTTP,
one client, sequential), measured in the same run and interleaved round by round (the machine is shared):
- ours: POST /api/v1/cases/{id}/{action}/ for the 8 steps, each one a locked, checked transition that
  writes a timeline entry and returns the full case (with allowed actions and deadline state);
- the peer: a bare DRF UpdateAPIView PATCHing `status` of the same cases to the same 8 statuses (no rules,
  no timeline, no scope: a SELECT, one UPDATE and a two-field body).
Prints transitions/s, p50/p95 latency per system and per step, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.urls import clear_url_caches, include, path  # noqa: E402
from rest_framework import generics, serializers  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from gridgis.cases.models import Case, Category  # noqa: E402
from gridgis.cases.services import IntakeReport, case_create  # noqa: E402
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole  # noqa: E402

BENCH_DB = "gridgis_bench_workflow"
DISTRICT = "210302"

# (actor, action, body, status the peer writes)
LIFE = [
    ("command", "register", {}, "registered"),
    ("command", "dispatch", {}, "dispatched"),
    ("worker", "accept", {}, "accepted"),
    ("worker", "start", {}, "in_progress"),
    ("worker", "hand_in", {"note": "已清理完毕"}, "handled"),
    ("command", "verify", {"passed": True}, "verified"),
    ("command", "close", {}, "closed"),
    ("command", "rate", {"satisfaction": "satisfied"}, "closed"),
]


# --- the peer: the barest DRF status update --------------------------------------------------------


class BareStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "status"]


class BareStatusUpdate(generics.UpdateAPIView):
    queryset = Case.objects.all()
    serializer_class = BareStatusSerializer


urlpatterns = [
    path("bench/cases/<int:pk>/", BareStatusUpdate.as_view()),
    path("", include("gridgis.urls")),
]


# --- data ------------------------------------------------------------------------------------------


def workers_with_logins(count: int) -> list[GridWorker]:
    """Primary grid workers of the demo city, each given a login (the demo city has none)."""
    User = get_user_model()
    workers = list(GridWorker.objects.filter(assignments__role=GridAssignment.Role.PRIMARY)
                   .order_by("worker_id").distinct()[:count])
    for worker in workers:
        worker.user = User.objects.create_user(f"bench-{worker.worker_id}".lower(), password=None)
        worker.save(update_fields=["user"])
    return workers


def new_cases(workers: list[GridWorker], count: int, seed: int) -> list[tuple[int, object]]:
    """`count` reports of 暴露垃圾 (a grid matter) inside the grids of `workers`: (case id, worker's user)."""
    rng = random.Random(seed)
    category = Category.objects.get(code="SJ0102")
    made = []
    for n in range(count):
        worker = rng.choice(workers)
        grid = worker.assignments.filter(role=GridAssignment.Role.PRIMARY).first().grid
        spot = grid.geom.point_on_surface
        report = IntakeReport(description=f"楼下暴露垃圾 #{n}", channel=Case.Channel.HOTLINE, category=category,
                              lon=spot.x, lat=spot.y)
        case = case_create(report=report)
        assert case.assignee_id == worker.pk, "the report should land on this worker's grid"
        made.append((case.pk, worker.user))
    return made


# --- runs ------------------------------------------------------------------------------------------


def clients_for(users) -> dict:
    clients = {}
    for user in users:
        client = APIClient()
        client.force_authenticate(user)
        clients[user.pk] = client
    return clients


def run_ours(cases, command, clients) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {action: [] for _, action, _, _ in LIFE}
    for pk, worker in cases:
        for who, action, body, status in LIFE:
            client = clients[command.pk if who == "command" else worker.pk]
            started = time.perf_counter()
            response = client.post(f"/api/v1/cases/{pk}/{action}/", body, format="json")
            timings[action].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or response.json()["status"] != status:
                raise RuntimeError(f"{action}: HTTP {response.status_code} {response.content[:300]!r}")
    return timings


def run_peer(cases, command, clients) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {action: [] for _, action, _, _ in LIFE}
    client = clients[command.pk]
    for pk, _worker in cases:
        for _who, action, _body, status in LIFE:
            started = time.perf_counter()
            response = client.patch(f"/bench/cases/{pk}/", {"status": status}, format="json")
            timings[action].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"peer {action}: HTTP {response.status_code}")
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def flat(timings: dict[str, list[float]]) -> list[float]:
    return [t for values in timings.values() for t in values]


def merge(into: dict[str, list[float]], more: dict[str, list[float]]) -> None:
    for action, values in more.items():
        into.setdefault(action, []).extend(values)


def report(ours: dict, peer: dict, elapsed: dict, cpu: dict) -> None:
    n_ours, n_peer = len(flat(ours)), len(flat(peer))
    rate_ours, rate_peer = n_ours / elapsed["ours"], n_peer / elapsed["peer"]
    print(f"\nfull life cycle, 8 transitions a case; in process, one client, sequential ({n_ours} transitions each)")
    print("                              transitions/s    p50 ms    p95 ms")
    print(f"  ours  POST …/{{action}}/        {rate_ours:10.0f}  {statistics.median(flat(ours)):8.1f}  "
          f"{p95(flat(ours)):8.1f}")
    print(f"  peer  bare DRF PATCH status    {rate_peer:10.0f}  {statistics.median(flat(peer)):8.1f}  "
          f"{p95(flat(peer)):8.1f}")
    print(f"  ratio ours / peer: throughput {rate_ours / rate_peer:.2f}×, "
          f"p95 latency {p95(flat(ours)) / p95(flat(peer)):.2f}×")
    print(f"  a whole life cycle: ours {8000 / rate_ours:.0f} ms, peer {8000 / rate_peer:.0f} ms")
    cpu_ours, cpu_peer = cpu["ours"] / n_ours * 1000, cpu["peer"] / n_peer * 1000
    print(f"  Python CPU per transition (this process; the rest is waiting for PostgreSQL): ours {cpu_ours:.1f} ms, "
          f"peer {cpu_peer:.1f} ms ({cpu_ours / cpu_peer:.2f}×)")
    print("\nper step (ours)          p50 ms    p95 ms     peer p95 ms")
    for _, action, _, _ in LIFE:
        print(f"  {action:<20} {statistics.median(ours[action]):8.1f}  {p95(ours[action]):8.1f}  "
              f"{p95(peer[action]):12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100, help="cases per system per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (ours, peer, ours, …)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    settings.DEBUG = False  # no query log growing in memory while we measure
    settings.ROOT_URLCONF = __name__  # the project's routes plus the peer's
    clear_url_caches()
    with scratch_database(BENCH_DB, demo_city=True, keep=args.keep):
        command = get_user_model().objects.create_user("bench-command", password=None)
        StaffRole.objects.create(user=command, role=StaffRole.Role.COMMAND_CENTRE, scope_code=DISTRICT)
        workers = workers_with_logins(20)
        clients = clients_for([command, *(w.user for w in workers)])
        total = args.cases * args.rounds
        print(f"making {total + 5} cases in the demo city …", flush=True)
        cases = new_cases(workers, total + 5, seed=1)
        run_ours(cases[-5:], command, clients)  # warm up both paths
        run_peer(cases[-5:], command, clients)

        ours, peer = {}, {}
        elapsed, cpu = {"ours": 0.0, "peer": 0.0}, {"ours": 0.0, "peer": 0.0}
        for r in range(args.rounds):
            batch = slice(r * args.cases, (r + 1) * args.cases)
            # The peer walks the same cases after ours (a status PATCH does not care where they stand).
            for name, run, into in (("ours", run_ours, ours), ("peer", run_peer, peer)):
                started, started_cpu = time.perf_counter(), time.process_time()
                merge(into, run(cases[batch], command, clients))
                elapsed[name] += time.perf_counter() - started
                cpu[name] += time.process_time() - started_cpu
    report(ours, peer, elapsed, cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
