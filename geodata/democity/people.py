"""Who answers for the demo city: grid workers (one primary per grid, deputies for some) and the
district's functional departments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import names

DEPUTY_CHANCES = (0.62, 0.32, 0.06)  # a grid has 0, 1 or 2 deputies
WORKER_COLUMNS = ["id", "name", "phone", "grid_code", "role"]
DEPARTMENT_COLUMNS = ["code", "name", "district_code", "phone"]


def grid_workers(grid_codes: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """One row per worker; ids W00001 … in grid order, each grid's primary before its deputies."""
    rows = []
    phones: set[str] = set()
    for grid_code in grid_codes:
        deputies = int(rng.choice(len(DEPUTY_CHANCES), p=DEPUTY_CHANCES))
        for role in ["primary"] + ["deputy"] * deputies:
            worker_id = f"W{len(rows) + 1:05d}"
            rows.append((worker_id, names.person_name(rng), unique_mobile(rng, phones), grid_code, role))
    return pd.DataFrame(rows, columns=WORKER_COLUMNS)


def unique_mobile(rng: np.random.Generator, taken: set[str]) -> str:
    while (phone := names.mobile_number(rng)) in taken:
        pass
    taken.add(phone)
    return phone


def departments(district_code: str, rng: np.random.Generator) -> pd.DataFrame:
    rows = [
        (f"{district_code}-{suffix}", name, district_code, f"0412-{int(rng.integers(2200000, 5999999))}")
        for suffix, name in names.DEPARTMENTS
    ]
    return pd.DataFrame(rows, columns=DEPARTMENT_COLUMNS)
