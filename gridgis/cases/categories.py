"""The category fixture (GB/T 30428.2 components and events), loaded by code: new rows are added and
existing ones keep any edits made in the admin."""

from __future__ import annotations

import csv
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "categories.csv"
_INTEGER_FIELDS = {"deadline_hours"}


def read_categories(path: Path = FIXTURE) -> list[dict]:
    with path.open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    return [{k: int(v) if k in _INTEGER_FIELDS else v for k, v in row.items()} for row in rows]


def load_categories(category_model, path: Path = FIXTURE) -> int:
    """Adds the categories missing from the table; returns how many were added."""
    known = set(category_model.objects.values_list("code", flat=True))
    new = [category_model(**row) for row in read_categories(path) if row["code"] not in known]
    category_model.objects.bulk_create(new)
    return len(new)
