"""Coverage check: the grids of a community must tile it — no gaps, no overlaps (无缝拼接).

Pure geometry (shapely 2, geopandas, pyproj), no Django: the management command, the importer and the
planner's editor all feed it GeoDataFrames in WGS84 and read back a CoverageReport.

Problems below `tolerance_m2` are floating-point and digitising noise and are ignored, piece by piece:
a gap of many sub-tolerance crumbs is no gap. A thin sliver whose area reaches the tolerance is real.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

Kind = Literal["gap", "overlap", "outside", "split_building", "invalid"]
# Report order within a community: what breaks the tiling first, then what it does to buildings.
KINDS: tuple[str, ...] = ("gap", "overlap", "outside", "split_building", "invalid")
KIND_LABELS = {
    "gap": "缺口",
    "overlap": "重叠",
    "outside": "越界",
    "split_building": "楼栋跨网格",
    "invalid": "无效几何",
}
WGS84 = "EPSG:4326"
# A gap names the grids whose boundaries it touches, so the planner knows which ones to redraw.
NEIGHBOUR_DISTANCE_M = 0.5
_EMPTY = shapely.Polygon()


@dataclass(frozen=True)
class CoverageProblem:
    """One problem. `codes` names what is involved:
    gap → the grids bordering it; overlap → the two grids; outside → the grid;
    split_building → the building, then its grids by decreasing share; invalid → the feature."""

    kind: Kind
    community_code: str
    codes: tuple[str, ...]
    area_m2: float
    geometry: BaseGeometry  # WGS84
    detail: str = ""

    def line(self) -> str:
        label = KIND_LABELS[self.kind]
        return f"社区 {self.community_code} · {label} ({self.kind}) · {self.area_m2:,.1f} m² · {self.detail}"


@dataclass
class CoverageReport:
    problems: list[CoverageProblem] = field(default_factory=list)
    communities_checked: int = 0
    grids_checked: int = 0
    buildings_checked: int = 0
    tolerance_m2: float = 1.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def sorted_problems(self) -> list[CoverageProblem]:
        return sorted(self.problems, key=lambda p: (p.community_code, KINDS.index(p.kind), p.codes))

    def lines(self) -> list[str]:
        return [p.line() for p in self.sorted_problems()]

    def counts(self) -> dict[str, int]:
        found = [p.kind for p in self.problems]
        return {kind: found.count(kind) for kind in KINDS if kind in found}

    def summary(self) -> str:
        checked = (
            f"检查 {self.communities_checked} 个社区、{self.grids_checked} 个网格、"
            f"{self.buildings_checked} 栋楼（容差 {self.tolerance_m2:g} m²）"
        )
        if self.ok:
            return f"{checked}：0 problems，网格无缝拼接。"
        kinds = "、".join(f"{KIND_LABELS[k]} {n}" for k, n in self.counts().items())
        return f"{checked}：{len(self.problems)} problems（{kinds}）。"

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        rows = [
            {
                "kind": p.kind,
                "label": KIND_LABELS[p.kind],
                "community_code": p.community_code,
                "codes": ",".join(p.codes),
                "area_m2": p.area_m2,
                "detail": p.detail,
                "geometry": p.geometry,
            }
            for p in self.sorted_problems()
        ]
        columns = ["kind", "label", "community_code", "codes", "area_m2", "detail", "geometry"]
        return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs=WGS84)


# --- projection -------------------------------------------------------------------------------------


def local_equal_area_crs(frame: gpd.GeoDataFrame) -> CRS:
    """A Lambert azimuthal equal-area projection centred on the data.

    We report areas, so the projection must preserve them: LAEA does, exactly, anywhere. The survey's
    Gauss-Krüger zones (e.g. EPSG:4550, CM 123°E for Anshan) are conformal, not equal-area — their area
    error grows away from the central meridian, and a city straddling a zone edge would need two zones.
    Centred on a city, LAEA's distance error is far below a millimetre per metre, so tolerances and
    neighbour distances in metres mean what they say."""
    lon_min, lat_min, lon_max, lat_max = frame.total_bounds if len(frame) else (0.0, 0.0, 0.0, 0.0)
    lon, lat = (lon_min + lon_max) / 2, (lat_min + lat_max) / 2
    return CRS.from_proj4(f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +ellps=WGS84 +units=m +no_defs")


def as_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in WGS84; a frame without a CRS is taken to be in WGS84 already (the storage CRS)."""
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)


@dataclass
class _Layer:
    """One layer projected to metres: codes, parent codes, geometries made valid for overlay, and why
    the invalid ones were invalid (located in WGS84, as the user's data is)."""

    codes: np.ndarray
    parents: np.ndarray
    geoms: np.ndarray
    invalid: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)


def _layer(frame: gpd.GeoDataFrame | None, parent: str | None, crs: CRS) -> _Layer:
    if frame is None:
        return _Layer(*(np.array([], dtype=object) for _ in range(3)))
    frame = as_wgs84(frame)
    codes = frame["code"].astype(str).to_numpy(dtype=object)
    parents = _parent_codes(frame, parent)
    invalid = _invalid_reasons(frame.geometry.to_numpy(dtype=object))
    layer = _Layer(codes, parents, frame.geometry.to_crs(crs).to_numpy(dtype=object), invalid)
    _repair(layer)
    return layer


def _parent_codes(frame: gpd.GeoDataFrame, parent: str | None) -> np.ndarray:
    if parent is None or parent not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[parent].fillna("").astype(str).to_numpy(dtype=object)


def _to_wgs84(problems: list[CoverageProblem], crs: CRS) -> list[CoverageProblem]:
    if not problems:
        return problems
    projected = gpd.GeoSeries([p.geometry for p in problems], crs=crs).to_crs(WGS84)
    return [replace(p, geometry=g) for p, g in zip(problems, projected, strict=True)]


# --- geometry helpers -------------------------------------------------------------------------------


def _polygons(geom: BaseGeometry | None) -> list[BaseGeometry]:
    """The polygons in a geometry, flattening multi-parts and collections (lines and points dropped)."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [poly for part in shapely.get_parts(geom) for poly in _polygons(part)]
    return []


def _significant(geom: BaseGeometry | None, tolerance_m2: float) -> list[BaseGeometry]:
    return [poly for poly in _polygons(geom) if poly.area >= tolerance_m2]


def _merge(parts: list[BaseGeometry]) -> BaseGeometry:
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _total(parts: list[BaseGeometry]) -> float:
    return float(sum(part.area for part in parts))


# --- invalid geometry -------------------------------------------------------------------------------


def _invalid_reasons(geoms: np.ndarray) -> list[tuple[int, str]]:
    empty = np.array([g is None or g.is_empty for g in geoms], dtype=bool)
    valid = np.ones(len(geoms), dtype=bool)
    valid[~empty] = shapely.is_valid(geoms[~empty])
    reasons = [(int(i), "空几何") for i in np.flatnonzero(empty)]
    reasons += [(int(i), shapely.is_valid_reason(geoms[i])) for i in np.flatnonzero(~valid)]
    return sorted(reasons)


def _repair(layer: _Layer) -> None:
    """Makes geometries usable for the other checks; invalid ones are reported separately. Some valid
    in WGS84 may turn invalid once projected (near-degenerate rings): those are repaired silently."""
    for i in np.flatnonzero(~shapely.is_valid(layer.geoms)):
        geom = layer.geoms[i]
        fixed = _polygons(shapely.make_valid(geom)) if geom is not None and not geom.is_empty else []
        layer.geoms[i] = shapely.union_all(fixed) if fixed else _EMPTY


def _invalid(layer: _Layer, noun: str, community_of) -> list[CoverageProblem]:
    return [
        CoverageProblem(
            "invalid", community_of(i), (layer.codes[i],), float(shapely.area(layer.geoms[i])),
            layer.geoms[i], f"{noun} {layer.codes[i]} 几何无效：{reason}",
        )
        for i, reason in layer.invalid
    ]


# --- gaps -------------------------------------------------------------------------------------------


def _grids_by_community(grids: _Layer) -> dict[str, np.ndarray]:
    members: dict[str, list[int]] = defaultdict(list)
    for i, code in enumerate(grids.parents):
        members[code].append(i)
    return {code: np.array(idx) for code, idx in members.items()}


def _gaps(communities: _Layer, grids: _Layer, tolerance_m2: float) -> list[CoverageProblem]:
    members = _grids_by_community(grids)
    problems = []
    for i, code in enumerate(communities.codes):
        own = members.get(code, np.array([], dtype=int))
        problems += _community_gaps(code, communities.geoms[i], grids, own, tolerance_m2)
    return problems


def _community_gaps(code, area, grids: _Layer, own: np.ndarray, tolerance_m2: float):
    covered = shapely.union_all(grids.geoms[own]) if len(own) else _EMPTY
    holes = _significant(shapely.difference(area, covered), tolerance_m2)
    if not holes:
        return []
    tree = shapely.STRtree(grids.geoms[own])
    hole_idx, grid_idx = tree.query(holes, predicate="dwithin", distance=NEIGHBOUR_DISTANCE_M)
    return [_gap(code, hole, grids.codes[own[grid_idx[hole_idx == h]]]) for h, hole in enumerate(holes)]


def _gap(community_code: str, hole: BaseGeometry, neighbours: np.ndarray) -> CoverageProblem:
    names = tuple(sorted(set(neighbours)))
    beside = f"；相邻网格 {'、'.join(names)}" if names else "；社区内没有网格"
    detail = f"社区 {community_code} 有 {hole.area:,.1f} m² 未被任何网格覆盖{beside}"
    return CoverageProblem("gap", community_code, names, float(hole.area), hole, detail)


# --- overlaps ---------------------------------------------------------------------------------------


def _overlapping_pairs(grids: _Layer) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of grids of one community whose interiors meet (touching along an edge is fine)."""
    left, right = shapely.STRtree(grids.geoms).query(grids.geoms, predicate="intersects")
    keep = (left < right) & (grids.parents[left] == grids.parents[right])
    left, right = left[keep], right[keep]
    inner = shapely.relate_pattern(grids.geoms[left], grids.geoms[right], "2********")
    return left[inner], right[inner]


def _overlaps(grids: _Layer, tolerance_m2: float) -> list[CoverageProblem]:
    left, right = _overlapping_pairs(grids)
    shared = shapely.intersection(grids.geoms[left], grids.geoms[right])
    problems = []
    for a, b, geom in zip(left, right, shared, strict=True):
        parts = _significant(geom, tolerance_m2)
        if parts:
            problems.append(_overlap(grids, a, b, parts))
    return problems


def _overlap(grids: _Layer, a: int, b: int, parts: list[BaseGeometry]) -> CoverageProblem:
    codes = tuple(sorted((grids.codes[a], grids.codes[b])))
    area = _total(parts)
    detail = f"网格 {codes[0]} 与 {codes[1]} 重叠 {area:,.1f} m²"
    return CoverageProblem("overlap", grids.parents[a], codes, area, _merge(parts), detail)


# --- grids reaching outside their community ---------------------------------------------------------


def _outside(communities: _Layer, grids: _Layer, tolerance_m2: float) -> list[CoverageProblem]:
    index = {code: i for i, code in enumerate(communities.codes)}
    owner = np.array([index.get(code, -1) for code in grids.parents], dtype=int)
    known = owner >= 0
    beyond = grids.geoms.copy()
    beyond[known] = shapely.difference(grids.geoms[known], communities.geoms[owner[known]])
    problems = []
    for i in range(len(grids)):
        parts = _significant(beyond[i], tolerance_m2)
        if parts:
            problems.append(_outside_problem(grids, i, parts, bool(known[i])))
    return problems


def _outside_problem(grids: _Layer, i: int, parts, community_known: bool) -> CoverageProblem:
    code, community, area = grids.codes[i], grids.parents[i], _total(parts)
    if community_known:
        detail = f"网格 {code} 超出社区 {community} 边界 {area:,.1f} m²"
    else:
        detail = f"网格 {code} 的所属社区 {community or '（空）'} 不在检查数据中，整个网格视为越界"
    return CoverageProblem("outside", community, (code,), area, _merge(parts), detail)


# --- buildings split between grids ------------------------------------------------------------------


def _building_grid_pairs(buildings: _Layer, grids: _Layer) -> tuple[np.ndarray, np.ndarray]:
    """(building, grid) index pairs for buildings touching more than one grid."""
    b, g = shapely.STRtree(grids.geoms).query(buildings.geoms, predicate="intersects")
    counts = np.bincount(b, minlength=len(buildings))
    several = counts[b] > 1
    return b[several], g[several]


def _split_buildings(buildings: _Layer, grids: _Layer, tolerance_m2: float) -> list[CoverageProblem]:
    b, g = _building_grid_pairs(buildings, grids)
    shares = shapely.area(shapely.intersection(buildings.geoms[b], grids.geoms[g]))
    big = shares >= tolerance_m2
    if not big.any():
        return []
    order = np.argsort(b[big], kind="stable")  # group the pairs by building
    b, g, shares = b[big][order], g[big][order], shares[big][order]
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    community_of = dict(zip(grids.codes, grids.parents, strict=True))
    return [
        _split(buildings, grids, int(b[i]), g_part, s_part, community_of)
        for i, g_part, s_part in zip(starts, np.split(g, starts[1:]), np.split(shares, starts[1:]), strict=True)
        if len(g_part) > 1
    ]


def _split(buildings: _Layer, grids: _Layer, i: int, grid_idx, shares, community_of: dict[str, str]):
    geom, code, registered = buildings.geoms[i], buildings.codes[i], buildings.parents[i]
    order = np.argsort(-shares, kind="stable")
    grid_codes = [grids.codes[j] for j in grid_idx[order]]
    total = float(shapely.area(geom)) or float(shares.sum())
    pieces = "、".join(
        f"{c} {s / total:.1%}（{s:,.1f} m²）" for c, s in zip(grid_codes, shares[order], strict=True)
    )
    detail = f"楼栋 {code} 跨 {len(grid_codes)} 个网格：{pieces}；登记网格 {registered or '（无）'}"
    community = community_of.get(registered) or community_of[grid_codes[0]]
    return CoverageProblem("split_building", community, (code, *grid_codes), total, geom, detail)


# --- the check --------------------------------------------------------------------------------------


def check_coverage(
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None = None,
    *,
    tolerance_m2: float = 1.0,
) -> CoverageReport:
    """Checks that the grids of each community tile it; see the module docstring.

    communities: `code`, geometry; grids: `code`, `community_code`, geometry;
    buildings (optional): `code`, `grid_code`, geometry. All in EPSG:4326 (other CRSs are converted)."""
    crs = local_equal_area_crs(as_wgs84(communities if len(communities) else grids))
    comm = _layer(communities, None, crs)
    grd = _layer(grids, "community_code", crs)
    bld = _layer(buildings, "grid_code", crs)
    problems = _invalid_problems(comm, grd, bld)
    problems += _gaps(comm, grd, tolerance_m2)
    problems += _overlaps(grd, tolerance_m2)
    problems += _outside(comm, grd, tolerance_m2)
    problems += _split_buildings(bld, grd, tolerance_m2)
    return CoverageReport(_to_wgs84(problems, crs), len(comm), len(grd), len(bld), tolerance_m2)


def _invalid_problems(comm: _Layer, grd: _Layer, bld: _Layer) -> list[CoverageProblem]:
    problems = _invalid(comm, "社区", lambda i: comm.codes[i])
    problems += _invalid(grd, "网格", lambda i: grd.parents[i])
    community_of = dict(zip(grd.codes, grd.parents, strict=True))
    problems += _invalid(bld, "楼栋", lambda i: community_of.get(bld.parents[i], ""))
    return problems
