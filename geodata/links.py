"""Checks across layers: every parent code, grid code and worker id must name something that exists,
in the file or already in the database; and who is the primary worker of a grid must be unambiguous.

The database is reached through a `Lookup` (implemented by gridgis.territory.importing), so this module
stays free of Django.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import numpy as np
import pandas as pd

from .problems import Problem

# (layer, field) → the layer its values must name.
REFERENCES = (
    ("streets", "district_code", "districts"),
    ("communities", "street_code", "streets"),
    ("grids", "community_code", "communities"),
    ("buildings", "grid_code", "grids"),
    ("departments", "district_code", "districts"),
    ("workers", "grid_code", "grids"),
    ("grids", "worker_id", "workers"),
)
SINGULAR = {"districts": "district", "streets": "street", "communities": "community", "grids": "grid",
            "workers": "worker"}


class Lookup(Protocol):
    def existing(self, layer: str, keys: Collection[str]) -> set[str]:
        """Which of `keys` (codes, or worker ids for `workers`) the database already holds."""
        ...


def check_references(frames: dict[str, pd.DataFrame], lookup: Lookup) -> list[Problem]:
    problems = []
    for layer, field, target in REFERENCES:
        if layer in frames:
            problems += _unknown(layer, field, target, frames, lookup)
    return problems


def _keys_of(layer: str, frame: pd.DataFrame) -> set[str]:
    return set(frame["id" if layer == "workers" else "code"])


def _unknown(layer: str, field: str, target: str, frames: dict[str, pd.DataFrame], lookup: Lookup) -> list[Problem]:
    frame = frames[layer]
    values = frame[field].to_numpy()
    wanted = set(values) - {""} - (_keys_of(target, frames[target]) if target in frames else set())
    missing = wanted - lookup.existing(target, wanted) if wanted else set()
    if not missing:
        return []
    labels = frame["id" if layer == "workers" else "code"].to_numpy()
    return [
        Problem(layer, f"unknown {SINGULAR[target]} {values[i]} ({field}): not in the file's {target} "
                       "nor in the database", int(i), labels[i] or None)
        for i in np.flatnonzero(np.isin(values, list(missing)))
    ]


def worker_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """One row per worker (id, name, phone) from rows that may repeat a worker for several grids."""
    problems = []
    for column in ("name", "phone"):
        varying = frame.groupby("id")[column].nunique()
        for worker in varying[varying > 1].index:
            rows = np.flatnonzero((frame["id"] == worker).to_numpy())
            problems.append(Problem("workers", f"rows of one worker disagree on {column}: "
                                               f"{', '.join(sorted(set(frame[column].iloc[rows])))}",
                                    int(rows[1]), worker))
    return frame.drop_duplicates("id")[["id", "name", "phone"]].reset_index(drop=True), problems


def assignments(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[Problem]]:
    """Who answers for which grid, as (worker_id, grid_code, role) rows.

    grids.worker_id names a grid's primary worker; a workers row's role defaults to primary unless the
    grids layer names someone else as primary, then to deputy."""
    named = _named_primaries(frames.get("grids"))
    rows = _worker_rows(frames.get("workers"), named)
    for grid, worker in named.items():
        rows.append((worker, grid, "primary", None))
    table = pd.DataFrame(rows, columns=["worker_id", "grid_code", "role", "index"])
    table = table.drop_duplicates(["worker_id", "grid_code"])
    return table.drop(columns="index").reset_index(drop=True), _primary_conflicts(table, named)


def _named_primaries(grids: pd.DataFrame | None) -> dict[str, str]:
    if grids is None:
        return {}
    given = grids[grids["worker_id"] != ""]
    return dict(zip(given["code"], given["worker_id"], strict=True))


def _worker_rows(workers: pd.DataFrame | None, named: dict[str, str]) -> list[tuple]:
    if workers is None:
        return []
    rows = []
    for i, (worker, grid, role) in enumerate(zip(workers["id"], workers["grid_code"], workers["role"],
                                                 strict=True)):
        if grid:
            default = "deputy" if named.get(grid, worker) != worker else "primary"
            rows.append((worker, grid, role or default, i))
    return rows


def _primary_conflicts(table: pd.DataFrame, named: dict[str, str]) -> list[Problem]:
    problems = []
    primaries = table[table["role"] == "primary"]
    for grid, group in primaries.groupby("grid_code"):
        if len(group) < 2:
            continue
        workers = ", ".join(sorted(group["worker_id"]))
        source = f"grids.worker_id names {named[grid]}; " if grid in named else ""
        index = group["index"].dropna()
        problems.append(Problem("workers", f"grid {grid} has more than one primary worker ({workers}); "
                                           f"{source}a grid has exactly one primary, the others are deputies",
                                int(index.iloc[0]) if len(index) else None, str(grid)))
    return problems
