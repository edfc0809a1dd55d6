"""The demo city, end to end: territory → roads → buildings → addresses → people → layers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.layers import LAYER_BY_NAME

from . import buildings as bld
from . import names, people
from .addresses import Road, address_numbers
from .outline import DEFAULT_OUTLINE, DISTRICT_CODE, WGS84, DensityField, Projection, load_district_outline
from .partition import PRECISION_M
from .territory import Territory, Unit, build_territory
from .topology import DEGREE_PRECISION, as_multipolygons, clean_coverage, union_by

DEFAULT_SEED = 2026
BUILDINGS_PER_GRID = 25_000 / 700
ROAD_HALF_WIDTH_M = {0: 15.0, 1: 10.0, 2: 6.0}  # arterial, street, lane
LANE_SHARE = 0.6  # of the cuts between grids, this share are lanes; the rest are fences and walls
SEGMENT_M = 100.0  # densify before reprojecting: a straight edge in metres is a curve in degrees
SPECIAL_CHANCES = {"clinic": 0.6, "kindergarten": 0.5, "school": 0.3}  # per community


@dataclass
class Town:
    """Buildings in metres, one entry per building."""

    grid: list[int]
    plans: list[bld.Planned]
    footprints: list[BaseGeometry]


def generate_demo_city(seed: int = DEFAULT_SEED, *, streets: int = 10, communities: int = 88,
                       grids: int = 700, buildings: int | None = None, households_per_grid: int = 450,
                       outline: Path = DEFAULT_OUTLINE,
                       district_code: str = DISTRICT_CODE) -> dict[str, pd.DataFrame]:
    """Layer name → frame (GeoDataFrames in WGS84 for the spatial layers), as interchange.md has them.
    The same arguments always give the same city.

    streets, communities, grids: exact counts (a small city for tests: 2, 5, 24).
    buildings: the count to reach (default ≈ 35.7 per grid, 25,000 for 700 grids); homes are planned
      first from the grids' households, auxiliary buildings (shops, sheds, garages …) fill up to it,
      so a target below what the homes need is exceeded.
    households_per_grid: the mean; each grid gets ±25 %.
    outline, district_code: where the outline comes from; names and the density field are 铁东区's."""
    if grids < 2:
        raise ValueError("a demo city needs at least two grids (one road)")
    rng = np.random.default_rng(seed)
    projection = Projection()
    density = DensityField(projection)
    district_name, outline_wgs84 = load_district_outline(outline, district_code)
    outline_m = shapely.set_precision(projection.metric(outline_wgs84), PRECISION_M)
    territory = build_territory(outline_m, density, rng, district_code=district_code,
                                district_name=district_name, streets=streets, communities=communities,
                                grids=grids)
    roads = lay_roads(territory, rng)
    target = round(grids * BUILDINGS_PER_GRID) if buildings is None else buildings
    town = build_town(territory, roads, density, rng, target=target, households_per_grid=households_per_grid)
    return assemble_layers(territory, roads, town, projection, rng)


def lay_roads(territory: Territory, rng: np.random.Generator) -> list[Road]:
    """Cuts between streets and communities are roads; between grids, lanes or just fences."""
    namer = names.RoadNamer(rng)
    roads = []
    for cut in territory.splitter.cuts:
        is_lane = cut.level >= 2
        if cut.shared.is_empty or (is_lane and rng.random() > LANE_SHARE):
            continue
        roads.append(Road(namer.name(cut.level), cut.line, cut.shared, ROAD_HALF_WIDTH_M[min(cut.level, 2)]))
    return roads


def build_town(territory: Territory, roads: list[Road], density: DensityField, rng: np.random.Generator, *,
               target: int, households_per_grid: int) -> Town:
    grids = territory.grids
    urbanity = [grid_urbanity(grid, density) for grid in grids]
    homes = [bld.plan_homes(round(households_per_grid * rng.uniform(0.75, 1.25)), u, rng) for u in urbanity]
    specials = plan_specials(territory, rng)
    planned = sum(len(h) for h in homes) + sum(len(s) for s in specials)
    extra = apportion(max(target - planned, 0), np.array([len(h) + 4.0 for h in homes]))
    tree = shapely.STRtree(np.asarray([r.geom for r in roads], dtype=object))
    corridors = [bld.road_corridor(r.geom, r.half_width) for r in roads]
    town = Town([], [], [])
    for index, grid in enumerate(grids):
        plan = homes[index] + specials[index] + plan_auxiliary(int(extra[index]), grid, territory, rng)
        near = tree.query(grid.geom, predicate="dwithin", distance=1.0)
        nearby = [roads[i] for i in near]
        land = bld.usable_land(grid.geom, [corridors[i] for i in near])
        lines = shapely.union_all([r.geom for r in nearby]) if nearby else None
        angle = frontage_angle(grid.geom, nearby, territory)
        kept, boxes = bld.place(plan, land, lines, angle, urbanity[index], rng)
        town.grid += [index] * len(kept)
        town.plans += kept
        town.footprints += list(boxes)
    return town


def grid_urbanity(grid: Unit, density: DensityField) -> float:
    """0 in the hills … 1 at the station."""
    point = grid.geom.representative_point()
    return float(density(np.array(point.x), np.array(point.y))) / density.peak


def plan_specials(territory: Territory, rng: np.random.Generator) -> list[list[bld.Planned]]:
    """Public buildings: a service centre in every community, some clinics, kindergartens and
    primary schools; an office and a middle school in every street."""
    specials: list[list[bld.Planned]] = [[] for _ in territory.grids]
    grids_of: dict[str, list[int]] = {}
    for i, grid in enumerate(territory.grids):
        grids_of.setdefault(grid.parent_code, []).append(i)
        grids_of.setdefault(grid.parent_code[:9], []).append(i)
    for community in territory.communities:
        stem = community.name.removesuffix("社区")
        wanted = [("centre", f"{community.name}党群服务中心")]
        wanted += [(kind, "") for kind, chance in SPECIAL_CHANCES.items() if rng.random() < chance]
        for kind, name in wanted:
            name = name or {"clinic": f"{community.name}卫生服务站", "kindergarten": f"{stem}幼儿园",
                            "school": f"{stem}小学"}[kind]
            home = grids_of[community.code][int(rng.integers(len(grids_of[community.code])))]
            specials[home].append(bld.plan_other(kind, name, rng))
    for number, street in enumerate(territory.streets):
        for kind, name in (("office", f"{street.name}办事处"), ("school", f"鞍山市第{21 + 3 * number}中学")):
            home = grids_of[street.code][int(rng.integers(len(grids_of[street.code])))]
            specials[home].append(bld.plan_other(kind, name, rng))
    return specials


def plan_auxiliary(count: int, grid: Unit, territory: Territory, rng: np.random.Generator) -> list[bld.Planned]:
    stem = grid.name.split("社区")[0]
    kinds = rng.choice(len(bld.AUXILIARY), size=count, p=bld.AUXILIARY_WEIGHTS / bld.AUXILIARY_WEIGHTS.sum())
    plans = []
    for k in kinds:
        kind = bld.AUXILIARY[int(k)]
        surname = names.SURNAMES[int(rng.integers(len(names.SURNAMES)))]
        plans.append(bld.plan_other(kind, bld.auxiliary_name(kind, stem, surname, rng), rng))
    return plans


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Whole numbers proportional to the weights, summing to total (largest remainders)."""
    quota = total * weights / weights.sum()
    counts = np.floor(quota).astype(int)
    counts[np.argsort(-(quota - counts), kind="stable")[: total - int(counts.sum())]] += 1
    return counts


def frontage_angle(grid: BaseGeometry, nearby: list[Road], territory: Territory) -> float:
    """Buildings line up with the grid's main road, long sides as near east-west as that allows
    (homes face south)."""
    if nearby:
        rim = grid.buffer(1.0)
        reach = shapely.length(shapely.intersection(np.asarray([r.geom for r in nearby], dtype=object), rim))
        (x0, y0), (x1, y1) = nearby[int(np.argmax(reach))].line.coords[:2]
        angle = math.atan2(y1 - y0, x1 - x0)
    else:
        angle = territory.splitter.lattice_angle
    return min((angle, angle + math.pi / 2), key=lambda a: abs(math.remainder(a, math.pi)))


def assemble_layers(territory: Territory, roads: list[Road], town: Town, projection: Projection,
                    rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    grid_codes = [g.code for g in territory.grids]
    grid_geoms = clean_coverage(list(projection.wgs84(
        shapely.segmentize(np.asarray([g.geom for g in territory.grids], dtype=object), SEGMENT_M))))
    community_geoms = union_by(grid_geoms, [g.parent_code for g in territory.grids])
    street_geoms = union_by([community_geoms[c.code] for c in territory.communities],
                            [c.parent_code for c in territory.communities])
    district_geom = shapely.coverage_union_all(np.asarray(list(street_geoms.values()), dtype=object))

    buildings = building_layer(territory, roads, town, projection, rng)
    workers = people.grid_workers(grid_codes, rng)
    primaries = workers[workers["role"] == "primary"].set_index("grid_code")["id"]
    per_grid = buildings.groupby("grid_code")[["households", "population"]].sum()
    layers = {
        "districts": frame("districts", [{"code": territory.district_code, "name": territory.district_name}],
                           [district_geom]),
        "streets": frame("streets", [{"code": s.code, "name": s.name, "district_code": s.parent_code}
                                     for s in territory.streets],
                         [street_geoms[s.code] for s in territory.streets]),
        "communities": frame("communities", [{"code": c.code, "name": c.name, "street_code": c.parent_code}
                                             for c in territory.communities],
                             [community_geoms[c.code] for c in territory.communities]),
        "grids": frame("grids", [{"code": g.code, "name": g.name, "community_code": g.parent_code,
                                  "households": int(per_grid["households"].get(g.code, 0)),
                                  "population": int(per_grid["population"].get(g.code, 0)),
                                  "worker_id": primaries[g.code]} for g in territory.grids], grid_geoms),
        "buildings": buildings,
        "workers": workers,
        "departments": people.departments(territory.district_code, rng),
    }
    return layers


def building_layer(territory: Territory, roads: list[Road], town: Town, projection: Projection,
                   rng: np.random.Generator) -> gpd.GeoDataFrame:
    footprints = np.asarray(town.footprints, dtype=object)
    grid_index = np.asarray(town.grid, dtype=int)
    numbers = address_numbers(shapely.centroid(footprints), grid_index, roads)
    grids = territory.grids
    communities = {c.code: c for c in territory.communities}
    streets = {s.code: s.name for s in territory.streets}
    # The address down to the community is the grid's; the road and numbers are the building's.
    grid_prefix = [f"{names.PROVINCE}{names.CITY}{territory.district_name}"
                   f"{streets[communities[g.parent_code].parent_code]}{communities[g.parent_code].name}"
                   for g in grids]
    road_names = np.asarray([r.name for r in roads], dtype=object)[numbers["road"].to_numpy()]
    house, building = numbers["house_number"].to_numpy(), numbers["building_number"].to_numpy()
    table = pd.DataFrame({
        "grid_code": [grids[i].code for i in grid_index],
        "road": road_names,
        "house_number": house.astype(str),
        "building_number": building.astype(str),
        "households": [p.households for p in town.plans],
        "population": [bld.population(p.households, rng) for p in town.plans],
        "name": [p.name if not p.residential else "" for p in town.plans],
        "address": [f"{grid_prefix[g]}{r}{h}号{b}号楼"
                    for g, r, h, b in zip(grid_index, road_names, house, building, strict=True)],
        "geometry": round_coordinates(projection.wgs84(footprints)),
        "_house": house,
        "_building": building,
    })
    # Building codes: grid code + a 4-digit sequence, in address order within the grid.
    table = table.sort_values(["grid_code", "road", "_house", "_building"], kind="stable").reset_index(drop=True)
    table["code"] = table["grid_code"] + (table.groupby("grid_code").cumcount() + 1).map("{:04d}".format)
    return frame("buildings", table, table["geometry"].to_numpy())


def round_coordinates(geoms: np.ndarray) -> np.ndarray:
    """Footprints rounded to the output precision: plain rounding keeps rectangles of metres valid."""
    decimals = round(-math.log10(DEGREE_PRECISION))
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def frame(layer: str, rows: list[dict] | pd.DataFrame, geoms) -> gpd.GeoDataFrame:
    """A layer with its fields in the documented order, every geometry a MultiPolygon."""
    spec = LAYER_BY_NAME[layer]
    table = pd.DataFrame(rows).reindex(columns=list(spec.fields))
    return gpd.GeoDataFrame(table, geometry=as_multipolygons(geoms), crs=WGS84)
