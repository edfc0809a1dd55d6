"""Checks of one layer on its own: fields, codes (geodata.codes), duplicates, counts, geometry types.

Each check returns Problems instead of raising, so that one run reports everything; cross-layer checks
(unknown parents, workers' grids) live in geodata.links.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from .codes import CodeError, normalize_code, parent_code, validate_child_of, validate_code
from .layers import LayerSpec
from .problems import Problem

# Fields holding territory codes (normalised from numbers, checked against the standard).
CODE_FIELDS = ("code", "district_code", "street_code", "community_code", "grid_code")
COUNT_FIELDS = ("households", "population")
# Database column widths (gridgis.territory / workforce models): longer text is a problem, not a crash.
MAX_LENGTHS = {"name": 100, "address": 255, "road": 100, "house_number": 30, "building_number": 30,
               "phone": 30, "worker_id": 32}
KEY_MAX_LENGTHS = {"buildings": 64, "workers": 32, "departments": 32}
NAME_MAX_LENGTHS = {"workers": 50}
PARENT_FIELD = {"street": "district_code", "community": "street_code", "grid": "community_code"}
ROLE_ALIASES = {"primary": "primary", "专职": "primary", "专职网格员": "primary", "网格长": "primary",
                "deputy": "deputy", "兼职": "deputy", "副网格员": "deputy", "兼职网格员": "deputy",
                "兼职/副网格员": "deputy", "": ""}
POLYGONAL = {shapely.GeometryType.POLYGON.value, shapely.GeometryType.MULTIPOLYGON.value}


def key_field(spec: LayerSpec) -> str:
    return "id" if spec.name == "workers" else "code"


def clean_attributes(spec: LayerSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The layer's fields as text (counts as integers), parent codes filled in from code prefixes.
    Returns None for the frame when required columns are missing (nothing else can be checked)."""
    missing = [f for f in spec.required if f not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        return None, [Problem(spec.name, f"missing required field {f} (the file has: {have})") for f in missing]
    fields = spec.fields
    clean = pd.DataFrame({f: _as_text(frame[f]) if f in frame.columns else "" for f in fields},
                         index=pd.RangeIndex(len(frame)))
    labels = clean[key_field(spec)].to_numpy()
    problems = _required_values(spec, clean, labels)
    problems += _keys(spec, clean, labels)
    problems += _lengths(spec, clean, labels)
    problems += _counts(spec, clean, labels)
    if spec.name == "workers":
        problems += _roles(clean, labels)
    return clean, problems


def _as_text(column: pd.Series) -> pd.Series:
    """Text without surrounding blanks; missing values (None, NaN) become ""; whole numbers lose their
    ".0" (a Shapefile's numeric field holding 210302 reads as 210302.0)."""
    if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column.astype(str).astype(object)
    if pd.api.types.is_float_dtype(column):
        text = column.astype(str).astype(object)
        whole = column.notna() & (column % 1 == 0)
        text[whole] = column[whole].astype("int64").astype(str)
        text[column.isna()] = ""
        return text
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in {"string", "empty"}:
        text = [v.strip() if isinstance(v, str) else "" for v in values]
    else:
        text = ["" if _missing(v) else _scalar_text(v) for v in values]
    return pd.Series(text, index=column.index, dtype=object)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _scalar_text(value: object) -> str:
    # Mixed columns (a GeoJSON property that is a number in some features, text in others).
    return normalize_code(value) if isinstance(value, (int, float)) else str(value).strip()


def _required_values(spec: LayerSpec, clean: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    return [
        Problem(spec.name, f"missing required field {f}", int(i), labels[i] or None)
        for f in spec.required
        for i in np.flatnonzero(clean[f].to_numpy() == "")
    ]


def _keys(spec: LayerSpec, clean: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    problems = _code_format(spec, clean) if spec.level else _key_length(spec, clean)
    problems += _parent_codes(spec, clean)
    problems += _duplicates(spec, clean)
    return problems


def _code_format(spec: LayerSpec, clean: pd.DataFrame) -> list[Problem]:
    problems = []
    for i, code in enumerate(clean["code"].to_numpy()):
        if code:
            try:
                validate_code(spec.level, code)
            except CodeError as exc:
                problems.append(Problem(spec.name, str(exc), i, code))
    return problems


def _key_length(spec: LayerSpec, clean: pd.DataFrame) -> list[Problem]:
    key, limit = key_field(spec), KEY_MAX_LENGTHS[spec.name]
    values = clean[key].to_numpy()
    return [Problem(spec.name, f"{key} longer than {limit} characters", int(i), values[i])
            for i in np.flatnonzero(clean[key].str.len().to_numpy() > limit)]


def _parent_codes(spec: LayerSpec, clean: pd.DataFrame) -> list[Problem]:
    """Checks given parent codes against the code's prefix and fills in the omitted ones."""
    if spec.level in PARENT_FIELD:
        return _fill_parent(spec, clean, PARENT_FIELD[spec.level])
    level = {"buildings": "grid", "workers": "grid", "departments": "district"}.get(spec.name)
    column = "district_code" if level == "district" else "grid_code"
    return _code_column_format(spec, clean, column, level) if level else []


def _fill_parent(spec: LayerSpec, clean: pd.DataFrame, column: str) -> list[Problem]:
    problems = []
    codes, given = clean["code"].to_numpy(), clean[column].to_numpy()
    for i, (code, parent) in enumerate(zip(codes, given, strict=True)):
        if not code:
            continue
        try:
            validate_child_of(spec.level, code, parent)
        except CodeError as exc:
            problems.append(Problem(spec.name, f"{exc} ({column})", i, code))
    derived = np.array([parent_code(spec.level, c) if c else "" for c in codes], dtype=object)
    clean[column] = np.where(given == "", derived, given)
    return problems


def _code_column_format(spec: LayerSpec, clean: pd.DataFrame, column: str, level: str) -> list[Problem]:
    reasons = {}  # each distinct code is checked once: 25,000 buildings name a few hundred grids
    for value in clean[column].unique():
        try:
            validate_code(level, value) if value else None
        except CodeError as exc:
            reasons[value] = str(exc)
    if not reasons:
        return []
    values, labels = clean[column].to_numpy(), clean[key_field(spec)].to_numpy()
    return [Problem(spec.name, f"{column}: {reasons[values[i]]}", int(i), labels[i])
            for i in np.flatnonzero(np.isin(values, list(reasons)))]


def _duplicates(spec: LayerSpec, clean: pd.DataFrame) -> list[Problem]:
    # A worker may answer for several grids (one row each): the key is the (id, grid_code) pair.
    keys = ["id", "grid_code"] if spec.name == "workers" else ["code"]
    present = clean[keys[0]] != ""
    repeated = np.flatnonzero((clean.duplicated(subset=keys) & present).to_numpy())
    if len(repeated) == 0:
        return []
    first = {}
    for i, key in enumerate(zip(*(clean[k].to_numpy() for k in keys), strict=True)):
        first.setdefault(key, i)
    problems = []
    for i in repeated:
        key = tuple(clean[k].iat[i] for k in keys)
        what = " for grid ".join(v for v in key if v)
        problems.append(Problem(spec.name, f"duplicate {keys[0]} {what} (first at feature #{first[key]})",
                                int(i), key[0]))
    return problems


def _lengths(spec: LayerSpec, clean: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    limits = {**MAX_LENGTHS, **({"name": NAME_MAX_LENGTHS[spec.name]} if spec.name in NAME_MAX_LENGTHS else {})}
    problems = []
    for column in clean.columns.intersection(list(limits)):
        lengths = clean[column].str.len().to_numpy()
        problems += [Problem(spec.name, f"{column} longer than {limits[column]} characters", int(i), labels[i])
                     for i in np.flatnonzero(lengths > limits[column])]
    return problems


def _counts(spec: LayerSpec, clean: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    problems = []
    for column in clean.columns.intersection(list(COUNT_FIELDS)):
        text = clean[column]
        numbers = pd.to_numeric(text.where(text != "", "0"), errors="coerce")
        bad = numbers.isna() | (numbers < 0) | (numbers % 1 != 0)
        problems += [Problem(spec.name, f"{column} must be a whole number ≥ 0, not {text.iat[i]!r}", int(i),
                             labels[i]) for i in np.flatnonzero(bad.to_numpy())]
        clean[column] = numbers.where(~bad, 0).astype("int64")
    return problems


def _roles(clean: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    roles = clean["role"].str.lower().map(ROLE_ALIASES)
    problems = [Problem("workers", f"role must be primary or deputy, not {clean['role'].iat[i]!r}", int(i),
                        labels[i]) for i in np.flatnonzero(roles.isna().to_numpy())]
    problems += [Problem("workers", "role given without grid_code", int(i), labels[i])
                 for i in np.flatnonzero(((roles.fillna("") != "") & (clean["grid_code"] == "")).to_numpy())]
    clean["role"] = roles.fillna("")
    return problems


def check_geometry_types(layer: str, geoms: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list[Problem]]:
    """Marks the features whose geometry can be used (a non-empty Polygon or MultiPolygon)."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(types, list(POLYGONAL))
    usable = ~(missing | wrong)
    if wrong.all():  # a whole layer of points or lines: one problem says it better than thousands
        kinds = sorted({geoms[i].geom_type for i in np.flatnonzero(wrong)})
        return usable, [Problem(layer, f"the layer holds {', '.join(kinds)} geometries, "
                                       "expected Polygon or MultiPolygon")]
    problems = [Problem(layer, "geometry is missing, empty or unreadable", int(i), labels[i] or None)
                for i in np.flatnonzero(missing)]
    problems += [Problem(layer, f"geometry is a {geoms[i].geom_type}, "
                                "expected Polygon or MultiPolygon", int(i), labels[i] or None)
                 for i in np.flatnonzero(wrong)]
    return usable, problems
