"""import_cases: historical cases from a CSV file, located, assigned and written in bulk, in one transaction.

    read + check every row (csvfile) → drop rows already imported → locate (coordinates to WGS84, addresses
    geocoded) → place (PointAssigner over every grid) → number → binary COPY into cases_case

Each case gets what case_create would give it — the grid, community, street, territory code, assignee,
rule and distance, warnings, deadline and number — but no duplicate link and no timeline entry (history is
imported as it stands, and a million NOTIFYs would drown the live feed).

Idempotent: a row whose `number` is already a case is skipped; a row without a number is skipped when a
case with the same reception time, text, coordinates, category, channel and reporter exists (the k-th of
several identical rows matches the k-th such case), so re-importing a file adds nothing.

Big files: the cases table's secondary indexes and foreign keys are dropped for the load and rebuilt after
it, inside the transaction (bulk.rebuild). The table is locked meanwhile, so intake waits for the import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from tqdm import tqdm

from geodata.assign_points import RULE_NAMES
from geodata.china_coords import to_wgs84_array
from gridgis.cases.models import Case, Category
from gridgis.territory.models import Building

from . import pgcopy
from .csvfile import CaseRows, read_cases_csv
from .db import column_types, key_column, stage
from .deadlines import add_working_hours_us
from .placement import Placed, place_points
from .rebuild import drop_secondary, restore_secondary, worth_rebuilding
from .territory import load_territory

TABLE = Case._meta.db_table
SEQUENCE = "cases_case_number_seq"
LOCK = "gridgis.cases.import_cases"  # imports run one at a time (advisory lock, held to commit)


@dataclass
class ImportCasesReport:
    rows: int = 0  # in the file
    already: int = 0  # skipped: imported before
    imported: int = 0
    rules: dict[str, int] = field(default_factory=dict)  # imported cases by assignment rule
    geocoded: int = 0  # located by their address
    not_located: int = 0  # address not found: waiting for the command centre ("needs location")
    numbered: int = 0  # numbers taken from the sequence
    rebuilt_indexes: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    rebuild_timings: dict[str, float] = field(default_factory=dict)  # index or constraint → seconds

    def lines(self) -> list[str]:
        rate = self.rows / self.seconds if self.seconds else 0.0
        lines = [f"Imported {self.imported:,} of {self.rows:,} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s)."]
        if self.already:
            lines.append(f"  already imported (skipped): {self.already:,}")
        lines += [f"  {rule}: {self.rules.get(rule, 0):,}" for rule in RULE_NAMES]
        lines.append(f"  located by address: {self.geocoded:,}; address not found (needs location): "
                     f"{self.not_located:,}")
        lines.append(f"  numbers from the sequence: {self.numbered:,}")
        if self.rebuilt_indexes:
            lines.append("  the cases table's indexes and foreign keys were rebuilt after the load")
        return lines


@dataclass
class Located:
    """Where each row is, in WGS84 (NaN: nowhere), and how that was found."""

    lon: np.ndarray
    lat: np.ndarray
    method: np.ndarray  # Case.GeocodeMethod values
    confidence: np.ndarray  # NaN: none
    building_id: np.ndarray  # -1: none
    candidates: np.ndarray  # JSON text


def import_cases(*, path: Path, crs: str = "wgs84", batch: int = 100_000, jurisdiction: str = "",
                 rebuild_indexes: bool | None = None, encoding: str = "utf-8-sig",
                 progress: bool = False) -> ImportCasesReport:
    """Imports PATH in one transaction. Raises csvfile.CasesRejected (nothing written) when any row is bad.
    rebuild_indexes: None decides by size (rebuild.worth_rebuilding)."""
    started = time.perf_counter()
    report = ImportCasesReport()
    bar = _Bar(progress)
    try:
        with _timed(report, "read and check", bar):
            rows = read_cases_csv(path, default_crs=crs, categories=_category_ids(), encoding=encoding)
        report.rows = len(rows)
        bar.total(len(rows))
        with transaction.atomic(), connection.cursor() as django_cursor, \
                django_cursor.connection.cursor() as cursor:  # psycopg's own (COPY), in Django's transaction
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK])
            _import(cursor, rows, report, bar, jurisdiction=jurisdiction, batch=batch, rebuild=rebuild_indexes)
    finally:
        bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _import(cursor, rows: CaseRows, report: ImportCasesReport, bar: _Bar, *, jurisdiction: str, batch: int,
            rebuild: bool | None) -> None:
    with _timed(report, "skip imported", bar):
        rows = rows.take(_new_rows(cursor, rows))
    report.already, report.imported = report.rows - len(rows), len(rows)
    if not len(rows):
        return
    with _timed(report, "locate", bar):
        located = _locate(rows)
    with _timed(report, "assign", bar):
        placed = place_points(load_territory(cursor), located.lon, located.lat, jurisdiction)
    with _timed(report, "number", bar):
        numbers, report.numbered = _numbers(cursor, rows)
    columns = _case_columns(cursor, rows, located, placed, numbers)
    report.rebuilt_indexes = worth_rebuilding(cursor, TABLE, len(rows)) if rebuild is None else rebuild
    saved = drop_secondary(cursor, TABLE, columns) if report.rebuilt_indexes else []
    with _timed(report, "write", bar):
        _write(cursor, columns, len(rows), batch, bar)
    if saved:
        with _timed(report, "rebuild indexes", bar):
            restore_secondary(cursor, TABLE, saved, report.rebuild_timings)
    _count(report, located, placed)


# --- steps -------------------------------------------------------------------------------------------


def _category_ids() -> dict[str, int]:
    return dict(Category.objects.values_list("code", "id"))


def _new_rows(cursor, rows: CaseRows) -> np.ndarray:
    """Indexes of the rows not imported before (by number, else by content)."""
    keep = np.ones(len(rows), dtype=bool)
    cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(TABLE)))
    if not len(rows) or not cursor.fetchone()[0]:
        return np.flatnonzero(keep)
    numbered = np.flatnonzero(rows.number != "")
    if numbered.size:
        keep[numbered[_existing_numbers(cursor, rows.number[numbered])]] = False
    unnumbered = np.flatnonzero(rows.number == "")
    if unnumbered.size:
        keep[unnumbered[_existing_contents(cursor, rows.take(unnumbered))]] = False
    return np.flatnonzero(keep)


def _existing_numbers(cursor, numbers: np.ndarray) -> np.ndarray:
    stage(cursor, "_import_numbers", {"i": ("int8", pgcopy.Int8(np.arange(numbers.size))),
                                       "number": ("text", pgcopy.Text(numbers))}, numbers.size)
    cursor.execute(sql.SQL("SELECT s.i FROM _import_numbers s JOIN {} c ON c.number = s.number")
                   .format(sql.Identifier(TABLE)))
    return np.array([i for (i,) in cursor.fetchall()], dtype=np.int64)


# What makes an unnumbered row the same case as a stored one. NULLs (no coordinates, no category) must match
# too: they are compared as NaN and 0 (PostgreSQL's NaN equals NaN), so the join can hash on equality.
_CONTENT = ("received_at", "description", "address", "coalesce(raw_lon, 'NaN')", "coalesce(raw_lat, 'NaN')",
            "raw_crs", "coalesce(category_id, 0)", "channel", "reporter_name", "reporter_phone")
_SAME_CONTENT = """
WITH s AS (
  SELECT i, {content}, row_number() OVER (PARTITION BY {partition} ORDER BY i) AS k FROM _import_contents
), c AS (
  SELECT {content}, row_number() OVER (PARTITION BY {partition} ORDER BY id) AS k
  FROM {table} WHERE received_at IN (SELECT received_at FROM _import_contents)
)
SELECT s.i FROM s JOIN c USING ({names}, k)
"""


def _existing_contents(cursor, rows: CaseRows) -> np.ndarray:
    n = len(rows)
    stage(cursor, "_import_contents", {
        "i": ("int8", pgcopy.Int8(np.arange(n))),
        "received_at": ("timestamptz", pgcopy.Timestamptz(rows.received_us)),
        "description": ("text", pgcopy.Text(rows.description)), "address": ("text", pgcopy.Text(rows.address)),
        "raw_lon": ("float8", pgcopy.Float8(rows.lon)), "raw_lat": ("float8", pgcopy.Float8(rows.lat)),
        "raw_crs": ("text", pgcopy.coded_text(rows.crs)),
        "category_id": ("int8", pgcopy.Int8(rows.category_id, rows.category_id < 0)),
        "channel": ("text", pgcopy.coded_text(rows.channel)),
        "reporter_name": ("text", pgcopy.Text(rows.reporter_name)),
        "reporter_phone": ("text", pgcopy.Text(rows.reporter_phone)),
    }, n)
    names = [f"c{k}" for k in range(len(_CONTENT))]
    query = sql.SQL(_SAME_CONTENT).format(
        content=sql.SQL(", ").join(sql.SQL("{} AS {}").format(sql.SQL(expression), sql.Identifier(name))
                                   for expression, name in zip(_CONTENT, names, strict=True)),
        partition=sql.SQL(", ").join(map(sql.SQL, _CONTENT)), names=sql.SQL(", ").join(map(sql.Identifier, names)),
        table=sql.Identifier(TABLE))
    cursor.execute(query)
    return np.array([i for (i,) in cursor.fetchall()], dtype=np.int64)


def _locate(rows: CaseRows) -> Located:
    """Coordinates converted to WGS84 (vectorised, per CRS); rows with only an address geocoded."""
    n = len(rows)
    located = Located(lon=np.full(n, np.nan), lat=np.full(n, np.nan),
                      method=np.full(n, Case.GeocodeMethod.NONE.value, dtype=object),
                      confidence=np.full(n, np.nan), building_id=np.full(n, -1, dtype=np.int64),
                      candidates=np.full(n, "[]", dtype=object))
    point = rows.has_point
    for crs in np.unique(rows.crs[point]):
        rows_in = point & (rows.crs == crs)
        located.lon[rows_in], located.lat[rows_in] = to_wgs84_array(rows.lon[rows_in], rows.lat[rows_in], crs)
    located.method[point] = Case.GeocodeMethod.POINT.value
    located.confidence[point] = 1.0
    addressed = np.flatnonzero(~point)
    if addressed.size:
        _geocode(located, addressed, rows.address[addressed])
    return located


def _geocode(located: Located, index: np.ndarray, addresses: np.ndarray) -> None:
    """As case_create does for a report with only an address: the gazetteer's point, method, confidence,
    building and candidates; no point means "needs location"."""
    from gridgis.geocoding.gazetteer import geocode_many

    results = geocode_many(list(addresses))
    buildings = dict(Building.objects.filter(code__in={r.building_code for r in results if r.building_code})
                     .values_list("code", "id"))
    for i, result in zip(index, results, strict=True):
        located.confidence[i] = result.confidence
        located.candidates[i] = json.dumps([c.as_dict() for c in result.candidates], ensure_ascii=False)
        if result.located:
            located.lon[i], located.lat[i] = result.lonlat
            located.method[i] = result.method
            located.building_id[i] = buildings.get(result.building_code, -1)


def _numbers(cursor, rows: CaseRows) -> tuple[np.ndarray, int]:
    """The file's numbers, and for rows without one `YYYYMMDD` (local reception date) + the next value of
    the sequence, at least 7 digits, as case_create files them (services._FILE); the values are taken in one
    statement."""
    numbers = rows.number.copy()
    missing = np.flatnonzero(numbers == "")
    if not missing.size:
        return numbers, 0
    query = sql.SQL("COPY (SELECT nextval({}) FROM generate_series(1, {})) TO STDOUT (FORMAT binary)").format(
        sql.Literal(SEQUENCE), sql.Literal(int(missing.size)))
    with cursor.copy(query) as copy:
        data = b"".join(bytes(block) for block in copy)
    record = np.dtype([("fields", ">i2"), ("length", ">i4"), ("value", ">i8")])
    values = np.frombuffer(data, dtype=record, offset=len(pgcopy.SIGNATURE), count=missing.size)["value"]
    days = _local_days(rows.received_us[missing])
    numbers[missing] = _case_numbers(days, values)
    return numbers, int(missing.size)


def _case_numbers(days: np.ndarray, values: np.ndarray) -> list[str]:
    """Case numbers in bulk, as services._FILE makes them: the day (YYYYMMDD) followed by the value,
    zero-padded to at least 7 digits; as one integer turned to text while that fits in int64 (below 10¹¹)."""
    if values.size and int(values.max()) >= 10**11:
        return [f"{day}{value:07d}" for day, value in zip(days.tolist(), values.tolist(), strict=True)]
    digits = 7 + sum((values >= 10**k).astype(np.int64) for k in range(7, 11))
    return list(map(str, (days * 10**digits + values).tolist()))


def _local_days(micros: np.ndarray) -> np.ndarray:
    """YYYYMMDD (int) of each moment in settings.TIME_ZONE (timezone.localtime's zone): the zone's offset
    looked up once per distinct hour (zones change offset on whole hours), the civil date by integer
    arithmetic (H. Hinnant's civil_from_days)."""
    import pandas as pd

    hour = micros // 3_600_000_000
    first = int(hour.min()) if hour.size else 0
    span = int(hour.max()) - first + 1 if hour.size else 0
    if span <= 1_000_000:  # a century of hours: look up each hour of the span (no sort of the rows)
        hours, at_hour = np.arange(first, first + span), hour - first
    else:
        hours, at_hour = np.unique(hour, return_inverse=True)
    starts = pd.to_datetime(hours * 3_600_000_000, unit="us", utc=True)
    offsets = (starts.tz_convert(settings.TIME_ZONE).tz_localize(None) - starts.tz_localize(None)).to_numpy()
    local = micros + offsets.astype("timedelta64[us]").astype(np.int64)[at_hour]
    z = local // 86_400_000_000 + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year * 10_000 + month * 100 + day


def _deadlines(rows: CaseRows) -> tuple[np.ndarray, np.ndarray]:
    """services._deadline: the category's working hours from reception; none without a category."""
    hours = dict(Category.objects.values_list("id", "deadline_hours"))
    has = rows.category_id >= 0
    deadline = np.zeros(len(rows), dtype=np.int64)
    if has.any():
        per_row = np.array([hours[c] for c in rows.category_id[has].tolist()], dtype=np.float64)
        deadline[has] = add_working_hours_us(rows.received_us[has], per_row)
    return deadline, ~has


def _count(report: ImportCasesReport, located: Located, placed: Placed) -> None:
    counts = np.bincount(placed.rule.astype(np.int64), minlength=3)
    report.rules = {name: int(counts[k]) for k, name in enumerate(RULE_NAMES)}
    by_address = located.method != Case.GeocodeMethod.POINT.value
    report.not_located = int((by_address & np.isnan(located.lon)).sum())
    report.geocoded = int((by_address & ~np.isnan(located.lon)).sum())


# --- the rows for COPY -------------------------------------------------------------------------------


def _case_columns(cursor, rows: CaseRows, located: Located, placed: Placed,
                  numbers: np.ndarray) -> dict[str, pgcopy.Column]:
    """Column name → values, for every column of the cases table the import fills; the rest are NULL or
    the database's default."""
    types = column_types(cursor, TABLE)

    def key(column: str, values: np.ndarray) -> pgcopy.Column:
        return key_column(types[column], values)[1]

    deadline, no_deadline = _deadlines(rows)
    has_point = ~np.isnan(located.lon)
    now = int(timezone.now().timestamp() * 1_000_000)
    values = {
        "number": pgcopy.Text(numbers), "status": pgcopy.coded_text(rows.status),
        "description": pgcopy.Text(rows.description), "category_id": key("category_id", rows.category_id),
        "channel": pgcopy.coded_text(rows.channel),
        "location": pgcopy.Raw(pgcopy.ewkb_points(located.lon, located.lat), ~has_point),
        "raw_lon": pgcopy.Float8(rows.lon), "raw_lat": pgcopy.Float8(rows.lat), "raw_crs": pgcopy.coded_text(rows.crs),
        "address": pgcopy.Text(rows.address), "reporter_name": pgcopy.Text(rows.reporter_name),
        "reporter_phone": pgcopy.Text(rows.reporter_phone),
        "grid_id": key("grid_id", placed.grid_id), "community_id": key("community_id", placed.community_id),
        "street_id": key("street_id", placed.street_id), "territory_code": pgcopy.coded_text(placed.territory_code),
        "assignee_id": key("assignee_id", placed.worker_id),
        "assignee_staff_id": key("assignee_staff_id", placed.staff_id),
        "geocode_method": pgcopy.coded_text(located.method), "geocode_confidence": pgcopy.Float8(located.confidence),
        "geocode_building_id": key("geocode_building_id", located.building_id),
        "geocode_candidates": pgcopy.coded_text(located.candidates, prefix=b"\x01"),
        "needs_location": pgcopy.Bool(~has_point),
        "assignment_rule": pgcopy.Coded(placed.rule.astype(np.int64), [r.encode() for r in RULE_NAMES]),
        "assignment_distance_m": pgcopy.Float8(placed.distance_m),
        "warnings": pgcopy.coded_text(placed.warnings, prefix=b"\x01"),
        "deadline": pgcopy.Timestamptz(deadline, no_deadline),
        "received_at": pgcopy.Timestamptz(rows.received_us),
        "updated_at": pgcopy.Timestamptz(np.full(len(rows), now)),
    }
    values.update(_defaults(types, set(values), len(rows)))
    return values


def _defaults(types: dict[str, str], filled: set[str], rows: int) -> dict[str, pgcopy.Column]:
    """The model's default for every NOT NULL column the import does not fill and the database has no
    default for (a field added to Case later gets its default, or the import stops and says which)."""
    out = {}
    for f in Case._meta.concrete_fields:
        if f.column in filled or f.null or f.primary_key or f.db_default is not models.NOT_PROVIDED:
            continue
        value = f.get_default()
        kind = types[f.column]
        if kind in ("varchar", "text", "jsonb"):
            text = value if isinstance(value, str) else json.dumps(value)
            out[f.column] = pgcopy.Coded(np.zeros(rows, dtype=np.int64),
                                         [(b"\x01" if kind == "jsonb" else b"") + text.encode()])
        elif kind == "bool":
            out[f.column] = pgcopy.Bool(np.full(rows, bool(value)))
        elif kind in ("int2", "int4", "int8"):
            out[f.column] = (pgcopy.Int8 if kind == "int8" else pgcopy.Int4)(np.full(rows, int(value)))
        else:
            raise NotImplementedError(f"import_cases cannot fill {TABLE}.{f.column} ({kind}): give it a "
                                      "database default (db_default) or teach bulk.importing its type")
    return out


# --- writing -----------------------------------------------------------------------------------------


def _write(cursor, columns: dict[str, pgcopy.Column], rows: int, batch: int, bar: _Bar) -> None:
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(sql.Identifier(TABLE), names)
    # A thread sends each block while the next is built: PostgreSQL takes in one batch as numpy lays out the
    # next, instead of each side waiting for the other.
    with cursor.copy(query, writer=QueuedLibpqWriter(cursor)) as copy:
        for block in pgcopy.binary_blocks(list(columns.values()), rows=rows, batch=batch):
            copy.write(block)
            if block is not pgcopy.SIGNATURE and block is not pgcopy.TRAILER:
                bar.advance(min(batch, rows - bar.done))


# --- progress and timing -----------------------------------------------------------------------------


class _Bar:
    """One progress bar over the rows, naming the step under way; shown on a terminal only."""

    def __init__(self, enabled: bool):
        self._bar = tqdm(total=0, unit=" cases", unit_scale=True, leave=False, disable=None if enabled else True,
                         bar_format="{desc:<16} {bar} {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}]")
        self.done = 0

    def total(self, rows: int) -> None:
        self._bar.total = rows
        self._bar.refresh()

    def describe(self, text: str) -> None:
        self._bar.set_description_str(text)

    def advance(self, rows: int) -> None:
        self.done += rows
        self._bar.update(rows)

    def close(self) -> None:
        self._bar.close()


@contextmanager
def _timed(report: ImportCasesReport, step: str, bar: _Bar) -> Iterator[None]:
    bar.describe(step)
    started = time.perf_counter()
    try:
        yield
    finally:
        report.timings[step] = time.perf_counter() - started
