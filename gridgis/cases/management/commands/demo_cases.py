"""demo_cases [--count N] [--seed N] [--reset]: fills the demo city with cases (geodata.democity.cases).

The reports go in through import_cases (located, placed in the grid covering them, assigned to its worker
by the normal rules, numbered DEMO000001 …); then each case is moved to where it stands in the closed loop —
the step times, the handler (the grid's worker), closing, rating, overdue and supervision — and its timeline
gets one entry per step. Idempotent: nothing happens when demo cases exist; --reset deletes them (and
everything attached to them, their timeline included) and makes them again.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from psycopg import sql

from geodata.democity.cases import DEFAULT_SEED, DESCRIPTIONS, NUMBER_PREFIX, STEPS, SUPERVISION_NOTE, demo_cases
from gridgis.cases.bulk.importing import import_cases
from gridgis.cases.models import Case, Category
from gridgis.territory.models import Building
from gridgis.workforce.models import StaffRole

DEMO = f"c.number LIKE '{NUMBER_PREFIX}%%'"
CLOSED_OR_VOIDED = "('closed', 'voided')"

# Each step of the loop as a timeline entry: (action, from, to, time column of the plan, actor).
EVENTS = [
    ("register", "received", "registered", "registered", "centre"),
    ("dispatch", "registered", "dispatched", "dispatched", "centre"),
    ("accept", "dispatched", "accepted", "accepted", "handler"),
    ("start", "accepted", "in_progress", "started", "handler"),
    ("hand_in", "in_progress", "handled", "handled", "handler"),
    ("verify", "handled", "verified", "verified", "centre"),
    ("close", "verified", "closed", "closed", "centre"),
    ("rate", "closed", "closed", "rated", "centre"),
    ("void", "received", "voided", "voided", "centre"),
]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3000, help="cases to make (default 3000)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--reset", action="store_true", help="delete the demo cases and make them again")

    def handle(self, *args, count: int, seed: int, reset: bool, **options):
        started = time.perf_counter()
        demo = Case.objects.filter(number__startswith=NUMBER_PREFIX)
        if demo.exists() and not reset:
            self.stdout.write(f"Demo cases: {demo.count():,} already there, nothing to do (--reset makes them again).")
            return
        if not Building.objects.exists():
            raise CommandError("No buildings: load the demo city first (python manage.py demo_city).")
        with transaction.atomic():
            if reset:
                self.stdout.write(f"Demo cases: deleting {_delete_demo_cases():,} …")
            now = timezone.now()
            plan = _plan(count, seed, now)
            with tempfile.TemporaryDirectory(prefix="gridgis-demo-cases-") as tmp:
                path = _write_csv(Path(tmp) / "cases.csv", plan)
                report = import_cases(path=path, rebuild_indexes=False)
            with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
                _stage_plan(cursor, plan)
                _apply_plan(cursor, now)
                events = _write_timeline(cursor)
        self._summary(report.imported, events, time.perf_counter() - started)

    def _summary(self, imported: int, events: int, seconds: float) -> None:
        demo = Case.objects.filter(number__startswith=NUMBER_PREFIX)
        by_status = dict(demo.order_by().values_list("status").annotate(n=Count("id")))
        labels = dict(Case.Status.choices)
        self.stdout.write(f"Demo cases: {imported:,} made in {seconds:.1f} s, {events:,} timeline entries: "
                          + ", ".join(f"{labels[s]} {by_status[s]:,}" for s in Case.Status.values if s in by_status)
                          + f"; overdue {demo.filter(overdue=True).count():,}, supervised "
                          f"{demo.filter(supervised=True).count():,}, unassigned "
                          f"{demo.filter(grid__isnull=True).count():,}.")


def _plan(count: int, seed: int, now: dt.datetime):
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(p), ST_Y(p), address FROM (SELECT ST_PointOnSurface(geom) AS p, address, code "
                       "FROM territory_building) b ORDER BY code")
        rows = cursor.fetchall()
    lon = np.array([r[0] for r in rows])
    lat = np.array([r[1] for r in rows])
    categories = tuple(Category.objects.filter(code__in=list(DESCRIPTIONS), active=True)
                       .order_by("code").values_list("code", flat=True))
    if not categories:
        raise CommandError("None of the demo categories exists: run the migrations (they load the categories).")
    return demo_cases(lon, lat, [r[2] for r in rows], now=now, count=count, categories=categories, seed=seed)


def _write_csv(path: Path, plan) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["number", "received_at", "description", "category", "channel", "lon", "lat", "crs",
                         "address", "status", "reporter_name", "reporter_phone"])
        for i in range(len(plan)):
            writer.writerow([plan.number[i], plan.received_at[i].isoformat(), plan.description[i], plan.category[i],
                             plan.channel[i], repr(float(plan.lon[i])), repr(float(plan.lat[i])), plan.crs[i],
                             plan.address[i], plan.status[i], plan.reporter_name[i], plan.reporter_phone[i]])
    return path


def _stage_plan(cursor, plan) -> None:
    columns = ["number", *STEPS, "rated", "voided", "satisfaction"]
    cursor.execute("DROP TABLE IF EXISTS _demo_plan")
    cursor.execute("CREATE TEMP TABLE _demo_plan (number text PRIMARY KEY, "
                   + ", ".join(f"{c} timestamptz" for c in columns[1:-1]) + ", satisfaction text) ON COMMIT DROP")
    with cursor.copy(sql.SQL("COPY _demo_plan ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)))) as copy:
        for i in range(len(plan)):
            copy.write_row([plan.number[i], *(plan.steps[s][i] for s in STEPS), plan.rated_at[i], plan.voided_at[i],
                            plan.satisfaction[i]])


def _apply_plan(cursor, now: dt.datetime) -> None:
    """The plan's times on the cases; the handler is whoever answers for the case (its grid's worker, else the
    community's staff member); overdue as the sweep would have it; a third of the overdue open cases supervised."""
    cursor.execute(f"""
        UPDATE cases_case c SET
          registered_at = p.registered, dispatched_at = p.dispatched, accepted_at = p.accepted,
          handled_at = p.handled, closed_at = p.closed, rated_at = p.rated, satisfaction = p.satisfaction,
          handler_id = CASE WHEN p.accepted IS NOT NULL
                            THEN coalesce((SELECT w.user_id FROM workforce_gridworker w WHERE w.id = c.assignee_id),
                                          c.assignee_staff_id) END,
          closed_on_time = CASE WHEN p.closed IS NOT NULL THEN p.closed <= c.deadline END,
          overdue = c.status <> 'voided' AND c.deadline < coalesce(p.closed, %(now)s)
        FROM _demo_plan p WHERE p.number = c.number AND {DEMO}
    """, {"now": now})  # noqa: S608 (constants only)
    cursor.execute(f"""
        UPDATE cases_case c SET supervised = true, supervision_note = %(note)s
        WHERE {DEMO} AND c.overdue AND c.status NOT IN {CLOSED_OR_VOIDED}
          AND ('x' || substr(md5(c.number), 1, 4))::bit(16)::int %% 3 = 0
    """, {"note": SUPERVISION_NOTE})  # noqa: S608


def _write_timeline(cursor) -> int:
    """One entry per step taken (receive first), by the command centre or the handler."""
    cursor.execute("SELECT min(user_id) FROM workforce_staffrole WHERE role = %s",
                   [StaffRole.Role.COMMAND_CENTRE.value])
    (centre,) = cursor.fetchone()
    cursor.execute(f"""
        INSERT INTO cases_caseevent (case_id, action, from_status, to_status, actor_id, at, note, data)
        SELECT c.id, 'receive', '', 'received', NULL, c.received_at, '',
               jsonb_build_object('channel', c.channel, 'assignment_rule', c.assignment_rule)
        FROM cases_case c WHERE {DEMO}
    """)  # noqa: S608
    written = cursor.rowcount
    for action, source, target, column, who in EVENTS:
        actor = "c.handler_id" if who == "handler" else "%(centre)s"
        data = {"rate": "jsonb_build_object('satisfaction', p.satisfaction)",
                "verify": "jsonb_build_object('passed', true)",
                "close": "jsonb_build_object('on_time', c.closed_on_time)",
                "dispatch": "jsonb_build_object('tier', c.tier, 'manual', false)"}.get(action, "'{}'::jsonb")
        cursor.execute(f"""
            INSERT INTO cases_caseevent (case_id, action, from_status, to_status, actor_id, at, note, data)
            SELECT c.id, %(action)s, %(source)s, %(target)s, {actor}, p.{column}, '', {data}
            FROM cases_case c JOIN _demo_plan p ON p.number = c.number WHERE {DEMO} AND p.{column} IS NOT NULL
        """, {"action": action, "source": source, "target": target, "centre": centre})  # noqa: S608
        written += cursor.rowcount
    cursor.execute(f"""
        INSERT INTO cases_caseevent (case_id, action, from_status, to_status, actor_id, at, note, data)
        SELECT c.id, 'supervise', c.status, c.status, %(centre)s,
               greatest(c.deadline, c.received_at) + interval '1 hour', c.supervision_note, '{{}}'::jsonb
        FROM cases_case c WHERE {DEMO} AND c.supervised
    """, {"centre": centre})  # noqa: S608
    return written + cursor.rowcount


def _delete_demo_cases() -> int:
    """Deletes the demo cases and every row pointing at them (timeline, photos, departments, …); links from
    other cases are cleared. The timeline's append-only guard is lifted for this transaction's deletes only."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.id FROM cases_case c WHERE {DEMO.replace('%%', '%')}")  # noqa: S608
        ids = [i for (i,) in cursor.fetchall()]
        if not ids:
            return 0
        cursor.execute("""
            SELECT cl.relname, a.attname FROM pg_constraint k
            JOIN pg_class cl ON cl.oid = k.conrelid
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            WHERE k.contype = 'f' AND k.confrelid = 'cases_case'::regclass
        """)
        referencing = cursor.fetchall()
        # Checks deferred earlier in the transaction must run first: ALTER TABLE refuses while they wait.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE cases_caseevent DISABLE TRIGGER cases_caseevent_append_only")
        try:
            for table, column in referencing:
                if table == "cases_case":
                    statement = "UPDATE {t} SET {c} = NULL WHERE {c} = ANY(%s)"
                else:
                    statement = "DELETE FROM {t} WHERE {c} = ANY(%s)"
                cursor.execute(sql.SQL(statement).format(t=sql.Identifier(table), c=sql.Identifier(column)), [ids])
        finally:
            cursor.execute("ALTER TABLE cases_caseevent ENABLE TRIGGER cases_caseevent_append_only")
        cursor.execute("DELETE FROM cases_case WHERE id = ANY(%s)", [ids])
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's (its foreign keys are initially deferred)
    return len(ids)
