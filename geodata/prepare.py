"""From an interchange PATH to clean layers ready to write: read, check, reproject, repair, link.

Nothing here touches the database directly; what the database already holds is asked through a
`Lookup`. Every problem of every layer is collected first and raised together as ImportRejected.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from . import crs as crs_mod
from .assign import grid_by_overlap
from .interchange import RawLayer, discover, read_layer
from .links import assignments, check_references, worker_table
from .problems import ImportRejected, Problem
from .repair import Repair, repair_polygons
from .report import Progress
from .validation import check_geometry_types, clean_attributes, key_field


class Lookup(Protocol):
    def existing(self, layer: str, keys: Collection[str]) -> set[str]:
        """Which of `keys` (codes, or worker ids for `workers`) the database already holds."""
        ...

    def grids_in_bbox(self, bounds: tuple[float, float, float, float], exclude: Collection[str]
                      ) -> tuple[np.ndarray, np.ndarray]:
        """(codes, WGS84 geometries) of stored grids meeting `bounds`, except the codes in `exclude`."""
        ...


@dataclass
class Layer:
    name: str
    frame: pd.DataFrame  # the interchange fields, text normalised, parent codes filled in
    geoms: np.ndarray | None = None  # valid WGS84 MultiPolygons, one per row
    crs: str = ""  # the CRS the file's coordinates were read in
    fields: frozenset[str] = frozenset()  # the interchange fields the file has (others were defaulted)


@dataclass
class Prepared:
    layers: dict[str, Layer]
    assignments: pd.DataFrame  # worker_id, grid_code, role
    repairs: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def prepare(path: Path, *, lookup: Lookup, crs: str | None = None, layer: str | None = None,
            progress: Progress | None = None) -> Prepared:
    """Raises interchange.SourceError for an unusable PATH, crs.CRSProblem for a bad --crs, and
    ImportRejected listing every problem found."""
    progress = progress or Progress()
    clock = time.perf_counter()
    override = crs_mod.parse_crs(crs) if crs else None
    sources, notes = discover(Path(path), layer)
    progress.add(len(sources) + 2)
    layers, repairs, problems = {}, [], []
    for source in sources:
        with progress.step(f"read {source.name}"):
            prepared, fixed, found = _prepare_layer(read_layer(source), override)
        problems += found
        repairs += fixed
        if prepared is not None:
            layers[prepared.name] = prepared
    read = time.perf_counter()
    with progress.step("check links"):
        result = _link(layers, lookup, problems, notes)
    linked = time.perf_counter()
    with progress.step("place buildings"):
        _place_buildings(result, lookup)
    result.repairs = repairs
    result.timings = {"read, check, reproject, repair": read - clock, "link": linked - read,
                      "place buildings": time.perf_counter() - linked}
    return result


def _prepare_layer(raw: RawLayer, override: CRS | None) -> tuple[Layer | None, list[Repair], list[Problem]]:
    problems = list(raw.problems)
    if raw.frame.empty and len(raw.frame.columns) == 0:  # unreadable, or a file without any feature
        return None, [], problems
    frame, found = clean_attributes(raw.spec, raw.frame)
    problems += found
    if frame is None:
        return None, [], problems
    layer = Layer(raw.spec.name, frame, fields=_fields_present(raw, frame))
    if raw.spec.spatial and raw.geoms is not None:
        repairs, found = _prepare_geometries(layer, raw, override)
        return layer, repairs, problems + found
    return layer, [], problems


def _fields_present(raw: RawLayer, frame: pd.DataFrame) -> frozenset[str]:
    # Parent codes omitted from the file are derived from the code, grid codes from overlap: always set.
    derived = {"district_code", "street_code", "community_code", "grid_code"}
    return frozenset(c for c in frame.columns if c in raw.frame.columns or c in derived)


def _prepare_geometries(layer: Layer, raw: RawLayer, override: CRS | None) -> tuple[list[Repair], list[Problem]]:
    """Type and plausibility checks, reprojection to WGS84, repair: `layer.geoms` ends up holding a
    valid MultiPolygon for every usable feature (None elsewhere)."""
    labels = layer.frame[key_field(raw.spec)].to_numpy()
    usable, problems = check_geometry_types(layer.name, raw.geoms, labels)
    source_crs = crs_mod.resolve_crs(raw.crs, override)
    layer.crs = crs_mod.label(source_crs)
    positions = np.flatnonzero(usable)
    for bad in crs_mod.implausible_features(raw.geoms[positions], source_crs):
        i = int(positions[bad.index])
        problems.append(Problem(layer.name, bad.reason, i, labels[i] or None))
        usable[i] = False
    positions = np.flatnonzero(usable)
    geoms = np.full(len(raw.geoms), None, dtype=object)
    wgs84 = crs_mod.to_wgs84(raw.geoms[positions], source_crs)
    names = layer.frame["name"].to_numpy()[positions] if "name" in layer.frame else labels[positions]
    fixed, repairs, failed = repair_polygons(layer.name, wgs84, labels[positions], names)
    geoms[positions] = fixed
    repairs = [replace(r, index=int(positions[r.index])) for r in repairs]  # positions in the whole layer
    for f in failed:
        i = int(positions[f])
        problems.append(Problem(layer.name, f"invalid geometry ({shapely.is_valid_reason(wgs84[f])}) "
                                            "leaves nothing polygonal when repaired", i, labels[i] or None))
    layer.geoms = geoms
    return repairs, problems


def _link(layers: dict[str, Layer], lookup: Lookup, problems: list[Problem], notes: list[str]) -> Prepared:
    frames = {name: layer.frame for name, layer in layers.items()}
    problems += check_references(frames, lookup)
    table, found = assignments(frames)
    problems += found
    if "workers" in layers:
        layers["workers"].frame, found = worker_table(layers["workers"].frame)
        problems += found
    if problems:
        raise ImportRejected(problems)
    return Prepared(layers=layers, assignments=table, notes=notes)


def _place_buildings(prepared: Prepared, lookup: Lookup) -> None:
    """Fills in buildings.grid_code where the file left it empty."""
    buildings = prepared.layers.get("buildings")
    if buildings is None:
        return
    todo = np.flatnonzero((buildings.frame["grid_code"] == "").to_numpy())
    if len(todo) == 0:
        return
    codes, geoms = _candidate_grids(prepared, buildings.geoms[todo], lookup)
    found = grid_by_overlap(buildings.geoms[todo], codes, geoms)
    buildings.frame.loc[todo, "grid_code"] = found
    outside = int((found == "").sum())
    prepared.notes.append(f"buildings: {len(todo) - outside} without grid_code placed in the grid they "
                          f"overlap most" + (f"; {outside} lie outside every grid and stay unassigned"
                                             if outside else ""))


def _candidate_grids(prepared: Prepared, buildings: np.ndarray, lookup: Lookup) -> tuple[np.ndarray, np.ndarray]:
    bounds = tuple(float(v) for v in shapely.total_bounds(buildings))
    grids = prepared.layers.get("grids")
    in_file_codes = grids.frame["code"].to_numpy() if grids else np.array([], dtype=object)
    stored_codes, stored_geoms = lookup.grids_in_bbox(bounds, exclude=set(in_file_codes))
    in_file_geoms = grids.geoms if grids else np.array([], dtype=object)
    return (np.concatenate([in_file_codes, np.asarray(stored_codes, dtype=object)]),
            np.concatenate([in_file_geoms, np.asarray(stored_geoms, dtype=object)]))
