"""Buildings (楼栋) of one grid: what stands there (a plan) and where (a placement).

Each building sits in a cell of a small lattice aligned with the grid's roads, so footprints never
overlap, and every cell lies inside the grid shrunk by a setback and cleared of its roads: a building
is always entirely inside one grid. Shops take the cells nearest the road, sheds the farthest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

EDGE_SETBACK_M = 4.0  # from any grid edge (a fence, a kerb)
ROAD_SETBACK_M = 3.0  # beyond the road's half width
FILL = 0.45  # share of usable land the lattice is sized to use
MIN_CELL_M = 22.0
PEOPLE_PER_HOUSEHOLD = (2.3, 2.9)


@dataclass(frozen=True)
class Kind:
    label: str  # the default name
    length: tuple[float, float]  # metres, long side
    width: tuple[float, float]
    rank: int  # who keeps a cell when there are too few: 0 public services, 1 homes, 2 the rest
    frontage: int  # 0 on the road, 1 in the middle, 2 at the back


KINDS = {
    "tower": Kind("高层住宅", (26, 36), (16, 20), 1, 1),
    "slab": Kind("多层住宅", (14, 62), (10.5, 12.5), 1, 1),
    "row": Kind("平房", (14, 40), (6, 8), 1, 1),
    "centre": Kind("党群服务中心", (24, 34), (14, 18), 0, 0),
    "office": Kind("街道办事处", (30, 44), (14, 18), 0, 0),
    "clinic": Kind("卫生服务站", (18, 26), (10, 14), 0, 0),
    "kindergarten": Kind("幼儿园", (30, 40), (16, 22), 0, 2),
    "school": Kind("学校", (55, 75), (16, 22), 0, 2),
    "shop": Kind("商铺", (12, 24), (9, 12), 2, 0),
    "market": Kind("超市", (30, 44), (20, 26), 2, 0),
    "pharmacy": Kind("药房", (10, 16), (8, 10), 2, 0),
    "storage": Kind("仓房", (18, 36), (5, 7), 2, 2),
    "garage": Kind("车库", (20, 40), (6, 8), 2, 2),
    "boiler": Kind("锅炉房", (12, 18), (9, 12), 2, 2),
    "substation": Kind("配电室", (6, 9), (4, 6), 2, 2),
    "property": Kind("物业服务中心", (12, 20), (8, 11), 2, 2),
}
AUXILIARY = ("shop", "storage", "garage", "substation", "property", "boiler", "market", "pharmacy")
AUXILIARY_WEIGHTS = np.array([0.30, 0.22, 0.16, 0.10, 0.07, 0.06, 0.04, 0.05])
SLAB_FLOORS = np.array([0.1, 0.3, 0.45, 0.15])  # 4–7 floors
SLAB_STAIRWELLS = np.array([0.15, 0.4, 0.3, 0.15])  # 1–4 stairwells (单元)
SHOP_TRADES = ("烧烤", "面馆", "饺子馆", "水果店", "理发店", "五金店", "包子铺", "洗衣店", "便利店",
               "烟酒店", "鲜花店", "眼镜店", "粮油店", "早餐铺")


@dataclass
class Planned:
    kind: str
    households: int
    length: float
    width: float
    name: str = ""

    @property
    def residential(self) -> bool:
        return self.kind in ("tower", "slab", "row")


def residential_mix(urbanity: float) -> np.ndarray:
    """Chances of (tower, slab, row): towers in the centre, bungalow rows in the villages."""
    tower = 0.12 * min(max((urbanity - 0.45) / 0.55, 0.0), 1.0)
    row = 0.85 * min(max((0.16 - urbanity) / 0.1, 0.0), 1.0)
    return np.array([tower, 1.0 - tower - row, row])


def plan_homes(target_households: int, urbanity: float, rng: np.random.Generator) -> list[Planned]:
    """Residential buildings until the grid's households are housed."""
    mix = residential_mix(urbanity)
    homes: list[Planned] = []
    housed = 0
    while housed < target_households:
        kind = ("tower", "slab", "row")[pick(mix, rng)]
        home = draw_home(kind, rng)
        homes.append(home)
        housed += home.households
    return homes


def pick(chances: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with the given chances (rng.choice is slow one draw at a time)."""
    return min(int(np.searchsorted(np.cumsum(chances), rng.random() * chances.sum(), side="right")),
               len(chances) - 1)


def draw_home(kind: str, rng: np.random.Generator) -> Planned:
    if kind == "tower":  # 16–30 floors, 4 flats a floor
        floors = int(rng.integers(16, 31))
        return Planned(kind, floors * 4, rng.uniform(*KINDS[kind].length), rng.uniform(*KINDS[kind].width))
    if kind == "slab":  # the walk-up of the 1980s–2000s: 4–7 floors, 1–4 stairwells, 2 flats a landing
        floors = 4 + pick(SLAB_FLOORS, rng)
        units = 1 + pick(SLAB_STAIRWELLS, rng)
        households = max(12, floors * units * 2)
        return Planned(kind, households, units * rng.uniform(12.5, 14.5) + 2, rng.uniform(*KINDS[kind].width))
    households = int(rng.integers(3, 11))  # a row of bungalows (一排平房) at the edge of town
    return Planned(kind, households, min(households * rng.uniform(3.2, 4.0) + 4, 40),
                   rng.uniform(*KINDS[kind].width))


def plan_other(kind: str, name: str, rng: np.random.Generator) -> Planned:
    spec = KINDS[kind]
    return Planned(kind, 0, rng.uniform(*spec.length), rng.uniform(*spec.width), name or spec.label)


def auxiliary_name(kind: str, stem: str, surname: str, rng: np.random.Generator) -> str:
    if kind == "shop":
        return f"{surname}记{SHOP_TRADES[int(rng.integers(len(SHOP_TRADES)))]}"
    if kind == "market":
        return f"{stem}便民超市"
    if kind == "pharmacy":
        return f"{stem}大药房"
    return KINDS[kind].label


def population(households: int, rng: np.random.Generator) -> int:
    return round(households * rng.uniform(*PEOPLE_PER_HOUSEHOLD)) if households else 0


def usable_land(grid: BaseGeometry, corridors: list[BaseGeometry]) -> BaseGeometry:
    """Where buildings may stand: inside the grid's setback, off its roads' corridors."""
    land = grid.buffer(-EDGE_SETBACK_M)
    for corridor in corridors:
        land = land.difference(corridor)
    return land


def road_corridor(road: BaseGeometry, half_width: float) -> BaseGeometry:
    """The road and its setback: no building stands here."""
    return road.buffer(half_width + ROAD_SETBACK_M)


def place(plan: list[Planned], land: BaseGeometry, road_lines: BaseGeometry | None, angle: float,
          urbanity: float, rng: np.random.Generator) -> tuple[list[Planned], np.ndarray]:
    """Footprints (metric polygons) for as many planned buildings as fit, most important first."""
    if land.is_empty or not plan:
        return [], np.array([], dtype=object)
    origin = land.centroid
    turned = rotate(land, -angle, origin)
    shapely.prepare(turned)
    longest = max(p.length for p in plan)
    cell = min(max(math.sqrt(2 * land.area * FILL / len(plan)), MIN_CELL_M), max(longest + 8, 30.0))
    for _ in range(5):
        centres, half = lattice_cells(turned, cell, rng)
        if len(centres) >= len(plan) or cell <= MIN_CELL_M:
            break
        cell = max(cell * 0.8, MIN_CELL_M)
    if len(centres) == 0:
        return [], np.array([], dtype=object)
    chosen = choose_cells(centres, half, rotate(road_lines, -angle, origin) if road_lines else None,
                          min(len(plan), len(centres)), urbanity, rng)
    kept = keep_most_important(plan, len(chosen), rng)
    boxes = footprints(kept, chosen, half, rng)
    return kept, rotate_array(boxes, angle, origin)


def lattice_cells(land: BaseGeometry, cell: float, rng: np.random.Generator) -> tuple[np.ndarray, tuple]:
    """Centres of the lattice cells that lie wholly on the land (in the grid's turned frame)."""
    dx, dy = cell, max(cell * 0.5, 16.0)
    minx, miny, maxx, maxy = land.bounds
    xs = np.arange(minx + rng.uniform(0, dx), maxx, dx)
    ys = np.arange(miny + rng.uniform(0, dy), maxy, dy)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    half = (dx / 2 - 1.0, dy / 2 - 1.0)
    fits = shapely.contains(land, shapely.box(gx - half[0], gy - half[1], gx + half[0], gy + half[1]))
    return np.column_stack([gx[fits], gy[fits]]), half


def choose_cells(centres: np.ndarray, half: tuple, roads: BaseGeometry | None, count: int,
                 urbanity: float, rng: np.random.Generator) -> np.ndarray:
    """The cells nearest the roads, with play, in order of distance: villages string along their
    roads; in town the play is wide and compounds fill their blocks."""
    noise = rng.uniform(0, 3 * half[1] + 250 * urbanity, size=len(centres))
    distance = shapely.distance(roads, shapely.points(centres)) if roads is not None else 0.0
    order = np.argsort(distance + noise, kind="stable")[:count]
    return centres[order]


def keep_most_important(plan: list[Planned], room: int, rng: np.random.Generator) -> list[Planned]:
    """The buildings that get a cell, in frontage order (the first gets the cell nearest the road)."""
    tiebreak = rng.random(len(plan))
    by_rank = sorted(range(len(plan)), key=lambda i: (KINDS[plan[i].kind].rank, tiebreak[i]))[:room]
    return [plan[i] for i in sorted(by_rank, key=lambda i: (KINDS[plan[i].kind].frontage, tiebreak[i]))]


def footprints(kept: list[Planned], centres: np.ndarray, half: tuple, rng: np.random.Generator) -> np.ndarray:
    """Rectangles within their cells (turned frame), nudged off-centre a little."""
    length = np.minimum([p.length for p in kept], 2 * half[0])
    width = np.minimum([p.width for p in kept], 2 * half[1])
    for p, used_length, used_width in zip(kept, length, width, strict=True):
        p.length, p.width = float(used_length), float(used_width)
    play_x, play_y = half[0] - length / 2, half[1] - width / 2
    cx = centres[:, 0] + rng.uniform(-1, 1, len(kept)) * play_x * 0.5
    cy = centres[:, 1] + rng.uniform(-1, 1, len(kept)) * play_y * 0.5
    return shapely.box(cx - length / 2, cy - width / 2, cx + length / 2, cy + width / 2)


def rotate(geom: BaseGeometry, angle: float, origin) -> BaseGeometry:
    return rotate_array(np.asarray([geom], dtype=object), angle, origin)[0]


def rotate_array(geoms: np.ndarray, angle: float, origin) -> np.ndarray:
    cos, sin = math.cos(angle), math.sin(angle)
    ox, oy = origin.x, origin.y

    def turn(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - ox, xy[:, 1] - oy
        return np.column_stack([ox + x * cos - y * sin, oy + x * sin + y * cos])

    return shapely.transform(geoms, turn)
