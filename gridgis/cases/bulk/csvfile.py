"""Reading a CSV of historical cases and checking every row before anything is written.

Checks are vectorised (pandas string methods over whole columns) and mirror the API's: the same lengths,
choices, coordinate ranges (with the "swapped" hint) and phone characters. Every problem is collected with
its row and column; the first SHOWN are reported with a count of the rest.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.china_coords import CRS_NAMES
from gridgis.cases.models import Case

COLUMNS = ("number", "received_at", "description", "category", "channel", "lon", "lat", "crs", "address",
           "status", "reporter_name", "reporter_phone")
REQUIRED = ("received_at", "description")
MAX_LENGTH = {"number": 20, "description": 4000, "address": 255, "reporter_name": 50, "reporter_phone": 30}
TEXT = ("number", "description", "address", "reporter_name", "reporter_phone")
SHOWN = 50
TIME_ZONE = "Asia/Shanghai"
# An explicit offset after a time of day: "…T08:15:00+08:00", "… 08:15Z"; anything else is local time.
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_PHONE = "0123456789+- "


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}" if self.row else f"{self.column}: {self.reason}"


class CasesRejected(Exception):
    """The file, or some of its rows, cannot be imported; nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = sorted(problems, key=lambda p: (p.row, COLUMNS.index(p.column)
                                                         if p.column in COLUMNS else -1))[:SHOWN]
        self.total = len(problems) if total is None else total
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"Import rejected, nothing was written: {self.total} problem{'s' * (self.total != 1)}."]
        lines += [f"  {problem}" for problem in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  … and {self.total - len(self.problems)} more")
        return "\n".join(lines)


@dataclass
class CaseRows:
    """The file's rows, checked and typed (arrays of equal length, in file order)."""

    row: np.ndarray  # spreadsheet row number
    number: np.ndarray  # str, "" when the file gives none
    received_us: np.ndarray  # int64 microseconds since 1970, UTC
    description: np.ndarray
    category_id: np.ndarray  # int64, -1 for none
    channel: np.ndarray
    lon: np.ndarray  # as received, NaN when the row has no coordinates
    lat: np.ndarray
    crs: np.ndarray
    address: np.ndarray
    status: np.ndarray
    reporter_name: np.ndarray
    reporter_phone: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: np.ndarray) -> CaseRows:
        return CaseRows(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})

    @property
    def has_point(self) -> np.ndarray:
        return ~np.isnan(self.lon)


@dataclass
class _Checks:
    """Problems found so far: the first SHOWN of each check, and how many there are in all."""

    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, bad: np.ndarray, rows: np.ndarray, column: str, reason, values=None) -> None:
        """`reason` is a text, or a function of the offending value (then `values` holds them)."""
        bad = np.asarray(bad, dtype=bool)
        count = int(bad.sum())
        if not count:
            return
        self.total += count
        for i in np.flatnonzero(bad)[:SHOWN]:
            text = reason(values[i]) if callable(reason) else reason
            self.problems.append(Problem(int(rows[i]), column, text))

    def raise_if_any(self) -> None:
        if self.total:
            raise CasesRejected(self.problems, self.total)


def read_cases_csv(path: Path, *, default_crs: str = "wgs84", categories: dict[str, int],
                   encoding: str = "utf-8-sig") -> CaseRows:
    """Reads and checks PATH; raises CasesRejected listing every problem (capped), else the typed rows.
    `categories`: category code → id."""
    frame = _read(path, encoding)
    checks = _Checks()
    rows = np.arange(len(frame)) + 2
    text = {c: _strip(frame, c) for c in TEXT}
    for column, limit in MAX_LENGTH.items():
        checks.add(_lengths(text[column]) > limit, rows, column, f"longer than {limit} characters")
    for column in TEXT:
        checks.add(_has_char(text[column], "\x00"), rows, column, "contains a NUL character")
    checks.add(text["description"] == "", rows, "description", "missing (every case needs a description)")
    checks.add(~_only(text["reporter_phone"], _PHONE), rows, "reporter_phone",
               "may contain only digits, +, - and spaces")
    _check_numbers(text["number"], rows, checks)
    received = _received_at(_strip(frame, "received_at"), rows, checks)
    category = _category(_strip(frame, "category"), rows, checks, categories)
    channel = _choice(frame, "channel", Case.Channel.values, Case.Channel.OTHER, rows, checks)
    status = _choice(frame, "status", Case.Status.values, Case.Status.RECEIVED, rows, checks)
    crs = _choice(frame, "crs", CRS_NAMES, default_crs, rows, checks)
    lon, lat, given = _coordinates(frame, rows, checks)
    checks.add(~given & (text["address"] == ""), rows, "lon",
               "neither coordinates (lon, lat) nor an address: the case cannot be located")
    checks.raise_if_any()
    return CaseRows(row=rows, number=text["number"], received_us=received, description=text["description"],
                    category_id=category, channel=channel, lon=lon, lat=lat, crs=crs, address=text["address"],
                    status=status, reporter_name=text["reporter_name"], reporter_phone=text["reporter_phone"])


# --- whole columns of text (object arrays): C-level loops, a fast answer when the column as a whole tells --


def _strip(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return _map(str.strip, frame[column].to_numpy(dtype=object))


def _map(function, values: np.ndarray) -> np.ndarray:
    out = np.empty(values.size, dtype=object)
    out[:] = list(map(function, values))
    return out


def _lengths(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(len, values), dtype=np.int64, count=values.size)


def _has_char(values: np.ndarray, char: str) -> np.ndarray:
    if char not in "".join(values):
        return np.zeros(values.size, dtype=bool)
    return np.fromiter((char in v for v in values), dtype=bool, count=values.size)


def _only(values: np.ndarray, allowed: str) -> np.ndarray:
    """Which values consist of `allowed` characters only."""
    if set("".join(values)) <= set(allowed):
        return np.ones(values.size, dtype=bool)
    return np.fromiter((set(v) <= set(allowed) for v in values), dtype=bool, count=values.size)


# --- reading -----------------------------------------------------------------------------------------


def _read(path: Path, encoding: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding,
                            quoting=csv.QUOTE_MINIMAL, engine="c")
    except UnicodeDecodeError as exc:
        raise CasesRejected([Problem(0, "file", f"not {encoding} text ({exc.reason} at byte {exc.start}); "
                                                "save it as UTF-8 CSV or give --encoding (e.g. gb18030)")]) from exc
    except pd.errors.EmptyDataError as exc:
        raise CasesRejected([Problem(0, "file", "empty: no header row")]) from exc
    except (pd.errors.ParserError, OSError) as exc:
        raise CasesRejected([Problem(0, "file", str(exc).strip())]) from exc
    return _columns(frame)


def _columns(frame: pd.DataFrame) -> pd.DataFrame:
    names = [str(c).strip().lower() for c in frame.columns]
    problems = [Problem(0, name or "(blank)", f"unknown column (expected: {', '.join(COLUMNS)})")
                for name in names if name not in COLUMNS]
    problems += [Problem(0, name, "column given twice") for name in sorted({n for n in names if names.count(n) > 1})]
    problems += [Problem(0, name, "required column missing") for name in REQUIRED if name not in names]
    if ("lon" in names) != ("lat" in names):
        problems.append(Problem(0, "lat" if "lon" in names else "lon", "lon and lat come together"))
    if "lon" not in names and "address" not in names:
        problems.append(Problem(0, "lon", "neither lon/lat nor address columns: no case could be located"))
    if problems:
        raise CasesRejected(problems)
    frame.columns = names
    return frame


# --- the checks --------------------------------------------------------------------------------------


def _check_numbers(number: np.ndarray, rows: np.ndarray, checks: _Checks) -> None:
    twice = (number != "") & pd.Series(number).duplicated(keep=False).to_numpy()
    checks.add(twice, rows, "number", lambda n: f"{n} appears more than once in the file", number)


def _received_at(values: np.ndarray, rows: np.ndarray, checks: _Checks) -> np.ndarray:
    """Microseconds since 1970 (UTC) of ISO 8601 times; naive ones are Asia/Shanghai local time."""
    micros = np.zeros(values.size, dtype=np.int64)
    checks.add(values == "", rows, "received_at", "missing")
    aware = np.zeros(values.size, dtype=bool)
    after_date = "\x00".join(v[10:] for v in values)
    if any(c in after_date for c in "Zz+-"):  # some may carry an offset: look at each
        aware = np.fromiter((m is not None for m in map(_OFFSET.search, values)), dtype=bool, count=values.size)
    given = values != ""
    for mask, parse in ((aware, _parse_aware), (~aware & given, _parse_local)):
        if mask.any():
            parsed, bad = parse(pd.Series(values[mask], dtype=object))
            micros[mask] = parsed
            checks.add(_spread(bad, mask), rows, "received_at", lambda v: f"{v!r} is not an ISO 8601 "
                       "date and time (2024-03-01 08:15:00, 2024-03-01T08:15+08:00)", values)
    return micros


def _spread(sub: np.ndarray, mask: np.ndarray) -> np.ndarray:
    full = np.zeros(mask.shape, dtype=bool)
    full[mask] = sub
    return full


def _micros(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    bad = times.isna().to_numpy()
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return np.where(bad, 0, utc.to_numpy().astype(np.int64)), bad


def _parse_aware(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return _micros(pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce"))


def _parse_local(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    naive = pd.to_datetime(values, format="ISO8601", errors="coerce")
    return _micros(naive.dt.tz_localize(TIME_ZONE, ambiguous="NaT", nonexistent="NaT"))


def _category(codes: np.ndarray, rows: np.ndarray, checks: _Checks, categories: dict[str, int]) -> np.ndarray:
    ids = pd.Series(codes, dtype=object).map(categories)
    unknown = (codes != "") & ids.isna().to_numpy()
    checks.add(unknown, rows, "category", lambda c: f"unknown category {c!r}", codes)
    return ids.fillna(-1).to_numpy(dtype=np.int64)


def _choice(frame, column: str, choices, default: str, rows, checks: _Checks) -> np.ndarray:
    values = _map(str.lower, _strip(frame, column))
    values[values == ""] = default
    bad = ~pd.Series(values, dtype=object).isin(list(choices)).to_numpy()
    checks.add(bad, rows, column, lambda v: f"unknown {column} {v!r} (one of {', '.join(choices)})", values)
    return values


def _numbers(text: np.ndarray) -> np.ndarray:
    """Floats of a column of number texts, NaN for empty or unreadable ones (C-level when all read)."""
    filled = np.where(text == "", "nan", text)
    try:
        return filled.astype(np.float64)
    except ValueError:
        return pd.to_numeric(pd.Series(text, dtype=object).where(text != ""), errors="coerce").to_numpy(np.float64)


def _coordinates(frame, rows: np.ndarray, checks: _Checks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat as floats (NaN where the row has none), the API's checks applied, and which rows give any."""
    lon_text, lat_text = _strip(frame, "lon"), _strip(frame, "lat")
    lon, lat = _numbers(lon_text), _numbers(lat_text)
    has_lon, has_lat = lon_text != "", lat_text != ""
    checks.add(has_lon & ~has_lat, rows, "lat", "missing while lon is given")
    checks.add(has_lat & ~has_lon, rows, "lon", "missing while lat is given")
    for name, text, value, has in (("lon", lon_text, lon, has_lon), ("lat", lat_text, lat, has_lat)):
        checks.add(has & ~np.isfinite(value), rows, name, lambda v: f"{v!r} is not a finite number", text)
    both = has_lon & has_lat & np.isfinite(lon) & np.isfinite(lat)
    with np.errstate(invalid="ignore"):
        lat_out = both & (np.abs(lat) > 90)
        swapped = lat_out & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
        checks.add(swapped, rows, "lat", lambda v: f"{v} is out of range; lon and lat look swapped", lat)
        checks.add(lat_out & ~swapped, rows, "lat", lambda v: f"{v} is out of range (−90…90)", lat)
        checks.add(both & ~lat_out & (np.abs(lon) > 180), rows, "lon", lambda v: f"{v} is out of range (−180…180)",
                   lon)
    ok = both & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    return np.where(ok, lon, np.nan), np.where(ok, lat, np.nan), has_lon | has_lat
