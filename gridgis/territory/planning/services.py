"""Writes of the planner: preview (nothing written), commit and restore (a new version, in one transaction).

Concurrency is optimistic: the client sends the version it edited; commit locks the community row
(SELECT … FOR UPDATE), so two commits on one community run one after the other, and the second, finding the
version moved on, gets Stale (409) with what changed. Any error rolls everything back.
"""

from __future__ import annotations

import json
from functools import partial

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from geodata.gridedit import EditError, restore
from gridgis.cases.models import Case, CaseEvent
from gridgis.live.territory import CHANNEL  # the live hub relays it to the wall maps and phones
from gridgis.workforce.models import GridAssignment

from ..models import Building, CommunityVersion, Grid, GridChangeNotice, GridVersion
from . import edits
from .impact import Impact, impact, new_grid_name
from .selectors import State, changes_since, community_for, current_version, load_state


class Stale(Exception):
    """The edit was made on an old version."""

    def __init__(self, current: int, changes: list[dict]):
        super().__init__(f"current version is {current}")
        self.current = current
        self.changes = changes


def _check_version(community, version) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise EditError("version", "必须是整数（GET plan 返回的 version）")
    current = current_version(community)
    if version != current:
        raise Stale(current, changes_since(community, version))


def _run(community, edit, *, final: bool) -> tuple[State, Impact]:
    """The edit on the part of the community it works on; if it reached further (e.g. a building it kept whole
    was cut by a neighbour's far border), again with the grids it reached read too; failing that, on all of it.
    Only a final (commit) run asks geodata.coverage for its second opinion."""
    state = load_state(community, near=edits.area(edit))
    for wider in ("reached", "all"):
        state.engine.check_coverage = final
        outcome = edits.run(state, edit, new_code=edits.next_codes(community))
        touched = outcome.changed | set(outcome.retired)
        if state.covers(touched):
            break
        state = (load_state(community, codes=state.loaded | touched) if wider == "reached"
                 else load_state(community))
    else:
        state.engine.check_coverage = final
        outcome = edits.run(state, edit, new_code=edits.next_codes(community))
    return state, impact(state, outcome)


def preview(*, user, code: str, version, edit, community=None) -> dict:
    """What `edit` would do; {op: "restore", to_version} previews a restore. `community`: the one `code` names,
    when the caller has already looked it up for `user`."""
    community = community or community_for(user, code)
    _check_version(community, version)
    if isinstance(edit, dict) and edit.get("op") == "restore":
        _, result, _ = _restoring(community, version, edit.get("to_version"), final=False)
    else:
        _, result = _run(community, edit, final=False)
    return {"version": version, **result.body}


@transaction.atomic
def commit(*, user, code: str, version, edit, reason: str) -> dict:
    community = community_for(user, code, lock=True)
    _check_version(community, version)
    state, result = _run(community, edit, final=True)
    return _write(state, result, user=user, version=version, edit=edit, reason=reason,
                  summary=_summary(edit, result))


@transaction.atomic
def restore_version(*, user, code: str, version, to_version, reason: str) -> dict:
    community = community_for(user, code, lock=True)
    _check_version(community, version)
    state, result, names = _restoring(community, version, to_version, final=True)
    return _write(state, result, user=user, version=version, edit={"op": "restore", "to_version": to_version},
                  reason=reason, summary=f"恢复到第 {to_version} 版", names=names)


def _restoring(community, version: int, to_version, *, final: bool) -> tuple[State, Impact, dict]:
    """Version `to_version` brought back over the current one (what a restore would do)."""
    if isinstance(to_version, bool) or not isinstance(to_version, int):
        raise EditError("to_version", "必须是整数")
    if to_version == version or (to_version == 1 and not CommunityVersion.objects.filter(
            community=community).exists()):
        raise EditError("to_version", "已经是当前版本")
    rows = GridVersion.objects.filter(version__community=community, version__version=to_version)
    grids = {r.code: shapely.from_wkb(bytes(r.geom.wkb)) for r in rows}
    if not grids:
        raise EditError("to_version", f"没有第 {to_version} 版")
    state = load_state(community)
    state.engine.check_coverage = final
    names = dict(rows.values_list("code", "name"))
    return state, impact(state, restore(state.engine, grids), names=names), names


# --- writing a version ------------------------------------------------------------------------------


def _multipolygon(geom) -> GEOSGeometry:
    parts = list(shapely.get_parts(geom)) if geom.geom_type == "MultiPolygon" else [geom]
    return GEOSGeometry(memoryview(shapely.to_wkb(shapely.MultiPolygon(parts))), srid=4326)


def _wkb(geom) -> bytes:
    parts = list(shapely.get_parts(geom)) if geom.geom_type == "MultiPolygon" else [geom]
    return shapely.to_wkb(shapely.MultiPolygon(parts))


def _snapshot(version: CommunityVersion) -> None:
    """The community's current grids, copied into the version (one INSERT … SELECT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO territory_gridversion (version_id, code, name, households, population, geom)
               SELECT %s, code, name, households, population, geom FROM territory_grid
               WHERE community_id = %s AND retired_at IS NULL""",
            [version.pk, version.community_id])


def _baseline(state: State) -> None:
    """Version 1, the layout before the first commit, so that it can be restored."""
    community = state.community
    if CommunityVersion.objects.filter(community=community).exists():
        return
    since = max((g.updated_at for g in state.grids.values()), default=timezone.now())
    first = CommunityVersion.objects.create(community=community, version=1, effective_from=since,
                                            summary="导入的网格划分", grids=sorted(state.grids))
    _snapshot(first)


def _write(state: State, result: Impact, *, user, version: int, edit, reason: str, summary: str,
           names: dict | None = None) -> dict:
    now = timezone.now()
    outcome, community = result.outcome, state.community
    _baseline(state)
    grids = _update_grids(state, result, now, names or {})
    _move_assignments(state, result, grids)
    _move_buildings(state, outcome, grids)
    _recount(grids, sorted(outcome.changed))
    new_version = CommunityVersion.objects.create(
        community=community, version=version + 1, effective_from=now, created_by=user, reason=reason,
        summary=summary, edit=edit, grids=sorted(outcome.changed | set(outcome.retired)), impact=result.body["impact"])
    _snapshot(new_version)
    _move_cases(state, result, grids, new_version, user)
    _notify_workers(result, new_version, summary)
    payload = json.dumps({"community": community.code, "version": new_version.version})
    transaction.on_commit(partial(_pg_notify, payload), robust=True)
    return {"version": new_version.version, **result.body}


def _update_grids(state: State, result: Impact, now, names: dict) -> dict[str, Grid]:
    outcome = result.outcome
    grids = dict(state.grids)
    reshaped = sorted(outcome.changed - set(outcome.new))
    if reshaped:  # one statement for all of them
        with connection.cursor() as cursor:
            cursor.execute("""UPDATE territory_grid g SET geom = ST_GeomFromWKB(v.wkb, 4326), updated_at = %s
                              FROM unnest(%s::bigint[], %s::bytea[]) AS v(id, wkb) WHERE g.id = v.id""",
                           [now, [grids[k].pk for k in reshaped], [_wkb(outcome.grids[k]) for k in reshaped]])
        for code in reshaped:
            grids[code].updated_at = now  # the instance's geom is stale from here (nothing below reads it)
    for code in outcome.new:
        grid = Grid.all_objects.filter(code=code).first()  # a restore brings a retired grid back
        if grid is None:
            grid = Grid(code=code, community=state.community,
                        name=names.get(code) or new_grid_name(state.community, code))
        grid.geom, grid.retired_at = _multipolygon(outcome.grids[code]), None
        grid.save()
        grids[code] = grid
    for code in outcome.retired:
        grids[code].retired_at = now
        grids[code].save(update_fields=["retired_at", "updated_at"])
    return grids


def _move_assignments(state: State, result: Impact, grids: dict[str, Grid]) -> None:
    for code, source in result.predecessor.items():
        inherited = [GridAssignment(worker_id=w["id"], grid=grids[code], role=w["role"])
                     for w in state.workers.get(source, [])]
        GridAssignment.objects.bulk_create(inherited, ignore_conflicts=True)
    for code, target_code in result.successor.items():
        for a in GridAssignment.objects.filter(grid=grids[code]):
            if GridAssignment.objects.filter(worker_id=a.worker_id, grid=grids[target_code]).exists():
                a.delete()
            else:
                a.grid, a.role = grids[target_code], GridAssignment.Role.DEPUTY
                a.save(update_fields=["grid", "role"])


def _move_buildings(state: State, outcome, grids: dict[str, Grid]) -> None:
    by_target: dict[str | None, list[int]] = {}
    for b, to in outcome.moved_buildings(state.engine):
        by_target.setdefault(to, []).append(b.id)
    for to, ids in by_target.items():
        Building.objects.filter(pk__in=ids).update(grid=grids[to] if to else None, updated_at=timezone.now())


def _recount(grids: dict[str, Grid], codes: list[str]) -> None:
    """Households and population of the changed grids, from their buildings."""
    ids = [grids[k].pk for k in codes]
    sums = Building.objects.filter(grid=OuterRef("pk")).order_by().values("grid")
    Grid.objects.filter(pk__in=ids).update(
        households=Coalesce(Subquery(sums.annotate(s=Sum("households")).values("s")), 0),
        population=Coalesce(Subquery(sums.annotate(s=Sum("population")).values("s")), 0))


def _move_cases(state: State, result: Impact, grids: dict[str, Grid], version: CommunityVersion, user) -> None:
    moved = result.body["impact"]["cases_moved"]
    if not moved:
        return
    cases = Case.objects.select_for_update(of=("self",)).in_bulk([m["id"] for m in moved])
    events = []
    for m in moved:
        case = cases[m["id"]]
        if case.status not in Case.OPEN_STATUSES:
            continue  # closed while the planner was editing: it keeps its grid
        case.grid = grids[m["to"]] if m["to"] else None
        case.territory_code = m["to"] or case.territory_code
        case.updated_at = timezone.now()  # bulk_update skips auto_now
        to = m["assignee_to"]
        if case.assignment_rule != Case.AssignmentRule.MANUAL:
            case.assignee_id = to["id"] if to and to["kind"] == "worker" else None
            case.assignee_staff_id = to["id"] if to and to["kind"] == "staff" else None
        events.append((case, CaseEvent(
            case=case, action="reassign", from_status=case.status, to_status=case.status, actor=user,
            note=f"网格调整（第 {version.version} 版）：{version.reason}"[:2000],
            data={"from_grid": m["from"], "grid": m["to"], "version": version.version,
                  "assignee_from": m["assignee_from"], "assignee_to": m["assignee_to"]})))
    # One UPDATE … FROM unnest (bulk_update's CASE WHEN per field cost more to compile than to run).
    changed = [c for c, _ in events]
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE cases_case c SET grid_id = v.grid_id, territory_code = v.territory_code,
                      assignee_id = v.assignee_id, assignee_staff_id = v.assignee_staff_id, updated_at = v.updated_at
               FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::timestamptz[])
                    AS v(id, grid_id, territory_code, assignee_id, assignee_staff_id, updated_at)
               WHERE c.id = v.id""",
            [[c.pk for c in changed], [c.grid_id for c in changed], [c.territory_code for c in changed],
             [c.assignee_id for c in changed], [c.assignee_staff_id for c in changed],
             [c.updated_at for c in changed]])
    CaseEvent.objects.bulk_create([e for _, e in events])  # each entry rings the live feed (cases/events.py)


def _notify_workers(result: Impact, version: CommunityVersion, summary: str) -> None:
    moved_to: dict[int, int] = {}
    moved_from: dict[int, int] = {}
    for m in result.body["impact"]["cases_moved"]:
        for key, tally in (("assignee_to", moved_to), ("assignee_from", moved_from)):
            if m[key] and m[key]["kind"] == "worker":
                tally[m[key]["id"]] = tally.get(m[key]["id"], 0) + 1
    notices = []
    for w in result.body["impact"]["workers_affected"]:
        extra = []
        if moved_to.get(w["id"]):
            extra.append(f"转入案件 {moved_to[w['id']]} 件")
        if moved_from.get(w["id"]):
            extra.append(f"转出案件 {moved_from[w['id']]} 件")
        message = f"网格调整（第 {version.version} 版）：{summary}；涉及网格 {'、'.join(w['grids'])}"
        message += f"；{'，'.join(extra)}" if extra else ""
        notices.append(GridChangeNotice(version=version, worker_id=w["id"], grids=w["grids"], message=message[:500]))
    GridChangeNotice.objects.bulk_create(notices)


def _pg_notify(payload: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


def _summary(edit: dict, result: Impact) -> str:
    o = result.outcome
    op = edit.get("op")
    others = sorted(o.changed - set(o.new))
    if op == "reshape":
        text = f"调整网格 {edit['grid']} 的边界"
    elif op == "split":
        text = f"拆分网格 {edit['grid']}，新增 {'、'.join(o.new)}"
    elif op == "merge":
        text = f"合并网格 {'、'.join(edit['grids'])} 为 {edit['grids'][0]}"
    elif op == "create":
        text = f"新建网格 {'、'.join(o.new)}"
    else:
        text = f"自动划分为 {len(o.grids)} 个网格"
    others = [k for k in others if k != edit.get("grid")]
    if op in ("reshape", "create") and others:
        text += f"（影响 {'、'.join(others)}）"
    if o.retired and op != "merge":
        text += f"；撤销 {'、'.join(o.retired)}"
    return text[:500]
