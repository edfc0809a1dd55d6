"""Reading case events from the table, the one source of truth, for the listener (async, psycopg) and for
replays (sync, Django): one column list, one row shape, one JSON message."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils import timezone

from gridgis.cases.selectors import cases_for

from .position import Snapshot

# The description is cut to 200 characters: enough for a ticker line; the full text is one click away.
COLUMNS = """
    e.id, e.action, e.from_status, e.to_status, e.at,
    c.id, c.number, c.status, c.territory_code, ST_X(c.location), ST_Y(c.location),
    cat.code, cat.name, g.code,
    COALESCE(w.name, NULLIF(btrim(u.last_name || u.first_name), ''), u.username),
    c.deadline, c.overdue, c.supervised, left(c.description, 200),
    c.created_by_id, c.handler_id, w.user_id,
    ARRAY(SELECT d.department_id FROM cases_casedepartment d WHERE d.case_id = c.id)
"""

SOURCE = """
    FROM cases_caseevent e
    JOIN cases_case c ON c.id = e.case_id
    LEFT JOIN cases_category cat ON cat.id = c.category_id
    LEFT JOIN territory_grid g ON g.id = c.grid_id
    LEFT JOIN workforce_gridworker w ON w.id = c.assignee_id
    LEFT JOIN auth_user u ON u.id = c.assignee_staff_id
"""

# One statement, so the rows and the snapshot numbers come from the same snapshot (see position.py).
NEW_EVENTS = f"""
SELECT s.xmin, s.xmax, ev.*
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
             pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax) s
LEFT JOIN LATERAL (
    SELECT {COLUMNS} {SOURCE}
    WHERE e.id > %s OR e.id = ANY(%s::bigint[])
    ORDER BY e.id LIMIT %s
) ev ON true
"""  # noqa: S608 -- constant SQL, values are parameters

START = """
WITH t AS (SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('cases_caseevent', 'id')), 0) AS top)
SELECT t.top, ARRAY(SELECT id FROM cases_caseevent WHERE id > t.top - %s AND id <= t.top) FROM t
"""

SNAPSHOT = """SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                     pg_snapshot_xmax(pg_current_snapshot())::text::bigint"""


@dataclass(frozen=True, slots=True)
class Audience:
    """What decides who may see a case (see scope.py): where it is filed and who it belongs to."""

    territory_code: str
    user_ids: frozenset[int]  # who took it in, who accepted it, the assigned grid worker's login
    department_ids: frozenset[int]  # lead and co-handling departments


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A case event ready to send: who may see it, and its SSE message without the id line."""

    id: int
    audience: Audience
    message: str

    @classmethod
    def from_row(cls, row) -> LiveEvent:
        (event_id, action, from_status, to_status, at, case_id, number, status, territory_code, lon, lat,
         category, category_name, grid, assignee, deadline, overdue, supervised, description,
         *people, departments) = row
        payload = {
            "event_id": event_id, "action": action, "from_status": from_status, "to_status": to_status,
            "at": _iso(at), "case_id": case_id, "number": number, "status": status,
            "territory_code": territory_code, "lon": lon, "lat": lat, "category": category,
            "category_name": category_name, "grid": grid, "assignee": assignee, "deadline": _iso(deadline),
            "overdue": overdue, "supervised": supervised, "description": description,
        }
        # json.dumps escapes CR/LF, so no text can break out of the data line into SSE fields.
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        audience = Audience(territory_code, frozenset(p for p in people if p is not None), frozenset(departments))
        return cls(event_id, audience, f"event: case\ndata: {data}\n")

    def sse(self, cursor: int) -> str:
        return f"id: {cursor}\n{self.message}\n"


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


async def read_start(conn, *, scan: int) -> tuple[int, list[int], Snapshot]:
    """The sequence's last value, the ids visible in the `scan` below it, then a snapshot taken after both
    (its xmax bounds every transaction that could hold one of the missing ids)."""
    cursor = await conn.execute(START, [scan])
    top, present = await cursor.fetchone()
    cursor = await conn.execute(SNAPSHOT)
    return top, present, Snapshot(*await cursor.fetchone())


async def read_new(conn, *, after: int, gaps: list[int], limit: int) -> tuple[list[LiveEvent], Snapshot]:
    cursor = await conn.execute(NEW_EVENTS, [after, gaps, limit])
    rows = await cursor.fetchall()
    snapshot = Snapshot(rows[0][0], rows[0][1])
    events = sorted((LiveEvent.from_row(row[2:]) for row in rows if row[2] is not None), key=lambda e: e.id)
    return events, snapshot


def replay(user, *, after: int, limit: int) -> tuple[list[LiveEvent], bool]:
    """The newest `limit` events after `after` on cases the user may see (through cases_for, the scope
    function), oldest first, and whether older ones were left out."""
    try:
        scope_sql, scope_params = cases_for(user).order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return [], False
    sql = f"SELECT {COLUMNS} {SOURCE} WHERE e.id > %s AND e.case_id IN ({scope_sql}) ORDER BY e.id DESC LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, *scope_params, limit + 1])
        rows = cursor.fetchall()
    return [LiveEvent.from_row(row) for row in reversed(rows[:limit])], len(rows) > limit
