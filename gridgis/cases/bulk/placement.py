"""What assignment.place, assignee_for and case_create's territory code and warnings give each case, for
whole columns of points at once."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from django.contrib.gis.geos import Point

from geodata.assign_points import NEAREST, RULE_NAMES, UNASSIGNED
from gridgis.cases.models import Case
from gridgis.cases.services import _warnings
from gridgis.territory.models import Grid

from .territory import Territory


@dataclass
class Placed:
    grid_id: np.ndarray  # -1: none (so are the next four)
    community_id: np.ndarray
    street_id: np.ndarray
    worker_id: np.ndarray  # the grid's worker …
    staff_id: np.ndarray  # … else a staff member of its community
    rule: np.ndarray  # geodata.assign_points rule numbers
    distance_m: np.ndarray  # rounded to the centimetre as place() does; NaN when unassigned
    territory_code: np.ndarray
    warnings: np.ndarray  # JSON text

    @property
    def rule_name(self) -> np.ndarray:
        return np.array(RULE_NAMES, dtype=object)[self.rule]


def place_points(territory: Territory, lon: np.ndarray, lat: np.ndarray, fallback_code) -> Placed:
    """Rows with NaN coordinates have no point: unassigned. The territory code is the grid's, else the
    covering district's, else `fallback_code` (a code, or one per row)."""
    n = lon.size
    index, rule, distance = np.full(n, -1, dtype=np.int64), np.full(n, UNASSIGNED, dtype=np.int8), np.full(n, np.nan)
    has = ~np.isnan(lon)
    result = territory.grids.assign(lon[has], lat[has])
    index[has], rule[has] = result.grid_index, result.rule
    distance[has] = np.where(result.rule == NEAREST, np.round(result.distance_m, 2), result.distance_m)
    on_grid = index >= 0

    def pick(values: np.ndarray) -> np.ndarray:
        return np.where(on_grid, values[np.maximum(index, 0)], -1)

    code = np.array(np.broadcast_to(np.asarray(fallback_code, dtype=object), (n,)), dtype=object)
    code[on_grid] = territory.code[index[on_grid]]
    unplaced = np.flatnonzero(has & ~on_grid)
    district = territory.district_of(lon[unplaced], lat[unplaced])
    code[unplaced[district != ""]] = district[district != ""]
    worker = pick(territory.worker_id)
    return Placed(grid_id=pick(territory.grid_id), community_id=pick(territory.community_id),
                  street_id=pick(territory.street_id), worker_id=worker,
                  staff_id=np.where(worker < 0, pick(territory.staff_id), -1), rule=rule, distance_m=distance,
                  territory_code=code, warnings=warning_texts(has, on_grid, code != ""))


def warning_texts(has_point: np.ndarray, has_grid: np.ndarray, has_code: np.ndarray) -> np.ndarray:
    """services._warnings for each row (as JSON), asked once for each situation it tells apart."""
    out = np.empty(has_point.size, dtype=object)
    for (point, grid, code), text in _situations().items():
        out[(has_point == point) & (has_grid == grid) & (has_code == code)] = text
    return out


def placement_warnings() -> list[str]:
    """Every warning services._warnings can give a case: the ones placing a case again replaces."""
    return sorted({w for text in _situations().values() for w in json.loads(text)})


def _situations() -> dict[tuple[bool, bool, bool], str]:
    somewhere = Point(0, 0, srid=4326)
    return {
        (point, grid, code): json.dumps(_warnings(Case(location=somewhere if point else None,
                                                       grid=Grid() if grid else None,
                                                       territory_code="x" if code else "")), ensure_ascii=False)
        for point in (False, True) for grid in (False, True) for code in (False, True)
    }
