"""Coverage check: the grids of a community must tile it — no gaps, no overlaps (无缝拼接).

Pure geometry (shapely 2, geopandas, pyproj), no Django: the management command, the importer and the
planner's editor all feed it GeoDataFrames in WGS84 and read back a CoverageReport.

Problems below `tolerance_m2` are floating-point and digitising noise and are ignored, piece by piece:
a gap of many sub-tolerance crumbs is no gap. A thin sliver whose area reaches the tolerance is real.

Overlays (union, difference, intersection) run in WGS84, the CRS the shapes were digitised and stored
in: there, an edge two polygons share is the same straight segment however each polygon's vertices
divide it. Projected vertex by vertex, a straight lon/lat segment would become a chord of a curve, and
differently divided copies of one edge would part by metres² of false gap and overlap. So only the
result pieces are projected, to an equal-area CRS, to be measured in m².
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
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
# Longest edge (~10 m) of a piece when projected to be measured: the chord-to-curve error left is
# ~1e-3 m² per km of edge.
MEASURE_STEP_DEG = 1e-4
_EMPTY = shapely.Polygon()
_POLYGON = 3  # shapely type ids
_NESTED = (4, 5, 6, 7)  # Multi{Point,LineString,Polygon}, GeometryCollection


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


# --- measuring in metres ----------------------------------------------------------------------------


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


@lru_cache(maxsize=64)
def _from_lonlat(crs: CRS) -> Transformer:
    # ~20 ms to build; the planner checks the same community (the same centred CRS) edit after edit.
    return Transformer.from_crs(WGS84, crs, always_xy=True)


class _Ruler:
    """Projects WGS84 geometries to the local equal-area CRS, all coordinates of a batch in one call.
    Only for measuring results: overlaying projected shapes is what this module must not do."""

    def __init__(self, crs: CRS):
        self._transformer = _from_lonlat(crs)

    def project(self, geoms: np.ndarray) -> np.ndarray:
        """Vertex by vertex: good for distances (a chord strays millimetres from its curve), not for
        the areas of slivers."""
        return shapely.transform(geoms, self._xy)

    def areas(self, geoms: np.ndarray) -> np.ndarray:
        # Densified first so projected edges follow the lon/lat lines they are: a piece lying along
        # a shared edge, its two sides split at different vertices, is a hair in degrees but would
        # project, vertex by vertex, to a sliver of the edge's curvature (0.7 m² along 420 m).
        # Valid shapes only (overlay results, repaired layers): segmentize buffers invalid ones.
        return shapely.area(self.project(shapely.segmentize(geoms, MEASURE_STEP_DEG)))

    def _xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(self._transformer.transform(coords[:, 0], coords[:, 1]))


@dataclass
class _Pieces:
    """The polygons of a batch of overlay results that reach the tolerance: for each, the result it
    came from (ascending), the polygon in WGS84 and its area in m²."""

    source: np.ndarray
    geoms: np.ndarray
    areas: np.ndarray

    def by_source(self):
        """(result index, its polygons, their areas), for each result with at least one piece."""
        if not len(self.source):
            return
        starts = np.flatnonzero(np.r_[True, self.source[1:] != self.source[:-1]])
        groups = zip(starts, np.split(self.geoms, starts[1:]), np.split(self.areas, starts[1:]), strict=True)
        for start, geoms, areas in groups:
            yield int(self.source[start]), geoms, areas


def _pieces(results: np.ndarray, ruler: _Ruler, tolerance_m2: float) -> _Pieces:
    """Splits results into polygons and keeps those reaching the tolerance: a gap of many
    sub-tolerance crumbs is no gap."""
    parts, source = _polygon_parts(results)
    areas = ruler.areas(parts)
    big = areas >= tolerance_m2
    return _Pieces(source[big], parts[big], areas[big])


def _polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons in each geometry, with the index of the geometry each came from. Multi-parts and
    collections are flattened; lines and points (where shapes merely touch) and empties dropped."""
    parts, source = np.asarray(geoms, dtype=object), np.arange(len(geoms))
    while np.isin(shapely.get_type_id(parts), _NESTED).any():
        parts, index = shapely.get_parts(parts, return_index=True)
        source = source[index]
    polygon = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    return parts[polygon], source[polygon]


def _merge(parts: np.ndarray) -> BaseGeometry:
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(list(parts))


# --- layers -----------------------------------------------------------------------------------------


def as_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in WGS84; a frame without a CRS is taken to be in WGS84 already (the storage CRS)."""
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)


@dataclass
class _Layer:
    """One layer in WGS84: codes, parent codes, geometries made valid for overlay, and why the invalid
    ones were invalid."""

    codes: np.ndarray
    parents: np.ndarray
    geoms: np.ndarray
    invalid: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)


def _layer(frame: gpd.GeoDataFrame | None, parent: str | None) -> _Layer:
    if frame is None:
        return _Layer(*(np.array([], dtype=object) for _ in range(3)))
    frame = as_wgs84(frame)
    codes = frame["code"].astype(str).to_numpy(dtype=object)
    parents = _parent_codes(frame, parent)
    geoms = frame.geometry.to_numpy(dtype=object).copy()  # repaired in place: not the caller's array
    layer = _Layer(codes, parents, geoms, _invalid_reasons(geoms))
    _repair(layer)
    return layer


def _parent_codes(frame: gpd.GeoDataFrame, parent: str | None) -> np.ndarray:
    if parent is None or parent not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[parent].fillna("").astype(str).to_numpy(dtype=object)


# --- invalid geometry -------------------------------------------------------------------------------


def _invalid_reasons(geoms: np.ndarray) -> list[tuple[int, str]]:
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    valid = np.ones(len(geoms), dtype=bool)
    valid[~empty] = shapely.is_valid(geoms[~empty])
    reasons = [(int(i), "空几何") for i in np.flatnonzero(empty)]
    reasons += [(int(i), shapely.is_valid_reason(geoms[i])) for i in np.flatnonzero(~valid)]
    return sorted(reasons)


def _repair(layer: _Layer) -> None:
    """Makes the invalid geometries usable for the other checks (they are reported separately)."""
    for i, _ in layer.invalid:
        geom = layer.geoms[i]
        fixed = _polygons(shapely.make_valid(geom)) if geom is not None and not geom.is_empty else []
        layer.geoms[i] = shapely.union_all(fixed) if fixed else _EMPTY


def _polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    parts, _ = _polygon_parts(np.array([geom], dtype=object))
    return list(parts)


def _invalid(layer: _Layer, noun: str, community_of, ruler: _Ruler) -> list[CoverageProblem]:
    rows = [i for i, _ in layer.invalid]
    areas = ruler.areas(layer.geoms[rows]) if rows else []
    return [
        CoverageProblem(
            "invalid", community_of(i), (layer.codes[i],), float(area), layer.geoms[i],
            f"{noun} {layer.codes[i]} 几何无效：{reason}",
        )
        for (i, reason), area in zip(layer.invalid, areas, strict=True)
    ]


# --- gaps -------------------------------------------------------------------------------------------


def _gaps(communities: _Layer, grids: _Layer, ruler: _Ruler, tolerance_m2: float) -> list[CoverageProblem]:
    covered = _covered(communities, grids)
    holes = _pieces(shapely.difference(communities.geoms, covered), ruler, tolerance_m2)
    neighbours = _neighbours(holes, communities, grids, ruler)
    return [
        _gap(communities.codes[c], hole, area, neighbours[k])
        for k, (c, hole, area) in enumerate(zip(holes.source, holes.geoms, holes.areas, strict=True))
    ]


def _covered(communities: _Layer, grids: _Layer) -> np.ndarray:
    """For each community, the union of its grids."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, code in enumerate(grids.parents):
        members[code].append(i)
    unions = [shapely.union_all(grids.geoms[members[code]]) if code in members else _EMPTY
              for code in communities.codes]
    return np.array(unions, dtype=object)


def _neighbours(holes: _Pieces, communities: _Layer, grids: _Layer, ruler: _Ruler) -> list[tuple[str, ...]]:
    """For each hole, the codes of its community's grids within NEIGHBOUR_DISTANCE_M."""
    if not len(holes.geoms):
        return []
    tree = shapely.STRtree(ruler.project(grids.geoms))
    hole_idx, grid_idx = tree.query(ruler.project(holes.geoms), predicate="dwithin",
                                    distance=NEIGHBOUR_DISTANCE_M)
    own = grids.parents[grid_idx] == communities.codes[holes.source[hole_idx]]
    found: list[set[str]] = [set() for _ in holes.geoms]
    for h, g in zip(hole_idx[own], grid_idx[own], strict=True):
        found[h].add(grids.codes[g])
    return [tuple(sorted(codes)) for codes in found]


def _gap(community_code: str, hole: BaseGeometry, area: float, names: tuple[str, ...]) -> CoverageProblem:
    beside = f"；相邻网格 {'、'.join(names)}" if names else "；社区内没有网格"
    detail = f"社区 {community_code} 有 {area:,.1f} m² 未被任何网格覆盖{beside}"
    return CoverageProblem("gap", community_code, names, float(area), hole, detail)


# --- overlaps ---------------------------------------------------------------------------------------


def _overlapping_pairs(grids: _Layer) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of grids of one community whose interiors meet (touching along an edge is fine)."""
    left, right = shapely.STRtree(grids.geoms).query(grids.geoms, predicate="intersects")
    keep = (left < right) & (grids.parents[left] == grids.parents[right])
    left, right = left[keep], right[keep]
    inner = shapely.relate_pattern(grids.geoms[left], grids.geoms[right], "2********")
    return left[inner], right[inner]


def _overlaps(grids: _Layer, ruler: _Ruler, tolerance_m2: float) -> list[CoverageProblem]:
    left, right = _overlapping_pairs(grids)
    shared = _pieces(shapely.intersection(grids.geoms[left], grids.geoms[right]), ruler, tolerance_m2)
    return [_overlap(grids, left[k], right[k], parts, areas) for k, parts, areas in shared.by_source()]


def _overlap(grids: _Layer, a: int, b: int, parts: np.ndarray, areas: np.ndarray) -> CoverageProblem:
    codes = tuple(sorted((grids.codes[a], grids.codes[b])))
    area = float(areas.sum())
    detail = f"网格 {codes[0]} 与 {codes[1]} 重叠 {area:,.1f} m²"
    return CoverageProblem("overlap", grids.parents[a], codes, area, _merge(parts), detail)


# --- grids reaching outside their community ---------------------------------------------------------


def _outside(communities: _Layer, grids: _Layer, ruler: _Ruler, tolerance_m2: float) -> list[CoverageProblem]:
    index = {code: i for i, code in enumerate(communities.codes)}
    owner = np.array([index.get(code, -1) for code in grids.parents], dtype=int)
    known = owner >= 0
    beyond = grids.geoms.copy()
    beyond[known] = shapely.difference(grids.geoms[known], communities.geoms[owner[known]])
    pieces = _pieces(beyond, ruler, tolerance_m2)
    return [_outside_problem(grids, i, parts, areas, bool(known[i])) for i, parts, areas in pieces.by_source()]


def _outside_problem(grids: _Layer, i: int, parts, areas, community_known: bool) -> CoverageProblem:
    code, community, area = grids.codes[i], grids.parents[i], float(areas.sum())
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


def _split_buildings(buildings: _Layer, grids: _Layer, ruler: _Ruler,
                     tolerance_m2: float) -> list[CoverageProblem]:
    b, g = _building_grid_pairs(buildings, grids)
    shares = ruler.areas(shapely.intersection(buildings.geoms[b], grids.geoms[g]))
    big = shares >= tolerance_m2
    groups = [group for group in _by_building(b[big], g[big], shares[big]) if len(group[1]) > 1]
    if not groups:
        return []
    totals = ruler.areas(buildings.geoms[[i for i, _, _ in groups]])
    community_of = dict(zip(grids.codes, grids.parents, strict=True))
    return [_split(buildings, grids, i, g_part, s_part, total, community_of)
            for (i, g_part, s_part), total in zip(groups, totals, strict=True)]


def _by_building(b: np.ndarray, g: np.ndarray, shares: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(building, its grids, their shares) from (building, grid) pairs."""
    if not len(b):
        return []
    order = np.argsort(b, kind="stable")
    b, g, shares = b[order], g[order], shares[order]
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    return [(int(b[i]), g_part, s_part) for i, g_part, s_part in
            zip(starts, np.split(g, starts[1:]), np.split(shares, starts[1:]), strict=True)]


def _split(buildings: _Layer, grids: _Layer, i: int, grid_idx, shares, total: float,
           community_of: dict[str, str]) -> CoverageProblem:
    geom, code, registered = buildings.geoms[i], buildings.codes[i], buildings.parents[i]
    order = np.argsort(-shares, kind="stable")
    grid_codes = [grids.codes[j] for j in grid_idx[order]]
    total = float(total) or float(shares.sum())
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
    ruler = _Ruler(local_equal_area_crs(as_wgs84(communities if len(communities) else grids)))
    comm = _layer(communities, None)
    grd = _layer(grids, "community_code")
    bld = _layer(buildings, "grid_code")
    problems = _invalid_problems(comm, grd, bld, ruler)
    problems += _gaps(comm, grd, ruler, tolerance_m2)
    problems += _overlaps(grd, ruler, tolerance_m2)
    problems += _outside(comm, grd, ruler, tolerance_m2)
    problems += _split_buildings(bld, grd, ruler, tolerance_m2)
    return CoverageReport(problems, len(comm), len(grd), len(bld), tolerance_m2)


def _invalid_problems(comm: _Layer, grd: _Layer, bld: _Layer, ruler: _Ruler) -> list[CoverageProblem]:
    problems = _invalid(comm, "社区", lambda i: comm.codes[i], ruler)
    problems += _invalid(grd, "网格", lambda i: grd.parents[i], ruler)
    community_of = dict(zip(grd.codes, grd.parents, strict=True))
    problems += _invalid(bld, "楼栋", lambda i: community_of.get(bld.parents[i], ""), ruler)
    return problems
