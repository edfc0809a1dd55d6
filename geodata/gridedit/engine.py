"""The coverage-preserving edit engine: every edit takes a community tiled by its grids and returns it tiled.

Each operation changes some grids, then `_finish` restores the invariants, in this order:
1. changed grids are clipped to the community;
2. any part of the community no grid covers goes to the grid sharing the longest border with it;
3. buildings are never split: a building cut by a changed grid's border goes whole to the grid holding most
   of it (its footprint moves with it);
4. slivers (parts of a changed grid under the minimum area or width) go to the neighbour sharing the
   longest border; a grid whose main part is under the minimum is an error, not a silent deletion;
5. geodata.coverage checks the result (no gaps, no overlaps above tolerance).
Then every building is assigned to the grid holding most of it, every open case to the grid covering it.

Pure shapely: no Django. Shapes are in WGS84 (measured with a local LAEA ruler); codes are opaque strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from .errors import EditError
from .geometry import EMPTY, Ruler, clean_outline, parts, polygonal, shared_border, union


@dataclass(frozen=True)
class Rules:
    min_area_m2: float = 1000.0
    min_width_m: float = 10.0
    tolerance_m2: float = 1.0  # coverage check: gaps/overlaps below this are noise


# Named tuples, not frozen dataclasses: a community's thousands are built per request, and a frozen
# dataclass's __init__ (object.__setattr__ per field) cost several times more.
class Building(NamedTuple):
    id: int
    geom: BaseGeometry
    households: int = 0
    population: int = 0
    grid: str | None = None


class OpenCase(NamedTuple):
    id: int
    point: BaseGeometry | None
    grid: str | None = None


@dataclass
class Community:
    outline: BaseGeometry
    grids: dict[str, BaseGeometry]
    buildings: list[Building] = field(default_factory=list)
    cases: list[OpenCase] = field(default_factory=list)
    rules: Rules = field(default_factory=Rules)
    code: str = ""
    ruler: Ruler | None = None
    # geodata.coverage as a second opinion on every result (the engine keeps the tiling by construction);
    # a preview may leave it to the commit: building its ruler costs more than the rest of a small edit.
    check_coverage: bool = True

    def __post_init__(self) -> None:
        self.ruler = self.ruler or Ruler.for_shape(self.outline)
        self._building_tree = shapely.STRtree([b.geom for b in self.buildings])
        points = [c.point if c.point is not None else shapely.Point() for c in self.cases]
        self._case_tree = shapely.STRtree(points)

    def buildings_near(self, areas: list[BaseGeometry]) -> list[Building]:
        """Buildings meeting any of `areas` (several simple shapes query faster than their union)."""
        if not areas or not self.buildings:
            return []
        _, found = self._building_tree.query(areas, predicate="intersects")
        return [self.buildings[i] for i in np.unique(found)]

    def cases_near(self, areas: list[BaseGeometry]) -> list[OpenCase]:
        if not areas or not self.cases:
            return []
        _, found = self._case_tree.query(areas, predicate="intersects")
        return [self.cases[i] for i in np.unique(found)]


@dataclass
class Outcome:
    grids: dict[str, BaseGeometry]  # every current grid after the edit
    changed: set[str]  # grids whose shape changed, new ones included
    new: list[str]
    retired: list[str]
    buildings: dict[int, str | None]  # building id → grid after, for every building looked at
    cases: dict[int, str | None]  # open case id → grid after, for every case looked at
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def moved_buildings(self, community: Community) -> list[tuple[Building, str | None]]:
        return [(b, self.buildings[b.id]) for b in community.buildings
                if b.id in self.buildings and self.buildings[b.id] != b.grid]

    def moved_cases(self, community: Community) -> list[tuple[OpenCase, str | None]]:
        return [(c, self.cases[c.id]) for c in community.cases if c.id in self.cases and self.cases[c.id] != c.grid]


NewCode = Callable[[], str]
_WGS84 = CRS.from_epsg(4326)  # parsed once (a CRS string is parsed again for every frame)


# --- operations -------------------------------------------------------------------------------------


def reshape(c: Community, code: str, geometry: BaseGeometry, *, give_to: str | None = None,
            new_code: NewCode | None = None) -> Outcome:
    """Grid `code` becomes `geometry` (clipped): it takes area from its neighbours, and each piece it gives
    up goes to `give_to` or to the neighbour sharing the longest border with that piece."""
    _known(c, [code], "grid")
    if give_to is not None:
        _known(c, [give_to], "give_to")
        if give_to == code:
            raise EditError("give_to", "不能把放弃的区域交给网格自己")
    edit = _Edit(c)
    drawn = edit.drawn(geometry, "geometry")
    old = edit.grids[code]
    for other in edit.others(drawn, code):
        edit.set(other, shapely.difference(edit.grids[other], drawn))
    edit.set(code, drawn)
    for piece in parts(shapely.difference(old, drawn)):
        if c.ruler.area(piece) < c.rules.tolerance_m2 / 10:
            continue  # floating-point crumbs along the old border
        edit.give(piece, code, give_to)
    return edit.finish("geometry")


def split(c: Community, code: str, line: BaseGeometry, *, new_code: NewCode) -> Outcome:
    """Grid `code` cut by `line` into ≥2 grids: the largest piece keeps the code, the others get new ones."""
    _known(c, [code], "grid")
    if line is None or line.is_empty or line.geom_type != "LineString":
        raise EditError("line", "必须是线（GeoJSON LineString）")
    if shapely.has_z(line):
        line = shapely.force_2d(line)
    edit = _Edit(c)
    kept, pieces = [], []
    for part in parts(edit.grids[code]):
        cut = [p for p in parts(shapely.polygonize([shapely.union_all([part.boundary, line])]))
               if part.contains(p.representative_point()) and c.ruler.area(p) >= c.rules.tolerance_m2]
        (pieces.extend(cut) if len(cut) >= 2 else kept.append(part))
    if len(pieces) < 2:
        raise EditError("line", "分割线没有穿过网格：必须从网格一侧画到另一侧，把它分成至少两块")
    for p in pieces:
        _big_enough(c, p, "line", f"分割后的一块（{c.ruler.area(p):,.0f} m²）")
    pieces.sort(key=lambda p: -c.ruler.area(p))
    # Parts of a multi-part grid the line does not cross stay with the code.
    edit.set(code, union([pieces[0], *kept]))
    for p in _north_west_first(pieces[1:]):
        edit.add(new_code(), p)
    return edit.finish("line")


def merge(c: Community, codes: list[str]) -> Outcome:
    """The grids become one, keeping the first code; the others are retired. They must form one connected
    group, each sharing a border of positive length with another."""
    if not isinstance(codes, list) or len(codes) < 2:
        raise EditError("grids", "至少选择两个网格")
    if len(set(codes)) != len(codes):
        raise EditError("grids", "网格重复")
    _known(c, codes, "grids")
    edit = _Edit(c)
    _connected(c, [edit.grids[k] for k in codes], codes)
    merged = union(edit.grids[k] for k in codes)
    edit.set(codes[0], merged)
    for k in codes[1:]:
        edit.retire(k)
    return edit.finish("grids")


def create(c: Community, geometry: BaseGeometry, *, new_code: NewCode) -> Outcome:
    """A new grid where `geometry` lies (clipped), taking the area from the grids there (or a gap)."""
    edit = _Edit(c)
    drawn = edit.drawn(geometry, "geometry")
    for other in edit.others(drawn, None):
        edit.set(other, shapely.difference(edit.grids[other], drawn))
    edit.add(new_code(), drawn)
    return edit.finish("geometry")


def replace(c: Community, pieces: list[BaseGeometry], *, new_code: NewCode, field_name: str = "n") -> Outcome:
    """All grids replaced by `pieces` (an auto-partition). Each old code stays with the piece it overlaps
    most (one piece per code, largest overlaps first); old grids left without a piece are retired."""
    edit = _Edit(c)
    pieces = [polygonal(shapely.intersection(p, c.outline)) for p in pieces]
    pieces = [p for p in pieces if not p.is_empty]
    if not pieces:
        raise EditError(field_name, "划分结果为空")
    overlaps = []
    for i, p in enumerate(pieces):
        for code in edit.others(p, None):
            overlaps.append((c.ruler.area(shapely.intersection(p, edit.grids[code])), code, i))
    taken_codes, taken_pieces = set(), set()
    keeps: dict[int, str] = {}
    for _area, code, i in sorted(overlaps, key=lambda t: (-t[0], t[1])):
        if code not in taken_codes and i not in taken_pieces:
            keeps[i] = code
            taken_codes.add(code)
            taken_pieces.add(i)
    for code in sorted(set(edit.grids) - taken_codes):
        edit.retire(code)
    for i, code in keeps.items():
        edit.set(code, pieces[i])
    rest = [pieces[i] for i in range(len(pieces)) if i not in keeps]
    for p in _north_west_first(rest):
        edit.add(new_code(), p)
    return edit.finish(field_name)


def restore(c: Community, grids: dict[str, BaseGeometry], *, field_name: str = "to_version") -> Outcome:
    """The grids become `grids` (an earlier version): missing ones retired, absent ones back under their code."""
    edit = _Edit(c)
    for code in sorted(set(edit.grids) - set(grids)):
        edit.retire(code)
    for code in sorted(grids):
        if code not in edit.grids:
            edit.add(code, grids[code])
        elif not grids[code].equals(edit.grids[code]):
            edit.set(code, grids[code])
    return edit.finish(field_name)


# --- the working state ------------------------------------------------------------------------------


class _Edit:
    def __init__(self, c: Community):
        self.c = c
        self.grids = dict(c.grids)
        self.changed: set[str] = set()
        self.new: list[str] = []
        self.retired: list[str] = []
        self.repairs: list[str] = []
        self.warnings: list[str] = []

    def drawn(self, geometry: BaseGeometry | None, field_name: str) -> BaseGeometry:
        cleaned = clean_outline(geometry, field_name, self.c.ruler)
        if cleaned.repair:
            self.repairs.append(cleaned.repair)
        inside = polygonal(shapely.intersection(cleaned.geom, self.c.outline))
        if inside.is_empty or self.c.ruler.area(inside) < self.c.rules.tolerance_m2:
            raise EditError(field_name, "轮廓完全在社区范围之外")
        outside = self.c.ruler.area(cleaned.geom) - self.c.ruler.area(inside)
        if outside > self.c.rules.tolerance_m2:
            self.warnings.append(f"轮廓超出社区边界的 {outside:,.0f} m² 已裁去")
        return inside

    def others(self, area: BaseGeometry, code: str | None) -> list[str]:
        # Interiors meeting: a grid merely touching `area` along a border is not affected by it.
        return [k for k, g in self.grids.items() if k != code and g.intersects(area) and not g.touches(area)]

    def set(self, code: str, geom: BaseGeometry) -> None:
        geom = polygonal(geom)
        if code in self.grids and code not in self.changed and geom.equals(self.grids[code]):
            return  # the same shape (vertices perhaps in another order): unchanged
        self.grids[code] = geom
        self.changed.add(code)

    def add(self, code: str, geom: BaseGeometry) -> None:
        self.set(code, geom)
        self.new.append(code)

    def retire(self, code: str) -> None:
        del self.grids[code]
        self.changed.discard(code)
        self.retired.append(code)

    def neighbour(self, piece: BaseGeometry, exclude: Iterable[str] = ()) -> str | None:
        """The grid sharing the longest border with `piece` (lowest code on a tie)."""
        skip = set(exclude)
        best, best_length = None, 0.0
        for code in sorted(self.grids):
            if code in skip:
                continue
            length = shared_border(piece, self.grids[code], self.c.ruler)
            if length > best_length + 1e-9:
                best, best_length = code, length
        return best

    def give(self, piece: BaseGeometry, giver: str, give_to: str | None) -> None:
        if give_to is not None:
            if shared_border(piece, self.grids[give_to], self.c.ruler) <= 0:
                area = self.c.ruler.area(piece)
                raise EditError("give_to", f"网格 {give_to} 与放弃的一块区域（{area:,.0f} m²）不相邻")
            target = give_to
        else:
            target = self.neighbour(piece, exclude=[giver])
        if target is None:
            area = self.c.ruler.area(piece)
            self.warnings.append(f"放弃的一块区域（{area:,.0f} m²）没有其他相邻网格，仍归网格 {giver}")
            target = giver
        self.set(target, shapely.union(self.grids[target], piece))

    def finish(self, field_name: str) -> Outcome:
        c = self.c
        for code in sorted(self.changed):
            self.grids[code] = polygonal(shapely.intersection(self.grids[code], c.outline))
        self._fill_gaps()
        self._keep_buildings_whole()
        self._absorb_slivers(field_name)
        self._check(field_name)
        return Outcome(self.grids, set(self.changed), self.new, self.retired, *self._place(),
                       repairs=self.repairs, warnings=self.warnings)

    def _fill_gaps(self) -> None:
        c = self.c
        # Only where the edit worked: a gap elsewhere is older than this edit (the coverage check warns of it).
        region = union([c.grids[k] for k in self.changed | set(self.retired) if k in c.grids]
                       + [self.grids[k] for k in self.changed])
        region = polygonal(shapely.intersection(c.outline, region))
        beside = [g for g in self.grids.values() if g.intersects(region)]
        gap = polygonal(shapely.difference(region, union(beside)))
        for piece in parts(gap):
            area = c.ruler.area(piece)
            if area < c.rules.tolerance_m2:
                continue
            target = self.neighbour(piece)
            if target is None:
                self.warnings.append(f"社区内有 {area:,.0f} m² 未被任何网格覆盖")
                continue
            self.set(target, shapely.union(self.grids[target], piece))
            self.repairs.append(f"社区内 {area:,.0f} m² 的缺口并入网格 {target}")

    def _keep_buildings_whole(self) -> None:
        """A building cut by a changed border goes whole to the grid holding most of it."""
        c = self.c
        if not self.changed or not c.buildings:
            return
        borders = [line for k in sorted(self.changed) for line in shapely.get_parts(self.grids[k].boundary)]
        for b in c.buildings_near(borders):
            shares = self._shares(b.geom)
            if len(shares) < 2:
                continue
            owner = max(shares, key=lambda k: (shares[k], -_order(k)))
            footprint = polygonal(shapely.intersection(b.geom, c.outline))
            for k in shares:
                if k != owner:
                    self.set(k, shapely.difference(self.grids[k], footprint))
            self.set(owner, shapely.union(self.grids[owner], footprint))

    def _shares(self, geom: BaseGeometry) -> dict[str, float]:
        # Degree areas compare fine within one building (same place, same scale factor).
        found = {}
        for k, g in self.grids.items():
            if g.intersects(geom):
                share = shapely.area(shapely.intersection(g, geom))
                if share > 0:
                    found[k] = float(share)
        total = shapely.area(geom) or 1.0
        return {k: s for k, s in found.items() if s / total > 1e-6}

    def _absorb_slivers(self, field_name: str) -> None:
        c = self.c
        for code in sorted(self.changed):
            if code not in self.grids:
                continue
            found = parts(self.grids[code])
            if not found:
                raise EditError(field_name, f"编辑后网格 {code} 将为空")
            areas = [c.ruler.area(p) for p in found]
            main = int(np.argmax(areas))
            _big_enough(c, found[main], field_name, f"编辑后网格 {code}", areas[main])
            kept = [found[main]]
            for i, p in enumerate(found):
                if i == main:
                    continue
                if areas[i] < c.rules.min_area_m2 or c.ruler.narrower_than(p, c.rules.min_width_m):
                    target = self.neighbour(p, exclude=[code])
                    if target is not None:
                        self.set(target, shapely.union(self.grids[target], p))
                        if areas[i] >= c.rules.tolerance_m2:
                            self.repairs.append(f"网格 {code} 的碎片（{areas[i]:,.1f} m²）并入网格 {target}")
                        continue
                kept.append(p)
            if len(kept) > 1:
                self.warnings.append(f"网格 {code} 由 {len(kept)} 块不相连的区域组成")
            self.grids[code] = polygonal(shapely.union_all(kept)) if len(kept) > 1 else kept[0]

    def _check(self, field_name: str) -> None:
        """geodata.coverage on the result; problems touching the changed grids are errors."""
        c = self.c
        if c.ruler.metric or not c.check_coverage:
            return
        from geodata.coverage import check_coverage

        codes = sorted(self.grids)
        communities = gpd.GeoDataFrame({"code": [c.code or "c"]}, geometry=[c.outline], crs=_WGS84)
        grids = gpd.GeoDataFrame({"code": codes, "community_code": [c.code or "c"] * len(codes)},
                                 geometry=[self.grids[k] for k in codes], crs=_WGS84)
        report = check_coverage(communities, grids, tolerance_m2=c.rules.tolerance_m2)
        for problem in report.problems:
            if (problem.kind == "gap" and not problem.codes) or set(problem.codes) & self.changed:
                raise EditError(field_name, f"编辑结果未通过覆盖检查：{problem.detail}",
                                spot=problem.geometry.representative_point())
            self.warnings.append(f"原有问题：{problem.detail}")

    def _place(self) -> tuple[dict[int, str | None], dict[int, str | None]]:
        """Buildings and open cases in (or registered to) the changed or retired grids, placed again: a building
        goes to the grid holding most of it, a case to the grid covering it (lowest code on a shared border, as
        cases.assignment does)."""
        c = self.c
        areas = ([p for k in self.changed | set(self.retired) if k in c.grids for p in parts(c.grids[k])]
                 + [p for k in self.changed for p in parts(self.grids[k])])
        touched = self.changed | set(self.retired)
        buildings = {b.id: b for b in c.buildings_near(areas)}
        buildings.update({b.id: b for b in c.buildings if b.grid in touched})
        cases = {x.id: x for x in c.cases_near(areas)}
        cases.update({x.id: x for x in c.cases if x.grid in touched})
        codes = sorted(self.grids)
        geoms = np.array([self.grids[k] for k in codes], dtype=object)
        tree = shapely.STRtree(geoms)
        return self._building_grids(list(buildings.values()), tree, codes, geoms), \
            self._case_grids(list(cases.values()), tree, codes)

    def _building_grids(self, buildings: list[Building], tree, codes, geoms) -> dict[int, str | None]:
        found = {b.id: (b.grid if b.grid in self.grids else None) for b in buildings}
        if not buildings:
            return found
        shapes = np.empty(len(buildings), dtype=object)
        shapes[:] = [b.geom for b in buildings]
        b_idx, g_idx = tree.query(shapes, predicate="intersects")
        # A building meeting one grid only is in it; shares are measured only where borders cross buildings.
        several = np.bincount(b_idx, minlength=len(buildings))[b_idx] > 1
        shares = np.ones(len(b_idx))
        shares[several] = shapely.area(shapely.intersection(shapes[b_idx[several]], geoms[g_idx[several]]))
        best: dict[int, tuple[float, str]] = {}
        for i, j, share in zip(b_idx, g_idx, shares, strict=True):
            if share <= 0:
                continue
            key = (-share, codes[j])
            if i not in best or key < best[i]:
                best[i] = key
        for i, (_, code) in best.items():
            found[buildings[i].id] = code
        return found

    def _case_grids(self, cases: list[OpenCase], tree, codes) -> dict[int, str | None]:
        found = {}
        located = [x for x in cases if x.point is not None and not x.point.is_empty]
        for x in cases:
            found[x.id] = x.grid if x.grid in self.grids else None
        if not located:
            return found
        points = np.array([x.point for x in located], dtype=object)
        p_idx, g_idx = tree.query(points, predicate="covered_by")
        covering: dict[int, str] = {}
        for i, j in zip(p_idx, g_idx, strict=True):
            if i not in covering or codes[j] < covering[i]:
                covering[i] = codes[j]
        for i, x in enumerate(located):
            if i in covering:
                found[x.id] = covering[i]
            elif found[x.id] is None:  # outside every grid and its own grid gone: the nearest one
                nearest = tree.nearest(x.point)
                found[x.id] = codes[int(nearest)] if nearest is not None else None
        return found


# --- checks -----------------------------------------------------------------------------------------


def _known(c: Community, codes: list[str], field_name: str) -> None:
    if not all(isinstance(k, str) for k in codes):
        raise EditError(field_name, "网格编码必须是字符串")
    unknown = [k for k in codes if k not in c.grids]
    if unknown:
        raise EditError(field_name, f"本社区没有网格 {'、'.join(unknown)}")


def _big_enough(c: Community, geom: BaseGeometry, field_name: str, what: str, area: float | None = None) -> None:
    area = c.ruler.area(geom) if area is None else area
    if area < c.rules.min_area_m2:
        raise EditError(field_name, f"{what}只有 {area:,.0f} m²，小于最小面积 {c.rules.min_area_m2:,.0f} m²")
    if c.ruler.narrower_than(geom, c.rules.min_width_m):
        raise EditError(field_name, f"{what}窄于最小宽度 {c.rules.min_width_m:g} m")


def _connected(c: Community, geoms: list[BaseGeometry], codes: list[str]) -> None:
    reached, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for j in range(len(geoms)):
            if j not in reached and shared_border(geoms[i], geoms[j], c.ruler) > 0.01:
                reached.add(j)
                todo.append(j)
    if len(reached) < len(geoms):
        apart = "、".join(codes[j] for j in range(len(geoms)) if j not in reached)
        raise EditError("grids", f"网格 {apart} 与 {codes[0]} 不相邻（没有共同边界），不能合并")


def _north_west_first(pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    """Grid numbers run west→east, north→south: new codes are handed out in that order."""
    return sorted(pieces, key=lambda p: (-round(p.centroid.y, 4), p.centroid.x))


def _order(code: str) -> int:
    digits = "".join(ch for ch in code if ch.isdigit())
    return int(digits) if digits else 0


__all__ = ["EMPTY", "Building", "Community", "OpenCase", "Outcome", "Rules", "create", "merge", "replace",
           "reshape", "restore", "split"]
