"""The territorial tree of the demo city — streets, communities, grids — with codes and names,
in metres (EPSG:4550). Codes follow GB/T 30428.1; grids (and communities) are numbered west→east,
north→south inside their parent."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.codes import validate_code

from . import names
from .outline import DensityField
from .partition import Splitter

ROW_BAND = 0.5  # centroids within this × √(mean part area) of a row's top belong to that row
GRID_COUNT_JITTER = 2  # a community has its share of grids ± this many


@dataclass
class Unit:
    level: str  # "street" | "community" | "grid"
    code: str
    name: str
    parent_code: str
    geom: BaseGeometry  # metres


@dataclass
class Territory:
    district_code: str
    district_name: str
    outline: BaseGeometry
    streets: list[Unit]
    communities: list[Unit]
    grids: list[Unit]
    splitter: Splitter


def build_territory(outline: BaseGeometry, density: DensityField, rng: np.random.Generator, *,
                    district_code: str, district_name: str, streets: int, communities: int,
                    grids: int) -> Territory:
    if not streets <= communities <= grids:
        raise ValueError(f"need streets ≤ communities ≤ grids, got {streets}, {communities}, {grids}")
    lattice = math.radians(rng.uniform(8.0, 20.0))
    splitter = Splitter(density, density.distance_to_core, rng, lattice)
    street_units = name_streets(splitter.split(outline, streets, level=0), density, district_code)
    community_counts = share_out(communities, streets, rng, jitter=0)
    community_names = names.community_names(communities, rng)
    community_units: list[Unit] = []
    for street, count in zip(street_units, community_counts, strict=True):
        parts = splitter.split(street.geom, count, level=1)
        for number, part in numbered(parts):
            name = community_names[len(community_units)]
            community_units.append(Unit("community", f"{street.code}{number:03d}", name, street.code, part))
    grid_counts = share_out(grids, communities, rng, jitter=GRID_COUNT_JITTER)
    grid_units: list[Unit] = []
    for community, count in zip(community_units, grid_counts, strict=True):
        for number, part in numbered(splitter.split(community.geom, count, level=2)):
            name = f"{community.name}第{names.chinese_number(number)}网格"
            grid_units.append(Unit("grid", f"{community.code}{number:03d}", name, community.code, part))
    for unit in (*street_units, *community_units, *grid_units):
        validate_code(unit.level, unit.code)
    return Territory(district_code, district_name, outline, street_units, community_units, grid_units,
                     splitter)


def name_streets(parts: list[BaseGeometry], density: DensityField, district_code: str) -> list[Unit]:
    """The most central part gets the most central name (站前, by the station), and so on outwards;
    codes follow the official order of the names."""
    official = names.street_names(len(parts))
    by_centrality = sorted(official, key=names.centrality_rank)
    centres = [part.centroid for part in parts]
    nearest_first = sorted(range(len(parts)), key=lambda i: density.distance_to_core(centres[i].x, centres[i].y))
    units = [
        Unit("street", f"{district_code}{official.index(name) + 1:03d}", name, district_code, parts[i])
        for i, name in zip(nearest_first, by_centrality, strict=True)
    ]
    return sorted(units, key=lambda u: u.code)


def share_out(total: int, buckets: int, rng: np.random.Generator, *, jitter: int) -> list[int]:
    """`total` items over `buckets`, each getting total/buckets ± jitter (at least one)."""
    base = total // buckets
    jitter = min(jitter, max(base - 1, 0))
    counts = np.full(buckets, base) + rng.integers(-jitter, jitter + 1, size=buckets)
    while (excess := int(counts.sum()) - total) != 0:
        i = int(rng.integers(buckets))
        if excess > 0 and counts[i] > max(base - jitter, 1):
            counts[i] -= 1
        elif excess < 0 and counts[i] < base + jitter + 1:
            counts[i] += 1
    return [int(c) for c in counts]


def numbered(parts: list[BaseGeometry]) -> list[tuple[int, BaseGeometry]]:
    """Parts with their numbers (from 1), west→east, north→south."""
    centres = shapely.centroid(np.asarray(parts, dtype=object))
    xs, ys = shapely.get_x(centres), shapely.get_y(centres)
    band = ROW_BAND * math.sqrt(float(np.mean(shapely.area(np.asarray(parts, dtype=object)))))
    return [(n, parts[i]) for n, i in enumerate(row_major_order(xs, ys, band), start=1)]


def row_major_order(xs: np.ndarray, ys: np.ndarray, band: float) -> list[int]:
    """Indices in reading order: rows from the north (a row takes every centroid within `band` of
    its northernmost one), west to east within a row."""
    remaining = sorted(range(len(xs)), key=lambda i: (-ys[i], xs[i]))
    order: list[int] = []
    while remaining:
        top = ys[remaining[0]]
        row = [i for i in remaining if ys[i] >= top - band]
        order += sorted(row, key=lambda i: xs[i])
        remaining = [i for i in remaining if ys[i] < top - band]
    return order
