"""A made-up community for tests and benchmarks: an irregular outline of about 1.5 km², a slightly
rotated street lattice, blocks of small houses (1–12 households) and a few estates of large slabs
(40–120 households), every footprint a rectangle inside one block. Deterministic for a seed."""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

ORIGIN = (500_000.0, 4_550_000.0)  # a plausible Gauss-Krüger easting/northing: large coordinates on purpose


def irregular_outline(area_m2: float, rng: np.random.Generator, centre=ORIGIN) -> Polygon:
    """A blob with a few lobes and bays, about `area_m2` in size."""
    theta = np.linspace(0, 2 * math.pi, 96, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 7):
        radius += rng.uniform(0.02, 0.12) / (k - 1) ** 0.5 * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    blob = Polygon(np.column_stack([np.cos(theta) * radius, np.sin(theta) * radius]))
    scale = math.sqrt(area_m2 / blob.area)
    return shapely.affinity.translate(shapely.affinity.scale(blob, scale, scale, origin=(0, 0)), *centre)


def community(n_buildings: int = 5000, *, seed: int = 0, area_m2: float = 1.5e6,
              outline: BaseGeometry | None = None) -> tuple[BaseGeometry, list[tuple[Polygon, int]]]:
    """(outline, [(footprint, households), ...]) with exactly `n_buildings` buildings."""
    rng = np.random.default_rng(seed)
    outline = irregular_outline(area_m2, rng) if outline is None else outline
    angle = rng.uniform(-0.35, 0.35)
    scale = math.sqrt(outline.area / 1.5e6 * 5000 / max(n_buildings, 1)) * 0.9
    for _ in range(30):
        buildings = _lay_out(outline, angle, scale, np.random.default_rng(seed + 1))
        if len(buildings) >= n_buildings:
            break
        scale *= 0.93
    keep = np.sort(np.random.default_rng(seed + 2).choice(len(buildings), n_buildings, replace=False))
    return outline, [buildings[i] for i in keep]


def _lay_out(outline: BaseGeometry, angle: float, scale: float, rng: np.random.Generator) -> list[tuple[Polygon, int]]:
    """Blocks between streets, filled with rows of houses or slabs, kept where wholly inside."""
    inner = outline.buffer(-4.0)
    shapely.prepare(inner)
    cx, cy = outline.centroid.x, outline.centroid.y
    reach = math.sqrt(outline.envelope.area)
    rows: list[tuple[float, float, float, float, int]] = []
    u = -reach
    while u < reach:
        block_w = rng.uniform(110, 180) * scale
        v = -reach
        while v < reach:
            block_h = rng.uniform(90, 150) * scale
            estate = rng.random() < 0.15
            rows.extend((u + bu, v + bv, length, width, households)
                        for bu, bv, length, width, households in _fill_block(block_w, block_h, estate, scale, rng))
            v += block_h + rng.uniform(14, 24) * scale
        u += block_w + rng.uniform(14, 24) * scale
    table = np.array(rows)
    footprints = rectangles(cx, cy, table[:, 0], table[:, 1], table[:, 2], table[:, 3], angle)
    inside = shapely.contains(inner, footprints)
    return [(f, int(h)) for f, h in zip(footprints[inside], table[inside, 4], strict=True)]


def rectangles(cx, cy, u, v, length, width, angle) -> np.ndarray:
    """Rectangles centred at (u, v) of a lattice rotated by `angle` about (cx, cy), built at once."""
    c, s = math.cos(angle), math.sin(angle)
    du = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])[None, :] * length[:, None] + u[:, None]
    dv = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])[None, :] * width[:, None] + v[:, None]
    return shapely.polygons(np.stack([cx + du * c - dv * s, cy + du * s + dv * c], axis=-1))


def _fill_block(width: float, height: float, estate: bool, scale: float, rng: np.random.Generator):
    """(centre u, centre v, length, width, households) of the buildings of one block, in block coordinates."""
    if estate:
        length, depth, gap_u, gap_v = rng.uniform(40, 70) * scale, rng.uniform(11, 13) * scale, 8 * scale, 16 * scale
    else:
        length, depth, gap_u, gap_v = rng.uniform(9, 15) * scale, rng.uniform(7, 10) * scale, 3.5 * scale, 4.5 * scale
    rows = max(1, int((height + gap_v) // (depth + gap_v)))
    cols = max(1, int((width + gap_u) // (length + gap_u)))
    for i in range(cols):
        for j in range(rows):
            if estate:
                households = int(rng.integers(40, 121))
            else:
                households = int(rng.integers(1, 13)) if rng.random() < 0.95 else int(rng.integers(13, 31))
            yield (i * (length + gap_u) + length / 2, j * (depth + gap_v) + depth / 2,
                   length * rng.uniform(0.85, 1.0), depth, households)
