"""What an edit does to people and places: households per grid before → after against the target, buildings
and open cases changing grid, who answers for each grid afterwards, the workers affected."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import shapely

from geodata.gridedit import Outcome
from gridgis.cases.models import Case
from gridgis.workforce.models import GridAssignment

from .selectors import State, grid_features, target


@dataclass
class Impact:
    outcome: Outcome
    workers_after: dict[str, list[dict]]  # grid code → workers (primary first)
    predecessor: dict[str, str]  # new grid → the old grid it overlaps most (whose workers it inherits)
    successor: dict[str, str]  # retired grid → the grid now holding most of it (its workers move there)
    body: dict  # the JSON the API answers with (grids_after, impact, repairs, warnings)


def _most_overlap(geom, candidates: dict) -> str | None:
    best, best_area = None, 0.0
    for code, other in sorted(candidates.items()):
        if other.intersects(geom):
            area = shapely.area(shapely.intersection(geom, other))
            if area > best_area:
                best, best_area = code, area
    return best


def workers_after(state: State, outcome: Outcome) -> tuple[dict, dict, dict]:
    """New grids inherit the workers of the grid they came from; a retired grid's workers join its successor
    as deputies. The planner reassigns people in the workforce admin afterwards."""
    before = state.engine.grids
    after = {code: [dict(w) for w in state.workers.get(code, [])] for code in outcome.grids}
    predecessor, successor = {}, {}
    for code in outcome.new:
        source = _most_overlap(outcome.grids[code], {k: g for k, g in before.items() if k != code})
        if source is not None:
            predecessor[code] = source
            after[code] = [dict(w) for w in state.workers.get(source, [])]
    for code in outcome.retired:
        target_code = _most_overlap(before[code], outcome.grids)
        if target_code is None:
            continue
        successor[code] = target_code
        present = {w["id"] for w in after[target_code]}
        for w in state.workers.get(code, []):
            if w["id"] not in present:
                after[target_code].append({**w, "role": GridAssignment.Role.DEPUTY.value})
    return after, predecessor, successor


def _assignee(workers: list[dict], staff: dict | None) -> dict | None:
    if workers:
        return {"id": workers[0]["id"], "name": workers[0]["name"], "kind": "worker"}
    return {"id": staff["id"], "name": staff["name"], "kind": "staff"} if staff else None


def _current_assignee(info: dict, staff: dict | None) -> dict | None:
    if info["worker"]:
        return {**info["worker"], "kind": "worker"}
    if info["staff"]:
        return {"id": info["staff"], "name": staff["name"] if staff and staff["id"] == info["staff"] else "",
                "kind": "staff"}
    return None


def impact(state: State, outcome: Outcome, *, names: dict | None = None) -> Impact:
    c = state.engine
    low, high = target()
    people, predecessor, successor = workers_after(state, outcome)

    households_before, population_before = Counter(), Counter()
    households_after, population_after = Counter(), Counter()
    moved = []
    # The engine looked at every building of the changed and retired grids and every one it may have moved:
    # the per-grid rows below need no others (untouched grids keep their stored figures).
    for b in [b for b in c.buildings if b.id in outcome.buildings]:
        households_before[b.grid] += b.households
        population_before[b.grid] += b.population
        to = outcome.buildings[b.id]
        households_after[to] += b.households
        population_after[to] += b.population
        if to != b.grid:
            moved.append((b, to))
    moved.sort(key=lambda m: m[0].id)  # the same order however the buildings were read
    described = state.buildings_info([b.id for b, _ in moved])
    moved_buildings = [{"id": b.id, "code": described[b.id]["code"], "address": described[b.id]["address"],
                        "from": b.grid, "to": to} for b, to in moved]

    open_after = Counter(state.open_counts)
    moved = [(x, outcome.cases[x.id]) for x in c.cases if x.id in outcome.cases and outcome.cases[x.id] != x.grid]
    moved.sort(key=lambda m: m[0].id)
    described = state.cases_info([x.id for x, _ in moved])
    moved_cases = []
    for x, to in moved:
        open_after[x.grid] -= 1
        open_after[to] += 1
        info = described[x.id]
        worker_from = _current_assignee(info, state.staff)
        manual = info["rule"] == Case.AssignmentRule.MANUAL
        worker_to = worker_from if manual else _assignee(people.get(to, []), state.staff)
        # worker_from/worker_to: names for the page; assignee_from/assignee_to: who exactly (worker or staff)
        moved_cases.append({"id": x.id, "number": info["number"], "from": x.grid, "to": to,
                            "worker_from": worker_from["name"] if worker_from else None,
                            "worker_to": worker_to["name"] if worker_to else None,
                            "assignee_from": worker_from, "assignee_to": worker_to})

    def in_target(n: int) -> bool:
        return low <= n <= high

    rows = []
    touched = sorted(outcome.changed | set(outcome.retired))
    for code in touched:
        status = "retired" if code in outcome.retired else "new" if code in outcome.new else "changed"
        hb, ha = households_before[code], (0 if status == "retired" else households_after[code])
        pb, pa = population_before[code], (0 if status == "retired" else population_after[code])
        rows.append({"code": code, "households_before": hb, "households_after": ha, "population_before": pb,
                     "population_after": pa, "in_target_before": status != "new" and in_target(hb),
                     "in_target_after": status != "retired" and in_target(ha), "status": status})

    affected: dict[int, dict] = {}
    worker_grids: dict[int, set[str]] = defaultdict(set)
    for code in touched:
        for w in state.workers.get(code, []) + people.get(code, []):
            affected.setdefault(w["id"], {"id": w["id"], "name": w["name"]})
            worker_grids[w["id"]].add(code)
    for case in moved_cases:
        for key, grid in (("assignee_from", case["from"]), ("assignee_to", case["to"])):
            w = case[key]
            if w and w["kind"] == "worker":
                affected.setdefault(w["id"], {"id": w["id"], "name": w["name"]})
                worker_grids[w["id"]].add(grid)
    workers = [{**w, "grids": sorted(g for g in worker_grids[w["id"]] if g)} for w in
               sorted(affected.values(), key=lambda w: w["id"])]

    names = {**(names or {}), **{k: g.name for k, g in state.grids.items()}}
    for code in outcome.new:
        names.setdefault(code, new_grid_name(state.community, code))
    # Untouched grids keep their stored figures (their buildings may not even have been read).
    shown_households = {k: g.households for k, g in state.grids.items()}
    shown_population = {k: g.population for k, g in state.grids.items()}
    for code in touched:
        shown_households[code], shown_population[code] = households_after[code], population_after[code]
    body = {
        "grids_after": grid_features(outcome.grids, shown_households, shown_population, people, open_after, names),
        "impact": {"grids": rows, "buildings_moved": moved_buildings, "cases_moved": moved_cases,
                   "workers_affected": workers},
        "repairs": list(outcome.repairs),
        "warnings": list(outcome.warnings),
    }
    return Impact(outcome, people, predecessor, successor, body)


def new_grid_name(community, code: str) -> str:
    return f"{community.name}第{int(code[-3:])}网格"
