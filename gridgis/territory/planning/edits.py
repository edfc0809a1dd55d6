"""An edit as the API receives it ({op, …}) run through the engine, with its input checked field by field."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry import shape

from geodata.gridedit import EditError, Outcome, create, merge, replace, reshape, split
from geodata.gridedit.geometry import Ruler

from ..models import Community, Grid

OPS = ("reshape", "split", "merge", "create", "partition")


def next_codes(community: Community) -> Callable[[], str]:
    """New grids take the next free 3-digit sequence, counting retired grids: a retired code never returns.
    The codes are read at the first call (most edits make no new grid)."""
    used = None

    def new_code() -> str:
        nonlocal used
        if used is None:
            codes = Grid.all_objects.filter(community=community).values_list("code", flat=True)
            used = max((int(c[-3:]) for c in codes), default=0)
        used += 1
        if used > 999:
            raise EditError("edit", "本社区的网格序号已用尽（999）")
        return f"{community.code}{used:03d}"

    return new_code


def _geometry(value, field: str, kinds: tuple[str, ...]):
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise EditError(field, f"必须是 GeoJSON {' 或 '.join(kinds)}")
    try:
        geom = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, shapely.errors.GEOSException) as exc:
        raise EditError(field, f"GeoJSON 无法解析：{exc}") from exc
    if geom.is_empty:
        raise EditError(field, "几何为空")
    xmin, ymin, xmax, ymax = geom.bounds
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise EditError(field, "坐标必须是 WGS84 经纬度")
    return geom


def _code(value, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise EditError(field, "必须是网格编码")
    return value


def area(edit):
    """Where `edit` works, as a function of the grids' shapes by code (WGS84), for load_state to read only the
    buildings and cases around it; the function gives None for everywhere (auto-partition) or input too broken
    to tell (run() then names the field)."""
    def near(grids: dict):
        if not isinstance(edit, dict):
            return None
        try:
            op = edit.get("op")
            if op in ("reshape", "split"):
                found = [grids[edit["grid"]]] if edit.get("grid") in grids else []
                if op == "reshape":
                    found.append(shape(edit["geometry"]))
                return shapely.union_all([shapely.envelope(g) for g in found]) if found else None
            if op == "merge":
                codes = [k for k in edit.get("grids") or [] if isinstance(k, str) and k in grids]
                return shapely.union_all([shapely.envelope(grids[k]) for k in codes]) if codes else None
            if op == "create":
                return shapely.envelope(shape(edit["geometry"]))
        except (ValueError, TypeError, AttributeError, IndexError, KeyError, shapely.errors.GEOSException):
            return None
        return None
    return near


def run(state, edit, *, new_code: Callable[[], str]) -> Outcome:
    """The engine's outcome for `edit` on `state` (planning.selectors.State); EditError on bad input."""
    if not isinstance(edit, dict):
        raise EditError("edit", "必须是对象 {op, …}")
    op = edit.get("op")
    if op not in OPS:
        raise EditError("op", f"必须是 {'、'.join(OPS)} 之一")
    c = state.engine
    if op == "reshape":
        give_to = edit.get("give_to")
        return reshape(c, _code(edit.get("grid"), "grid"), _geometry(edit.get("geometry"), "geometry",
                                                                      ("Polygon", "MultiPolygon")),
                       give_to=None if give_to in (None, "") else _code(give_to, "give_to"))
    if op == "split":
        return split(c, _code(edit.get("grid"), "grid"), _geometry(edit.get("line"), "line", ("LineString",)),
                     new_code=new_code)
    if op == "merge":
        codes = edit.get("grids")
        if not isinstance(codes, list) or not all(isinstance(k, str) for k in codes):
            raise EditError("grids", "必须是网格编码列表")
        return merge(c, codes)
    if op == "create":
        return create(c, _geometry(edit.get("geometry"), "geometry", ("Polygon", "MultiPolygon")), new_code=new_code)
    return partition(state, edit, new_code=new_code)


def partition(state, edit: dict, *, new_code) -> Outcome:
    try:
        from geodata import partition as auto
    except ImportError as exc:
        raise EditError("op", "自动划分暂不可用") from exc
    c = state.engine
    total = sum(b.households for b in c.buildings)
    n, per_grid = edit.get("n"), edit.get("households_per_grid")
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 200:
            raise EditError("n", "必须是 1–200 的整数")
        field = "n"
    elif per_grid is not None:
        if isinstance(per_grid, bool) or not isinstance(per_grid, int) or per_grid <= 0:
            raise EditError("households_per_grid", "必须是正整数")
        n = auto.households_per_grid_to_n(total, per_grid)
        field = "households_per_grid"
    else:
        raise EditError("n", "请给出网格数 n 或每格户数 households_per_grid")
    ruler = Ruler.for_shape(c.outline)
    outline = ruler.project(c.outline)
    footprints = np.empty(len(c.buildings), dtype=object)
    footprints[:] = [b.geom for b in c.buildings]
    footprints = ruler.project(footprints)
    buildings = [(f, b.households) for f, b in zip(footprints, c.buildings, strict=True)]
    try:
        pieces = auto.partition(outline, buildings, n)
    except ValueError as exc:  # e.g. more grids than buildings
        raise EditError(field, str(exc)) from exc
    return replace(c, [ruler.unproject(p) for p in pieces], new_code=new_code, field_name=field)
