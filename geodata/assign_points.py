"""Which grid each of many points belongs to, in memory: the rules of gridgis.cases.assignment (which asks
PostGIS one point at a time), for millions of points a second. Pure numpy and shapely.

Rules, as assignment.place() applies them:
1. covering: the grid whose polygon covers the point, boundary included (shapely's intersects_xy is
   PostGIS's ST_Covers for a point); a point on a shared boundary goes to the grid with the lowest code.
2. nearest: a point outside every grid goes to the nearest grid within `max_distance_m` metres, measured as
   PostGIS measures a geography distance (the closest point on the grid's edges taken as great-circle arcs,
   the distance to it on the WGS84 ellipsoid); distances within TIE_M are equal, and go to the lowest
   `tie_key` (place() sorts by grid id; default: the code).
3. unassigned: everything else (and coordinates that are not finite).

How. A lattice of square cells (about `cells_across` to a grid's width) is laid over the grids once per
layout, and each cell is classified:
- inside one grid: no edge of any grid comes within EPS of the cell, and its centre lies in that grid, so
  every point of the cell does; such points are placed by one array look-up;
- boundary: an edge touches the cell; its points are tested exactly (intersects_xy) against the grids whose
  edges touch it, lowest code first, stopping at the first hit. When every edge touching the cell is shared
  by two grids, the cell has no outside, so a point found in none of the others is in the last candidate
  without a test;
- near: outside every grid but possibly within max_distance_m of one; its points get the distance search;
- far: outside every grid by more than max_distance_m (and the whole world beyond the lattice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

COVERING, NEAREST, UNASSIGNED = 0, 1, 2
RULE_NAMES = ("covering_grid", "nearest_grid", "unassigned")  # Case.AssignmentRule values, by rule number

EPS = 1e-11  # degrees (~1 µm): far above the rounding of a point's cell, far below any real feature
# Distances this close are equal: a point as near two grids (north of the corner they share) comes out
# micrometres nearer one or the other in floating point, here and in PostGIS alike; the tie key decides.
TIE_M = 1e-3
MAX_CELLS = 1 << 24
AUTO_CELLS = 1 << 19
_FAR, _NEAR = -1, -2  # cell codes; a code c >= 0 is a grid index, c <= -3 boundary cell number -3 - c
_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3
_METRES_PER_DEG_MIN = 110_574.0  # a degree of latitude at the equator: no degree is shorter


@dataclass(frozen=True)
class AssignResult:
    grid_index: np.ndarray  # int64: index into the grids given, -1 for none
    rule: np.ndarray  # int8: COVERING, NEAREST or UNASSIGNED
    distance_m: np.ndarray  # float64: 0 when covered, metres to the nearest grid, NaN when unassigned


@dataclass(frozen=True)
class Lattice:
    """Square cells (in metres) over an extent in degrees; cell (row, col) of a point by floor."""

    x0: float
    y0: float
    sx: float
    sy: float
    ncols: int
    nrows: int

    @property
    def size(self) -> int:
        return self.ncols * self.nrows

    def col(self, x: np.ndarray) -> np.ndarray:
        return np.floor((x - self.x0) / self.sx)

    def row(self, y: np.ndarray) -> np.ndarray:
        return np.floor((y - self.y0) / self.sy)

    def flat_cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell number of each point, -1 outside the lattice (or not finite)."""
        col, row = self.col(x), self.row(y)
        inside = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)  # NaN compares False
        cells = np.full(x.shape, -1, dtype=np.int64)
        cells[inside] = row[inside].astype(np.int64) * self.ncols + col[inside].astype(np.int64)
        return cells


@dataclass(frozen=True)
class Edges:
    """Every edge of every ring, grouped by grid (`start[k]:start[k + 1]` are grid k's)."""

    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray
    owner: np.ndarray
    start: np.ndarray


class PointAssigner:
    """Built once per grid layout (a fraction of a second for 20,000 grids), then `assign` any number of
    points. `grid_geoms` are shapely (Multi)Polygons in WGS84 degrees, valid; `grid_codes` their codes."""

    def __init__(self, grid_codes, grid_geoms, *, max_distance_m: float = 50.0, tie_key=None,
                 cells_across: float | None = None):
        self.codes = np.asarray(grid_codes, dtype=object)
        self.geoms = shapely.orient_polygons(np.asarray(grid_geoms, dtype=object))
        if self.codes.shape != self.geoms.shape or self.codes.ndim != 1:
            raise ValueError("grid_codes and grid_geoms must be 1-D and of equal length")
        self.max_distance_m = float(max_distance_m)
        self.code_rank = _ranks(self.codes)
        self.tie_rank = self.code_rank if tie_key is None else _ranks(np.asarray(tie_key))
        self.edges = _edges(self.geoms)
        self.lattice = _lattice(self.geoms, self.max_distance_m, cells_across)
        self.cell_code, self.candidates, self.candidate_start, self.covered = _classify(self)
        self._tree = shapely.STRtree(self.geoms) if len(self.geoms) else None
        shapely.prepare(self.geoms)  # GEOS's indexed point-in-polygon, built on a grid's first test

    # --- the rules ----------------------------------------------------------------------------------

    def assign(self, lon, lat) -> AssignResult:
        x = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        y = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lon and lat must have the same length")
        grid = np.full(x.size, -1, dtype=np.int64)
        rule = np.full(x.size, UNASSIGNED, dtype=np.int8)
        distance = np.full(x.size, np.nan)
        if not len(self.geoms):
            return AssignResult(grid, rule, distance)
        cells = self.lattice.flat_cells(x, y)
        code = np.where(cells >= 0, self.cell_code[np.maximum(cells, 0)], _FAR)
        inside = code >= 0
        grid[inside] = code[inside]
        boundary = np.flatnonzero(code <= -3)
        grid[boundary] = self._covering(x[boundary], y[boundary], -3 - code[boundary])
        covered = grid >= 0
        rule[covered], distance[covered] = COVERING, 0.0
        outside = np.flatnonzero(((code <= -3) | (code == _NEAR)) & ~covered)
        if outside.size and self.max_distance_m > 0:
            near, metres = self._nearest(x[outside], y[outside])
            found = near >= 0
            grid[outside[found]] = near[found]
            rule[outside[found]], distance[outside[found]] = NEAREST, metres[found]
        return AssignResult(grid, rule, distance)

    def _covering(self, x: np.ndarray, y: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """The lowest-coded grid covering each point of boundary cells `cells`, -1 for none: candidates in
        code order, one vectorised round per candidate position, stopping at the first hit."""
        found = np.full(x.size, -1, dtype=np.int64)
        first, stop = self.candidate_start[cells], self.candidate_start[cells + 1]
        todo, k = np.arange(x.size), 0
        while todo.size:
            pos = first[todo] + k
            todo, pos = todo[pos < stop[todo]], pos[pos < stop[todo]]
            grids = self.candidates[pos]
            implied = (pos == stop[todo] - 1) & self.covered[cells[todo]]  # no outside: the last one holds it
            found[todo[implied]] = grids[implied]
            todo, grids = todo[~implied], grids[~implied]
            by_grid = np.argsort(grids, kind="stable")  # one polygon's tests together: it stays in cache
            todo, grids = todo[by_grid], grids[by_grid]
            hit = shapely.intersects_xy(self.geoms[grids], x[todo], y[todo])
            found[todo[hit]] = grids[hit]
            todo, k = todo[~hit], k + 1
        return found

    def _nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest grid within max_distance_m of each point (-1 for none) and its distance in metres.
        Candidates by bounding box, then the distance to each as PostGIS measures geography distances."""
        grid = np.full(x.size, -1, dtype=np.int64)
        metres = np.full(x.size, np.inf)
        reach_lat = self.max_distance_m / _METRES_PER_DEG_MIN * 1.01
        reach_lon = reach_lat / np.maximum(np.cos(np.radians(np.abs(y) + reach_lat)), 1e-6)
        boxes = shapely.box(x - reach_lon, y - reach_lat, x + reach_lon, y + reach_lat)
        point, cand = self._tree.query(boxes)
        if not point.size:
            return grid, np.full(x.size, np.nan)
        pair_dist = _distance_to_grids(self.edges, x[point], y[point], cand)
        # per point: the grids as near as the nearest (within TIE_M), of those the lowest tie rank
        nearest = np.full(x.size, np.inf)
        np.minimum.at(nearest, point, pair_dist)
        tied = pair_dist <= nearest[point] + TIE_M
        point, cand, pair_dist = point[tied], cand[tied], pair_dist[tied]
        order = np.lexsort((self.tie_rank[cand], point))
        point, cand, pair_dist = point[order], cand[order], pair_dist[order]
        first = np.r_[True, point[1:] != point[:-1]]
        best, best_grid, best_dist = point[first], cand[first], pair_dist[first]
        ok = best_dist <= self.max_distance_m
        grid[best[ok]], metres[best[ok]] = best_grid[ok], best_dist[ok]
        return grid, np.where(grid >= 0, metres, np.nan)

    # --- for benchmarks and tests -------------------------------------------------------------------

    def describe(self) -> str:
        code = self.cell_code
        boundary = int((code <= -3).sum())
        return (f"{self.lattice.ncols}×{self.lattice.nrows} cells of {self.lattice.sy * _METRES_PER_DEG_MIN:.0f} m: "
                f"{(code >= 0).mean():.0%} inside one grid, {boundary / code.size:.0%} boundary "
                f"({self.covered.mean() if boundary else 0:.0%} of them without outside), "
                f"{self.candidates.size / max(boundary, 1):.1f} candidates per boundary cell")


# --- building the index -----------------------------------------------------------------------------


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _edges(geoms: np.ndarray) -> Edges:
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = (coord_ring[1:] == coord_ring[:-1]) & np.any(coords[1:] != coords[:-1], axis=1)  # no 0-length
    (x1, y1), (x2, y2) = coords[:-1][same].T, coords[1:][same].T
    owner = part_owner[ring_part[coord_ring[:-1][same]]]
    start = np.searchsorted(owner, np.arange(len(geoms) + 1))
    return Edges(x1, y1, x2, y2, owner, start)


def _metres_per_degree(lat) -> tuple:
    """(east, north) metres per degree on the WGS84 ellipsoid at latitude `lat`."""
    s = np.sin(np.radians(lat))
    w = np.sqrt(1.0 - _WGS84_E2 * s * s)
    east = np.radians(1.0) * _WGS84_A / w * np.cos(np.radians(lat))
    north = np.radians(1.0) * _WGS84_A * (1.0 - _WGS84_E2) / (w * w * w)
    return east, north


def _lattice(geoms: np.ndarray, max_distance_m: float, cells_across: float | None) -> Lattice:
    if not len(geoms):
        return Lattice(0.0, 0.0, 1.0, 1.0, 1, 1)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    east, north = _metres_per_degree((ymin + ymax) / 2)
    mean_area_m2 = float(np.mean(shapely.area(geoms))) * east * north
    if cells_across is None:  # ~500,000 cells, at least 5 across a grid: finer when there are few grids
        cells_across = min(max(5.0, math.sqrt(AUTO_CELLS / len(geoms))), 40.0)
    side_m = max(math.sqrt(mean_area_m2) / cells_across, 1e-3)
    margin_m = max_distance_m * 1.02 + 2 * side_m  # the lattice reaches every point that can be near
    y_margin = margin_m / _METRES_PER_DEG_MIN
    x_margin = margin_m / _metres_per_degree(min(max(abs(ymin), abs(ymax)) + y_margin, 89.9))[0]
    width_m, height_m = (xmax - xmin + 2 * x_margin) * east, (ymax - ymin + 2 * y_margin) * north
    side_m = max(side_m, math.sqrt(width_m * height_m / MAX_CELLS))
    sx, sy = side_m / east, side_m / north
    ncols = math.ceil((xmax - xmin + 2 * x_margin) / sx) + 1
    nrows = math.ceil((ymax - ymin + 2 * y_margin) / sy) + 1
    return Lattice(xmin - x_margin, ymin - y_margin, sx, sy, ncols, nrows)


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, n-1 for each n in counts, concatenated."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)


def _touched(lat: Lattice, x1, y1, x2, y2) -> tuple[np.ndarray, np.ndarray]:
    """(cell, edge) for every cell an edge may come within EPS of: each edge cut into pieces no longer
    than a cell in either direction, and the cells under each piece's padded bounding box (at most 2×2)."""
    dx, dy = x2 - x1, y2 - y1
    pieces = np.maximum(np.ceil(np.maximum(np.abs(dx) / lat.sx, np.abs(dy) / lat.sy)), 1).astype(np.int64)
    edge = np.repeat(np.arange(x1.size), pieces)
    k = _ramp(pieces).astype(np.float64)
    n = pieces[edge]
    t0, t1 = k / n, (k + 1) / n
    xa, xb = x1[edge] + t0 * dx[edge], x1[edge] + t1 * dx[edge]
    ya, yb = y1[edge] + t0 * dy[edge], y1[edge] + t1 * dy[edge]
    c0 = np.clip(lat.col(np.minimum(xa, xb) - EPS), 0, lat.ncols - 1).astype(np.int64)
    c1 = np.clip(lat.col(np.maximum(xa, xb) + EPS), 0, lat.ncols - 1).astype(np.int64)
    r0 = np.clip(lat.row(np.minimum(ya, yb) - EPS), 0, lat.nrows - 1).astype(np.int64)
    r1 = np.clip(lat.row(np.maximum(ya, yb) + EPS), 0, lat.nrows - 1).astype(np.int64)
    cells, edges = [r0 * lat.ncols + c0], [edge]
    for rows, cols, extra in ((r0, c1, c1 > c0), (r1, c0, r1 > r0), (r1, c1, (r1 > r0) & (c1 > c0))):
        cells.append((rows * lat.ncols + cols)[extra])
        edges.append(edge[extra])
    return np.concatenate(cells), np.concatenate(edges)


def _centre_fill(lat: Lattice, e: Edges, ngrids: int) -> tuple[np.ndarray, np.ndarray]:
    """How many grids contain each cell's centre, and (when one) which: a scanline along each row's
    centre line, even-odd per grid, crossings counted with the half-open rule so a vertex counts once."""
    centres = lat.y0 + (np.arange(lat.nrows) + 0.5) * lat.sy
    # rows whose centre line y satisfies min(y1, y2) <= y < max(y1, y2), compared exactly
    r0 = np.searchsorted(centres, np.minimum(e.y1, e.y2), "left")
    r1 = np.searchsorted(centres, np.maximum(e.y1, e.y2), "left")
    idx = np.repeat(np.arange(e.x1.size), r1 - r0)
    row = r0[idx] + _ramp(r1 - r0)
    yc = centres[row]
    xc = e.x1[idx] + (yc - e.y1[idx]) * ((e.x2 - e.x1)[idx] / (e.y2 - e.y1)[idx])
    owner = e.owner[idx]
    order = np.lexsort((xc, owner, row))
    enter, leave = order[0::2], order[1::2]  # every ring crosses a line an even number of times
    c0 = np.clip(np.ceil((xc[enter] - lat.x0) / lat.sx - 0.5), 0, lat.ncols).astype(np.int64)
    c1 = np.clip(np.floor((xc[leave] - lat.x0) / lat.sx - 0.5) + 1, 0, lat.ncols).astype(np.int64)
    start, length, grid = row[enter] * lat.ncols + c0, np.maximum(c1 - c0, 0), owner[enter]
    by_start = np.argsort(start, kind="stable")
    ends = np.maximum.accumulate((start + length)[by_start])
    if not (start[by_start][1:] < ends[:-1]).any():  # no cell centre in two grids: paint the intervals
        centre = np.full(lat.size, -1, dtype=np.int64)
        centre[np.repeat(start - (np.cumsum(length) - length), length) + np.arange(length.sum())] = \
            np.repeat(grid, length)
        return (centre >= 0).astype(np.int64), centre
    return _centre_counts(lat, start, length, grid, ngrids)


def _centre_counts(lat: Lattice, start, length, grid, ngrids: int) -> tuple[np.ndarray, np.ndarray]:
    """The same where grids overlap: how many intervals cover each cell (difference arrays, summed along
    rows), and the grid where exactly one does."""
    count = np.bincount(start, minlength=lat.size + 1) - np.bincount(start + length, minlength=lat.size + 1)
    label = (np.bincount(start, weights=grid + 1.0, minlength=lat.size + 1)
             - np.bincount(start + length, weights=grid + 1.0, minlength=lat.size + 1))
    count, label = np.cumsum(count)[:-1], np.rint(np.cumsum(label)[:-1]).astype(np.int64) - 1
    return count, np.where(count == 1, np.minimum(label, ngrids - 1), -1)


def _twins(e: Edges) -> tuple[np.ndarray, np.ndarray]:
    """The halves of shared boundaries: pairs (a, b) of edges of different grids, b being exactly a reversed
    and no third edge lying on the same two points. Polygons are oriented (exterior counter-clockwise), so
    in a tiling neighbours run their common edges in opposite directions; overlapping copies run them the
    same way and are no pair."""
    bits = [np.ascontiguousarray(a).view(np.int64) for a in (e.x1, e.y1, e.x2, e.y2)]
    first = (bits[0] < bits[2]) | ((bits[0] == bits[2]) & (bits[1] < bits[3]))  # the edge's lower end first
    key = np.where(first, _mix(*bits), _mix(bits[2], bits[3], bits[0], bits[1]))
    order = np.argsort(key)
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    two = starts[np.diff(np.r_[starts, key.size]) == 2]
    a, b = order[two], order[two + 1]
    twin = ((e.x1[a] == e.x2[b]) & (e.y1[a] == e.y2[b]) & (e.x2[a] == e.x1[b]) & (e.y2[a] == e.y1[b])
            & (e.owner[a] != e.owner[b]))
    return a[twin], b[twin]


def _mix(a, b, c, d) -> np.ndarray:
    """A 64-bit hash of four 64-bit words (equal hashes are checked on the coordinates afterwards)."""
    h = np.full(a.shape, 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for word in (a, b, c, d):
            h = (h ^ word.astype(np.uint64)) * np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
    return h


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if values.size else values


def _classify(assigner: PointAssigner):
    """Cell codes, and the boundary cells' candidate grids (CSR, in code order) and 'no outside' flags."""
    lat, e, ngrids = assigner.lattice, assigner.edges, len(assigner.geoms)
    if not ngrids:
        return np.full(1, _FAR, np.int32), np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, bool)
    count, centre = _centre_fill(lat, e, ngrids)
    cells, grids, open_cells = _boundary_pairs(lat, e)
    boundary = np.zeros(lat.size, dtype=bool)
    boundary[cells] = True
    boundary |= count >= 2  # overlapping grids: resolved exactly
    cells, grids = _with_overlaps(assigner, cells, grids, np.flatnonzero(count >= 2))
    inner = np.flatnonzero(boundary & (count == 1))
    cells, grids = np.r_[cells, inner], np.r_[grids, centre[inner]]  # a grid holding a cell it has no edge in
    cells, ranks = np.divmod(_sorted_unique(cells * ngrids + assigner.code_rank[grids]), ngrids)
    boundary_cells = np.flatnonzero(boundary)
    start = np.r_[np.searchsorted(cells, boundary_cells), cells.size]
    covered = (count[boundary_cells] == 1) & ~_contains_sorted(open_cells, boundary_cells)
    code = np.where(count == 1, centre, _FAR).astype(np.int64)
    code[boundary_cells] = -3 - np.arange(boundary_cells.size)
    code[(count == 0) & ~boundary & _near(lat, boundary, assigner.max_distance_m)] = _NEAR
    return code.astype(np.int32), np.argsort(assigner.code_rank)[ranks], start, covered


def _boundary_pairs(lat: Lattice, e: Edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell, grid) for the cells each grid's edges touch, and the cells an unshared edge touches (where
    there may be outside). A shared edge is drawn once, for both its grids."""
    a, b = _twins(e)
    single = np.ones(e.x1.size, dtype=bool)
    single[a] = single[b] = False
    draw = np.r_[np.flatnonzero(single), a]
    cells, j = _touched(lat, e.x1[draw], e.y1[draw], e.x2[draw], e.y2[draw])
    alone = j < draw.size - a.size
    paired = j[~alone] - (draw.size - a.size)
    return (np.r_[cells, cells[~alone]], np.r_[e.owner[draw[j]], e.owner[b[paired]]],
            _sorted_unique(cells[alone]))


def _contains_sorted(sorted_values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    pos = np.minimum(np.searchsorted(sorted_values, queries), max(sorted_values.size - 1, 0))
    return sorted_values[pos] == queries if sorted_values.size else np.zeros(queries.size, dtype=bool)


def _with_overlaps(assigner: PointAssigner, cells, grids, overlap_cells):
    """Where grids overlap, every grid whose bounding box meets the cell is a candidate."""
    if not overlap_cells.size:
        return cells, grids
    lat = assigner.lattice
    row, col = np.divmod(overlap_cells, lat.ncols)
    boxes = shapely.box(lat.x0 + col * lat.sx, lat.y0 + row * lat.sy,
                        lat.x0 + (col + 1) * lat.sx, lat.y0 + (row + 1) * lat.sy)
    which, grid = shapely.STRtree(assigner.geoms).query(boxes)
    return np.r_[cells, overlap_cells[which]], np.r_[grids, grid]


def _near(lat: Lattice, boundary: np.ndarray, max_distance_m: float) -> np.ndarray:
    """Cells within max_distance_m (plus a cell) of a boundary cell: a box dilation by prefix sums."""
    if max_distance_m <= 0:
        return np.zeros(lat.size, dtype=bool)
    north = _metres_per_degree(lat.y0 + lat.nrows * lat.sy / 2)[1]
    reach = math.ceil(max_distance_m * 1.02 / (lat.sy * north)) + 1  # cells are square in metres
    grid = boundary.reshape(lat.nrows, lat.ncols).astype(np.int32)
    sums = np.zeros((lat.nrows + 1, lat.ncols + 1), dtype=np.int32)
    sums[1:, 1:] = grid.cumsum(0).cumsum(1)
    r = np.arange(lat.nrows)
    c = np.arange(lat.ncols)
    r0, r1 = np.clip(r - reach, 0, lat.nrows)[:, None], np.clip(r + reach + 1, 0, lat.nrows)[:, None]
    c0, c1 = np.clip(c - reach, 0, lat.ncols)[None, :], np.clip(c + reach + 1, 0, lat.ncols)[None, :]
    window = sums[r1, c1] - sums[r0, c1] - sums[r1, c0] + sums[r0, c0]
    return (window > 0).ravel()


# --- distances ---------------------------------------------------------------------------------------


def _distance_to_grids(e: Edges, px: np.ndarray, py: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Metres from each point to the grid paired with it (the point is outside it), as PostGIS measures a
    geography distance: the closest point is found on the sphere, edges being great-circle arcs, and the
    distance to it is then measured on the ellipsoid. A point that lies inside the grid once its edges bulge
    as arcs (within centimetres of a long edge) is at distance 0, as in PostGIS.

    First every edge is measured as a straight line in the point's local metric frame (cheap); an arc
    departs from that line by at most L² tan(lat) / 8R (1.7 cm for a 1 km edge at 41°N), so only edges that
    come that close to the nearest are measured again as arcs."""
    counts = e.start[grids + 1] - e.start[grids]
    pair = np.repeat(np.arange(grids.size), counts)
    edge = e.start[grids][pair] + _ramp(counts)
    x, y = px[pair], py[pair]
    east, north = _metres_per_degree(y)
    ax, ay = (e.x1[edge] - x) * east, (e.y1[edge] - y) * north
    bx, by = (e.x2[edge] - x) * east, (e.y2[edge] - y) * north
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0), 0.0, 1.0)
    straight = np.hypot(ax + t * dx, ay + t * dy)
    bulge = length2 * (1.0 + np.abs(np.tan(np.radians(y)))) / (8 * _WGS84_A) + 1e-3
    reach = np.full(grids.size, np.inf)
    np.minimum.at(reach, pair, straight + bulge)
    near = np.flatnonzero(straight - bulge <= reach[pair])
    angle, foot_lon, foot_lat, inside = _arc_foot(x[near], y[near], e.x1[edge[near]], e.y1[edge[near]],
                                                  e.x2[edge[near]], e.y2[edge[near]])
    order = np.lexsort((angle, pair[near]))
    first = order[np.r_[True, pair[near][order][1:] != pair[near][order][:-1]]]  # each pair's closest arc
    east, north = _metres_per_degree((py + foot_lat[first]) / 2)
    d_lon = (foot_lon[first] - px + 180.0) % 360.0 - 180.0
    metres = np.hypot(d_lon * east, (foot_lat[first] - py) * north)
    return np.where(inside[first], 0.0, metres)


def _arc_foot(px, py, x1, y1, x2, y2):
    """For each point and great-circle arc: the angle to the arc's closest point, that point (lon, lat), and
    whether the point lies left of the arc (inside, for a counter-clockwise exterior ring)."""
    p, a, b = _unit(px, py), _unit(x1, y1), _unit(x2, y2)
    normal = _cross(a, b)
    length = np.sqrt(_dot(normal, normal))
    with np.errstate(divide="ignore", invalid="ignore"):
        pole = normal / length
        foot = p - _dot(p, pole) * pole  # p dropped onto the arc's great circle
        foot = foot / np.sqrt(_dot(foot, foot))
    on_arc = (length > 0) & (_dot(_cross(a, foot), normal) >= 0) & (_dot(_cross(foot, b), normal) >= 0)
    to_a, to_b = _angle(p, a), _angle(p, b)
    foot = np.where(on_arc, foot, np.where(to_a <= to_b, a, b))
    angle = np.where(on_arc, _angle(p, foot), np.minimum(to_a, to_b))
    foot_lon = np.degrees(np.arctan2(foot[1], foot[0]))
    foot_lat = np.degrees(np.arctan2(foot[2], np.hypot(foot[0], foot[1])))
    return angle, foot_lon, foot_lat, on_arc & (_dot(p, normal) > 0)


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, (3, n) (latitude taken as spherical, as PostGIS's geography does)."""
    lon, lat = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]])


def _dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle between unit vectors, accurate for tiny angles too."""
    c = _cross(u, v)
    return np.arctan2(np.sqrt(_dot(c, c)), _dot(u, v))
