"""Reads for the planner: which communities a user may plan, a community's grids, buildings and open cases
(as the edit engine wants them and as the page shows them), its versions.

Geometries leave PostGIS as WKB and become shapely in one vectorised call (see territory.selectors).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.db.models.functions import AsWKB
from django.db import connection
from django.db.models import Max, Q
from django.http import Http404

from geodata.gridedit import Building as EngineBuilding
from geodata.gridedit import Community as EngineCommunity
from geodata.gridedit import OpenCase, Rules
from gridgis.cases.models import Case
from gridgis.workforce.models import GridAssignment, StaffRole
from gridgis.workforce.selectors import EVERYTHING, in_scope

from ..models import Building, Community, CommunityVersion, Grid


def planner_prefixes(user) -> tuple[str, ...]:
    """The territory code prefixes `user` may plan: a superuser everything, a planner their scopes."""
    if not user or not user.is_authenticated or not user.is_active:
        return ()
    if user.is_superuser:
        return EVERYTHING
    return tuple(sorted(set(StaffRole.objects.filter(user=user, role=StaffRole.Role.PLANNER)
                            .values_list("scope_code", flat=True))))


def is_planner(user) -> bool:
    return bool(planner_prefixes(user))


def community_for(user, code: str, *, lock: bool = False) -> Community:
    """The community `code` if `user` may plan it (404 otherwise, as for a community that does not exist)."""
    rows = Community.objects.filter(in_scope(planner_prefixes(user), with_ancestors=False), code=code)
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = rows.select_related("street").first()
    if found is None:
        raise Http404
    return found


def rules() -> Rules:
    conf = settings.GRIDGIS
    return Rules(min_area_m2=float(conf.get("MIN_GRID_AREA_M2", 1000.0)),
                 min_width_m=float(conf.get("MIN_GRID_WIDTH_M", 10.0)),
                 tolerance_m2=float(conf.get("COVERAGE_TOLERANCE_M2", 1.0)))


def target() -> tuple[int, int]:
    low, high = settings.GRIDGIS.get("TARGET_HOUSEHOLDS", (300, 500))
    return int(low), int(high)


def current_version(community: Community) -> int:
    """The community's current version; 1 (the layout as imported) until the first commit."""
    return CommunityVersion.objects.filter(community=community).aggregate(v=Max("version"))["v"] or 1


@dataclass
class State:
    """A community as the engine sees it, plus what the preview needs to describe people and places."""

    community: Community
    engine: EngineCommunity
    grids: dict[str, Grid]  # current grids by code
    workers: dict[str, list[dict]] = field(default_factory=dict)  # grid code → [{id, name, role}], primary first
    loaded: set[str] | None = None  # grids whose buildings and open cases were read (None: all)
    open_counts: dict[str, int] = field(default_factory=dict)  # grid code → open cases

    @cached_property
    def staff(self) -> dict | None:
        """The community's first staff member (assignee of a grid without workers); read only if a case moves."""
        return community_staff(self.community)

    def covers(self, codes) -> bool:
        """Whether the buildings and cases of all `codes` (existing grids) were read."""
        return self.loaded is None or all(k in self.loaded for k in codes if k in self.grids)

    # What the preview says about the buildings and cases that move, read for those only (the engine needs no
    # addresses or assignees, and a few rows beat thousands).
    def buildings_info(self, ids) -> dict[int, dict]:
        rows = Building.objects.filter(pk__in=list(ids)).values_list("id", "code", "address") if ids else []
        return {pk: {"code": code, "address": address} for pk, code, address in rows}

    def cases_info(self, ids) -> dict[int, dict]:
        rows = (Case.objects.filter(pk__in=list(ids)).values_list(
            "id", "number", "assignee_id", "assignee__name", "assignee_staff_id", "assignment_rule") if ids else [])
        return {r[0]: {"number": r[1], "worker": {"id": r[2], "name": r[3]} if r[2] else None, "staff": r[4],
                       "rule": r[5]} for r in rows}


def _shapes(wkbs) -> list:
    return list(shapely.from_wkb([bytes(w) for w in wkbs])) if wkbs else []


# The engine's buildings: those of the `grids` read, those of the community's other grids (or of none, inside
# the community) that meet the `grids` read, the only ones an edit of those grids can move or cut. Each part
# is an index scan (grid_id, or the spatial index).
_ENGINE_BUILDINGS_SQL = """
SELECT b.id, b.households, b.population, g.code, ST_AsBinary(b.geom)
FROM territory_building b LEFT JOIN territory_grid g ON g.id = b.grid_id
WHERE b.id IN (SELECT id FROM territory_building WHERE grid_id = ANY(%(grids)s)
               UNION
               SELECT x.id FROM territory_grid f JOIN territory_building x ON ST_Intersects(x.geom, f.geom)
               WHERE f.id = ANY(%(grids)s) AND x.grid_id = ANY(%(all)s)
               UNION
               SELECT x.id FROM territory_building x, territory_community c
               WHERE c.id = %(community)s AND x.grid_id IS NULL AND ST_Intersects(x.geom, c.geom))
"""
# Open cases: plain scans of cases_case by grid, joined to nothing (with a join, PostgreSQL spent 5 ms planning
# against the table's many partial indexes, 10× running it). Grid codes are mapped in Python.
_CASES_OF_SQL = """
SELECT id, grid_id, ST_AsBinary(location) FROM cases_case WHERE grid_id = ANY(%(grids)s) AND status = ANY(%(open)s)
"""
# The engine's open cases: those of the grids read (`of`: and of retired grids), and the community's others
# lying in the grids read (the edit may move them). Two plain parts, each planned in a fraction of a ms.
_ENGINE_CASES_SQL = """
SELECT id, grid_id, ST_AsBinary(location) FROM cases_case WHERE grid_id = ANY(%(of)s) AND status = ANY(%(open)s)
UNION ALL
SELECT c.id, c.grid_id, ST_AsBinary(c.location)
FROM territory_grid f JOIN cases_case c ON ST_Intersects(c.location, f.geom)
WHERE f.id = ANY(%(grids)s) AND c.grid_id = ANY(%(all)s) AND c.status = ANY(%(open)s)
"""
_OPEN_COUNTS_SQL = """
SELECT grid_id, count(*) FROM cases_case WHERE grid_id = ANY(%(grids)s) AND status = ANY(%(open)s) GROUP BY grid_id
"""
_OPEN = [str(s) for s in Case.OPEN_STATUSES]


def open_counts(codes: dict[int, str]) -> dict[str, int]:
    """Open cases per grid, for grids given as pk → code."""
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_COUNTS_SQL, {"grids": list(codes), "open": _OPEN})
        return {codes[pk]: n for pk, n in cursor.fetchall()}


def load_state(community: Community, near=None, codes: set[str] | None = None) -> State:
    """The community for the engine. With `near` (a function of the grids' shapes by code giving the area an
    edit works on, or None) or `codes`, only the buildings and open cases of the grids meeting that area (or
    named), or lying in them, are read (enough for an edit that changes no other grid; the caller checks that:
    State.covers); without, all of them."""
    # Retired grids too: open cases may still be registered to them (the engine places them again).
    every = list(Grid.all_objects.filter(community=community).annotate(wkb=AsWKB("geom")).order_by("code"))
    grid_rows = [g for g in every if g.retired_at is None]
    grids = {g.code: g for g in grid_rows}
    grid_geoms = dict(zip(grids, _shapes([g.wkb for g in grid_rows]), strict=True))
    outline = shapely.from_wkb(bytes(community.geom.wkb))
    area = near(grid_geoms) if near is not None else None
    loaded = set(codes) & set(grids) if codes is not None else None if area is None else _meeting(grid_geoms, area)
    code_of = {g.pk: g.code for g in every}
    retired = [g.pk for g in every if g.retired_at is not None]

    if loaded is None:
        inside = Q(grid__in=grid_rows) | Q(grid__isnull=True, geom__intersects=community.geom)
        b_rows = list(Building.objects.filter(inside).annotate(wkb=AsWKB("geom"))
                      .values_list("id", "households", "population", "grid__code", "wkb"))
        with connection.cursor() as cursor:
            cursor.execute(_CASES_OF_SQL, {"grids": list(code_of), "open": _OPEN})
            c_rows = cursor.fetchall()
    else:
        read = [grids[k].pk for k in sorted(loaded)]
        params = {"grids": read, "all": [g.pk for g in grid_rows], "community": community.pk, "open": _OPEN,
                  "of": read + retired}
        with connection.cursor() as cursor:
            cursor.execute(_ENGINE_BUILDINGS_SQL, params)
            b_rows = cursor.fetchall()
            cursor.execute(_ENGINE_CASES_SQL, params)
            # Once each, though registered to a grid read and lying in one, or on the border of two.
            c_rows = list({r[0]: r for r in cursor.fetchall()}.values())
    # In id order, however read: the engine's result (down to the order of vertices) follows its input's order.
    b_rows.sort(key=lambda r: r[0])
    c_rows.sort(key=lambda r: r[0])
    b_geoms = _shapes([r[4] for r in b_rows])
    buildings = [EngineBuilding(r[0], g, r[1], r[2], r[3]) for r, g in zip(b_rows, b_geoms, strict=True)]
    points = shapely.from_wkb([bytes(r[2]) if r[2] is not None else None for r in c_rows]) if c_rows else []
    cases = [OpenCase(r[0], p, code_of[r[1]]) for r, p in zip(c_rows, points, strict=True)]

    engine = EngineCommunity(outline, grid_geoms, buildings, cases, rules=rules(), code=community.code)
    state = State(community, engine, grids, loaded=loaded)
    state.open_counts = open_counts(code_of)
    state.workers = workers_by_grid(grid_rows)
    return state


def _meeting(grid_geoms: dict, near) -> set[str]:
    """The grids meeting `near` (touching included: an edit gives the area a grid gives up to its neighbours)."""
    codes = list(grid_geoms)
    tree = shapely.STRtree([grid_geoms[k] for k in codes])
    return {codes[i] for i in tree.query(near, predicate="intersects")}


def workers_by_grid(grids: list[Grid]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {g.code: [] for g in grids}
    rows = GridAssignment.objects.filter(grid__in=grids).values_list("grid__code", "worker_id", "worker__worker_id",
                                                                     "worker__name", "role")
    for grid, pk, worker_id, name, role in rows:
        found[grid].append({"id": pk, "worker_id": worker_id, "name": name, "role": role})
    for people in found.values():
        people.sort(key=lambda w: (w["role"] != GridAssignment.Role.PRIMARY, w["worker_id"]))
    return found


def community_staff(community: Community) -> dict | None:
    user = (get_user_model().objects.filter(staff_roles__role=StaffRole.Role.COMMUNITY_STAFF,
                                            staff_roles__scope_code=community.code, is_active=True)
            .order_by("id").first())
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()} if user else None


# --- what the page shows ----------------------------------------------------------------------------


def _geojson(geom) -> dict:
    return json.loads(shapely.to_geojson(geom))


@lru_cache(maxsize=1024)
def _grid_geojson(geom) -> dict:
    """A grid's shape as GeoJSON, kept: a preview sends every grid, and most are the ones it sent last time
    (shapely geometries hash and compare by coordinates). Shared: never modify the result."""
    return _geojson(geom)


def grid_features(grids: dict, households: dict, population: dict, workers: dict, open_cases: dict,
                  names: dict) -> dict:
    features = []
    for code in sorted(grids):
        features.append({"type": "Feature", "geometry": _grid_geojson(grids[code]), "properties": {
            "code": code, "seq": int(code[-3:]), "name": names.get(code, ""),
            "households": households.get(code, 0), "population": population.get(code, 0),
            "workers": [{"id": w["id"], "name": w["name"], "role": w["role"]} for w in workers.get(code, [])],
            "open_cases": open_cases.get(code, 0)}})
    return {"type": "FeatureCollection", "features": features}


# Buildings as the page draws them, assembled by PostGIS as text (5,000 buildings: a few ms, where shapely, json
# and DRF's renderer took a second): 6 decimals (≈10 cm, enough to draw and snap to), only what the page reads.
_BUILDINGS_SQL = """
SELECT coalesce(string_agg(
    '{"type":"Feature","geometry":' || ST_AsGeoJSON(x.geom, 6) || ',"properties":{"id":' || x.id
    || ',"grid_code":' || coalesce(to_json(x.code)::text, 'null') || '}}', ',' ORDER BY x.id), '')
FROM (SELECT b.id, b.geom, g.code FROM territory_building b JOIN territory_grid g ON g.id = b.grid_id
      WHERE g.community_id = %(community)s AND g.retired_at IS NULL
      UNION ALL
      SELECT b.id, b.geom, NULL FROM territory_building b, territory_community c
      WHERE c.id = %(community)s AND b.grid_id IS NULL AND ST_Intersects(b.geom, c.geom)) x
"""


def plan(community: Community) -> str:
    """GET …/plan/ as JSON text: the community, its grids (full precision: the page edits them), its buildings
    (id, grid_code) and the target range."""
    grid_rows = list(Grid.objects.filter(community=community).annotate(wkb=AsWKB("geom")).order_by("code"))
    shapes = dict(zip((g.code for g in grid_rows), _shapes([g.wkb for g in grid_rows]), strict=True))
    open_cases = open_counts({g.pk: g.code for g in grid_rows})
    low, high = target()
    grids = grid_features(shapes, {g.code: g.households for g in grid_rows}, {g.code: g.population for g in grid_rows},
                          workers_by_grid(grid_rows), open_cases, {g.code: g.name for g in grid_rows})
    with connection.cursor() as cursor:
        cursor.execute(_BUILDINGS_SQL, {"community": community.pk})
        buildings = cursor.fetchone()[0]
    head = json.dumps({
        "community": {"code": community.code, "name": community.name,
                      "geometry": _geojson(shapely.from_wkb(bytes(community.geom.wkb)))},
        "version": current_version(community),
        "target": {"min_households": low, "max_households": high},
        "grids": grids,
    }, ensure_ascii=False, separators=(",", ":"))
    return head[:-1] + ',"buildings":{"type":"FeatureCollection","features":[' + buildings + "]}}"


def _by(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def versions(community: Community) -> list[dict]:
    """GET …/versions/: newest first; until the first commit, the imported layout as version 1."""
    rows = list(CommunityVersion.objects.filter(community=community).select_related("created_by")
                .order_by("-version"))
    if not rows:
        codes = list(Grid.objects.filter(community=community).order_by("code").values_list("code", flat=True))
        return [{"version": 1, "effective_from": None, "created_by": "", "reason": "", "summary": "导入的网格划分",
                 "grids": codes, "is_current": True}]
    return [{"version": v.version, "effective_from": v.effective_from.isoformat(), "created_by": _by(v.created_by),
             "reason": v.reason, "summary": v.summary, "grids": v.grids, "is_current": i == 0}
            for i, v in enumerate(rows)]


def changes_since(community: Community, version: int) -> list[dict]:
    """What was committed after `version` (the body of a 409)."""
    rows = (CommunityVersion.objects.filter(community=community, version__gt=version).select_related("created_by")
            .order_by("version"))
    return [{"version": v.version, "by": _by(v.created_by), "at": v.effective_from.isoformat(), "reason": v.reason,
             "summary": v.summary} for v in rows]
