"""Reading a CSV of historical cases and checking every row before anything is written.

Arrow's multi-threaded CSV reader parses the file; the checks run over whole columns, on their UTF-8 bytes
(numpy) and with Arrow kernels, and mirror the API's: the same lengths, choices, coordinate ranges (with the
"swapped" hint) and phone characters. Python's own semantics are kept where a byte-level shortcut could differ:
texts are stripped of exactly what str.strip strips, choices are lowered by str.lower (once per distinct
value), times not in the common shape ("2024-03-01 08:15:00") are parsed by pandas and numbers other than
plain decimals ("-123.4567") by float(), as they always were. A file Arrow might read otherwise than pandas' C
parser (another encoding, ragged rows, a quote left open at the end, a lone CR) is read by pandas, so every file
reads as it did. Every problem is collected with its row and column; the first SHOWN are reported with a count
of the rest.
"""

from __future__ import annotations

import codecs
import csv
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

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
_OFFSET = re.compile(r"[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_PHONE = "0123456789+- "
# What str.strip() strips: every character whose isspace() is true (tests check the list against Python's).
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"
# Since 1992 Shanghai keeps UTC+8 all year (China's last summer time ended in September 1991).
_STEADY_YEARS = (1992, 2261)
_LEAP = np.array([y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) for y in range(_STEADY_YEARS[0], _STEADY_YEARS[1] + 1)],
                 dtype=np.intp)
_YEAR_STARTS = np.array([(np.datetime64(f"{y}-01-01") - np.datetime64("1970-01-01")).astype(int)
                         for y in range(_STEADY_YEARS[0], _STEADY_YEARS[1] + 1)], dtype=np.int32)
_MONTH_DAYS = np.array([[0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
                        [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]], dtype=np.int32)  # [leap, month]
_MONTH_STARTS = np.concatenate([[[0], [0]], np.cumsum(_MONTH_DAYS, axis=1)[:, :-1]], axis=1).astype(np.int32)
_BLOCK = 1 << 24  # bytes Arrow parses at a time (per thread)
# Arrow's default allocator (mimalloc) maps fresh memory in huge pages: a one-off read paid ~0.5 s more for it.
_POOL = pa.system_memory_pool()


def _byte_table(byte_values) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(byte_values)] = True
    return table


_ENCODED_SPACE = [c.encode() for c in WHITESPACE]
_LEADING_SPACE = _byte_table(b[0] for b in _ENCODED_SPACE)  # the first byte a value starting with one can have
_TRAILING_SPACE = np.zeros(1 << 16, dtype=bool)  # the last two bytes (one byte: 0 before it) of one ending with one
_TRAILING_SPACE[[int.from_bytes(b[-2:].rjust(2, b"\0")) for b in _ENCODED_SPACE]] = True
_TRAILING_SPACE[[(high << 8) | b[0] for b in _ENCODED_SPACE if len(b) == 1 for high in range(256)]] = True
_LAST_OF_SPACE = _byte_table(b[-1] for b in _ENCODED_SPACE)
_NOT_PHONE = ~_byte_table(_PHONE.encode())
_NUL = _byte_table([0])
_NOT_DECIMAL = ~_byte_table(b"0123456789.-")


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


class _Text:
    """A column of texts: one Arrow array, and its UTF-8 bytes and offsets seen by numpy (no copies)."""

    def __init__(self, array: pa.Array | pa.ChunkedArray):
        if isinstance(array, pa.ChunkedArray):  # one array, with 64-bit offsets (a column may exceed 2 GB)
            chunks = [chunk.cast(pa.large_string(), memory_pool=_POOL) for chunk in array.chunks]  # (no copy
            array = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks, memory_pool=_POOL) if chunks \
                else pa.array([], type=pa.large_string())  # when they are)
        self.array = array.cast(pa.large_string(), memory_pool=_POOL)
        _, offsets, data = self.array.buffers()
        self.offsets = np.frombuffer(offsets, dtype=np.int64)[self.array.offset:self.array.offset + len(array) + 1]
        self.data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        self.size = np.diff(self.offsets)  # in bytes

    @classmethod
    def blank(cls, n: int) -> _Text:
        return cls(pa.LargeStringArray.from_buffers(n, pa.py_buffer(np.zeros(n + 1, dtype=np.int64)),
                                                    pa.py_buffer(b"")))

    def __len__(self) -> int:
        return self.size.size

    def __getitem__(self, i) -> str:
        return self.array[int(i)].as_py()

    def empty(self) -> np.ndarray:
        return self.size == 0

    def pick(self, index: np.ndarray) -> np.ndarray:
        """The values at `index`, as str (an object array)."""
        return pc.take(self.array, pa.array(index, type=pa.int64()), memory_pool=_POOL).to_numpy(
            zero_copy_only=False)

    def objects(self) -> np.ndarray:
        """Every value as str (an object array); a column of few distinct values builds each once."""
        if not self.size.any():
            return np.full(len(self), "", dtype=object)
        probe = pc.dictionary_encode(self.array.slice(0, 1 << 16), memory_pool=_POOL)
        if len(probe.dictionary) * 8 > len(probe):
            return self.array.to_numpy(zero_copy_only=False)
        distinct, index = self.distinct()
        return distinct[index]

    def distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct values (str, object array) and, for each row, which it holds."""
        encoded = pc.dictionary_encode(self.array, memory_pool=_POOL)
        return encoded.dictionary.to_numpy(zero_copy_only=False), encoded.indices.to_numpy()

    def holding(self, table: np.ndarray) -> np.ndarray:
        """Which values hold a byte marked in `table` (a boolean array of 256)."""
        out = np.zeros(len(self), dtype=bool)
        if not len(self):
            return out
        start = int(self.offsets[0])
        where = np.flatnonzero(table[self.data[start:self.offsets[-1]]]) + start
        out[np.searchsorted(self.offsets, where, side="right") - 1] = True
        return out

    def chars(self) -> np.ndarray:
        return pc.utf8_length(self.array, memory_pool=_POOL).to_numpy()

    def strip(self) -> _Text:
        """The values stripped as str.strip() strips them (the column itself when none needs it)."""
        if not self.data.size:
            return self
        first = np.take(self.data, self.offsets[:-1], mode="clip")  # (of an empty value: any byte, unused)
        last = np.take(self.data, self.offsets[1:] - 1, mode="clip")
        maybe = np.flatnonzero((self.size > 0) & (_LEADING_SPACE[first] | _LAST_OF_SPACE[last]))
        if maybe.size:  # a multi-byte space's last byte ends many other characters too: look at the one before
            end = self.offsets[maybe + 1]
            before_last = np.where(self.size[maybe] > 1, self.data[np.maximum(end - 2, 0)], 0).astype(np.uint16)
            maybe = maybe[_LEADING_SPACE[first[maybe]] | _TRAILING_SPACE[(before_last << 8) | last[maybe]]]
        if not maybe.size:
            return self
        ends = self.array.take(pa.array(maybe))  # the few that might: look at their first and last characters
        spaces = pa.array(list(WHITESPACE))
        if not (pc.any(pc.is_in(pc.utf8_slice_codeunits(ends, 0, 1), value_set=spaces)).as_py() or
                pc.any(pc.is_in(pc.utf8_slice_codeunits(ends, -1, None), value_set=spaces)).as_py()):
            return self
        return _Text(pc.utf8_trim(self.array, characters=WHITESPACE, memory_pool=_POOL))


def read_cases_csv(path: Path, *, default_crs: str = "wgs84", categories: dict[str, int],
                   encoding: str = "utf-8-sig") -> CaseRows:
    """Reads and checks PATH; raises CasesRejected listing every problem (capped), else the typed rows.
    `categories`: category code → id."""
    table = _read(path, encoding)
    checks = _Checks()
    rows = np.arange(table.rows) + 2
    text = {c: table.stripped(c) for c in TEXT}
    for column, limit in MAX_LENGTH.items():
        checks.add(_longer(text[column], limit), rows, column, f"longer than {limit} characters")
    for column in TEXT:
        if table.nul:
            checks.add(text[column].holding(_NUL), rows, column, "contains a NUL character")
    checks.add(text["description"].empty(), rows, "description", "missing (every case needs a description)")
    checks.add(text["reporter_phone"].holding(_NOT_PHONE), rows, "reporter_phone",
               "may contain only digits, +, - and spaces")
    _check_numbers(text["number"], rows, checks)
    received = _received_at(table.stripped("received_at"), rows, checks)
    category = _category(table.column("category"), rows, checks, categories)
    channel = _choice(table, "channel", Case.Channel.values, Case.Channel.OTHER, rows, checks)
    status = _choice(table, "status", Case.Status.values, Case.Status.RECEIVED, rows, checks)
    crs = _choice(table, "crs", CRS_NAMES, default_crs, rows, checks)
    lon, lat, given = _coordinates(table, rows, checks)
    checks.add(~given & text["address"].empty(), rows, "lon",
               "neither coordinates (lon, lat) nor an address: the case cannot be located")
    checks.raise_if_any()
    return CaseRows(row=rows, number=text["number"].objects(), received_us=received,
                    description=text["description"].objects(), category_id=category, channel=channel, lon=lon,
                    lat=lat, crs=crs, address=text["address"].objects(), status=status,
                    reporter_name=text["reporter_name"].objects(), reporter_phone=text["reporter_phone"].objects())


# --- reading -----------------------------------------------------------------------------------------


@dataclass
class _Table:
    rows: int
    columns: dict[str, pa.Array | pa.ChunkedArray]  # by (lowercased) name
    nul: bool = True  # whether the file may hold a NUL character

    def column(self, name: str) -> _Text:
        return _Text(self.columns[name]) if name in self.columns else _Text.blank(self.rows)

    def stripped(self, name: str) -> _Text:
        return self.column(name).strip()


def _read(path: Path, encoding: str) -> _Table:
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):  # what Arrow reads
        try:
            table = _read_arrow(path, encoding)
        except (pa.ArrowException, ValueError, OSError):
            table = None  # pandas reads it, or says what is wrong as it always did
        if table is not None:
            return table
    return _read_pandas(path, encoding)


def _read_arrow(path: Path, encoding: str) -> _Table | None:
    """The file read by Arrow, or None when Arrow might read it otherwise than pandas."""
    # pandas names the columns (as it always did: "Unnamed: 2" for a blank, "a.1" for a second "a"); Arrow
    # reads the header as a first row of data.
    names = [str(c) for c in pd.read_csv(path, nrows=0, dtype=str, keep_default_na=False, na_filter=False,
                                         encoding=encoding, quoting=csv.QUOTE_MINIMAL, engine="c").columns]
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as whole:
        quoted, nul = whole.find(b'"') >= 0, whole.find(b"\0") >= 0
        if whole.find(b"\r") >= 0 and re.search(rb"\r(?!\n)", whole):
            return None  # pandas reads a lone CR before a comma otherwise (it ends the line and eats the comma)
        parsed = pa_csv.read_csv(
            str(path), memory_pool=_POOL,
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True, block_size=_BLOCK),
            parse_options=pa_csv.ParseOptions(newlines_in_values=quoted),  # only a quoted value can hold one
            convert_options=pa_csv.ConvertOptions(column_types={f"f{i}": pa.large_string() for i in range(len(names))},
                                                  strings_can_be_null=False))
        if parsed.num_columns != len(names) or parsed.num_rows == 0 or \
                any(t != pa.large_string() for t in parsed.schema.types):
            return None
        if quoted and _open_quote_at_end(whole, parsed.column(len(names) - 1)[-1].as_py()):
            return None  # pandas: "EOF inside string"; Arrow takes the rest of the file as the value
    names = _columns(names)
    return _Table(parsed.num_rows - 1, {name: parsed.column(i).slice(1) for i, name in enumerate(names)}, nul=nul)


def _open_quote_at_end(whole: mmap.mmap, last: str) -> bool:
    """Whether the file may end inside a quoted value: then its last bytes are the quote and the value."""
    tail = b'"' + last.replace('"', '""').encode()
    return len(whole) >= len(tail) and whole[len(whole) - len(tail):] == tail


def _read_pandas(path: Path, encoding: str) -> _Table:
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
    names = _columns([str(c) for c in frame.columns])
    return _Table(len(frame), {name: pa.array(frame.iloc[:, i].to_numpy(dtype=object), type=pa.large_string())
                               for i, name in enumerate(names)})


def _columns(given: list[str]) -> list[str]:
    names = [c.strip().lower() for c in given]
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
    return names


# --- the checks --------------------------------------------------------------------------------------


def _longer(text: _Text, limit: int) -> np.ndarray:
    if not len(text) or text.size.max() <= limit:  # no more bytes than that: no more characters either
        return np.zeros(len(text), dtype=bool)
    return text.chars() > limit


def _check_numbers(number: _Text, rows: np.ndarray, checks: _Checks) -> None:
    if not number.size.any():
        return
    _, index = number.distinct()
    twice = ~number.empty() & (np.bincount(index)[index] > 1)
    checks.add(twice, rows, "number", lambda n: f"{n} appears more than once in the file", number)


def _received_at(values: _Text, rows: np.ndarray, checks: _Checks) -> np.ndarray:
    """Microseconds since 1970 (UTC) of ISO 8601 times; naive ones are Asia/Shanghai local time."""
    checks.add(values.empty(), rows, "received_at", "missing")
    micros, common = _common_times(values)
    rest = np.flatnonzero(~values.empty() & ~common)
    aware, local = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    if rest.size:  # any other shape is pandas' to read, as it always was
        texts = values.pick(rest)
        after_date = "\x00".join(v[10:] for v in texts)
        if any(c in after_date for c in "Zz+-"):  # some may carry an offset: look at each
            aware[rest] = np.fromiter((m is not None for m in map(_OFFSET.search, texts)), dtype=bool,
                                      count=rest.size)
        local[rest] = ~aware[rest]
    for mask, parse in ((aware, _parse_aware), (local, _parse_local)):
        if mask.any():
            parsed, bad = parse(pd.Series(values.pick(np.flatnonzero(mask)), dtype=object))
            micros[mask] = parsed
            checks.add(_spread(bad, mask), rows, "received_at", lambda v: f"{v!r} is not an ISO 8601 "
                       "date and time (2024-03-01 08:15:00, 2024-03-01T08:15+08:00)", values)
    return micros


def _common_times(values: _Text) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds (UTC) of the times in the common shape "YYYY-MM-DD HH:MM:SS" (or with a T), read from their
    bytes, and which values are such times. Others (other shapes, impossible dates, years when Shanghai's
    offset was not always +8) are left to pandas."""
    micros = np.zeros(len(values), dtype=np.int64)
    common = values.size == 19
    which = np.flatnonzero(common)
    if not which.size:
        return micros, common
    start = values.offsets[which]
    if which.size == len(values) and start[-1] - start[0] == 19 * (which.size - 1):  # back to back: a matrix
        at = values.data[start[0]:start[0] + 19 * which.size].reshape(-1, 19)
    else:
        at = values.data[start[:, None] + np.arange(19)]
    at = np.ascontiguousarray(at.T)  # one row per position
    digit = at[[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]] - np.uint8(ord("0"))
    ok = (digit.max(axis=0) <= 9) & (at[4] == ord("-")) & (at[7] == ord("-")) & \
        ((at[10] == ord(" ")) | (at[10] == ord("T"))) & (at[13] == ord(":")) & (at[16] == ord(":"))

    def number(first: int, last: int) -> np.ndarray:
        value = at[first] - np.int32(ord("0"))
        for k in range(first + 1, last + 1):
            value = value * 10 + (at[k] - np.int32(ord("0")))
        return value

    year, month, day = number(0, 3), number(5, 6), number(8, 9)
    hour, minute, second = number(11, 12), number(14, 15), number(17, 18)
    ok &= (year >= _STEADY_YEARS[0]) & (year <= _STEADY_YEARS[1]) & (month >= 1) & (month <= 12) & (day >= 1) & \
        (hour <= 23) & (minute <= 59) & (second <= 59)
    since, month = np.clip(year - _STEADY_YEARS[0], 0, _YEAR_STARTS.size - 1), np.clip(month, 0, 12)
    leap = _LEAP[since]
    ok &= day <= _MONTH_DAYS[leap, month]
    days = _YEAR_STARTS[since] + _MONTH_STARTS[leap, month] + day - 1  # since 1970-01-01
    seconds = days.astype(np.int64) * 86400 + (hour * 3600 + minute * 60 + second - 8 * 3600)
    common[which] = ok
    micros[which] = np.where(ok, seconds * 1_000_000, 0)
    return micros, common


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
    try:
        naive = pd.to_datetime(values, format="ISO8601", errors="coerce")
        local = naive.dt.tz_localize(TIME_ZONE, ambiguous="NaT", nonexistent="NaT")
    except (TypeError, ValueError):  # pandas refuses the lot over one odd value (an offset it reads after all)
        return _each_local(values)
    return _micros(local)


def _each_local(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One value at a time: a value pandas reads as aware is taken as given, anything unreadable is bad."""
    micros, bad = np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    for i, text in enumerate(values.tolist()):
        try:
            moment = pd.Timestamp(text)
            moment = moment.tz_localize(TIME_ZONE) if moment.tzinfo is None else moment
        except (TypeError, ValueError):
            bad[i] = True
            continue
        if pd.isna(moment):
            bad[i] = True
        else:
            micros[i] = moment.value // 1_000  # nanoseconds since 1970, UTC
    return micros, bad


def _category(column: _Text, rows: np.ndarray, checks: _Checks, categories: dict[str, int]) -> np.ndarray:
    distinct, index = column.distinct()
    codes = np.array([code.strip() for code in distinct], dtype=object)  # each distinct text once
    ids = pd.Series(codes, dtype=object).map(categories)
    unknown = (codes != "") & ids.isna().to_numpy()
    codes, unknown = codes[index], unknown[index]
    checks.add(unknown, rows, "category", lambda c: f"unknown category {c!r}", codes)
    return ids.fillna(-1).to_numpy(dtype=np.int64)[index]


def _choice(table: _Table, column: str, choices, default: str, rows, checks: _Checks) -> np.ndarray:
    distinct, index = table.column(column).distinct()
    values = np.empty(len(distinct), dtype=object)
    values[:] = [v.strip().lower() or default for v in distinct]  # each distinct text once
    bad = ~pd.Series(values, dtype=object).isin(list(choices)).to_numpy()
    values, bad = values[index], bad[index]
    checks.add(bad, rows, column, lambda v: f"unknown {column} {v!r} (one of {', '.join(choices)})", values)
    return values


def _numbers(text: _Text) -> np.ndarray:
    """Floats of a column of number texts, NaN for empty or unreadable ones. Texts of digits, "." and "-" only
    are read by Arrow (correctly rounded, as float() reads them; what one of them refuses, the other does);
    any other text by float(), and when one of those is unreadable, the whole column by pandas, as it always
    was."""
    values = np.full(len(text), np.nan)
    plain = _plain_decimals(text)
    if plain.any():
        try:
            values[plain] = pc.cast(pc.filter(text.array, pa.array(plain), memory_pool=_POOL), pa.float64(),
                                    memory_pool=_POOL).to_numpy()
        except pa.ArrowInvalid:  # "1.2.3", "-": float()'s to refuse
            plain[:] = False
    other = np.flatnonzero(~plain & ~text.empty())
    if other.size:
        try:
            values[other] = text.pick(other).astype(np.float64)
        except ValueError:
            texts = text.objects()
            return pd.to_numeric(pd.Series(texts, dtype=object).where(texts != ""),
                                 errors="coerce").to_numpy(np.float64)
    return values


def _plain_decimals(text: _Text) -> np.ndarray:
    """Which values are of digits, "." and "-" only (at most 30 of them)."""
    return (text.size > 0) & (text.size <= 30) & ~text.holding(_NOT_DECIMAL)


def _coordinates(table: _Table, rows: np.ndarray, checks: _Checks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat as floats (NaN where the row has none), the API's checks applied, and which rows give any."""
    lon_text, lat_text = table.stripped("lon"), table.stripped("lat")
    lon, lat = _numbers(lon_text), _numbers(lat_text)
    has_lon, has_lat = ~lon_text.empty(), ~lat_text.empty()
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
