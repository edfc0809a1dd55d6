"""Reading and checking an import_cases CSV (gridgis.cases.bulk.csvfile) without a database.

The reader takes shortcuts for speed (Arrow's parser, times and numbers read from their bytes, texts stripped
only when one needs it); every test here holds a file read with the shortcuts to the same file read the plain
way — pandas' parser, pandas' to_datetime, float() and str.strip on every value, as import_cases always read
files — and checks what a user sees: the rows as typed, or the same list of problems.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgis.cases.bulk import csvfile
from gridgis.cases.bulk.csvfile import CaseRows, CasesRejected, read_cases_csv

CATEGORIES = {"SJ0101": 1, "BJ0213": 7}
HEADER = "received_at,description,category,channel,lon,lat,crs,address,status,reporter_name,reporter_phone,number"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _python_strip(self):
    return csvfile._Text(pa.array([v.strip() for v in self.array.to_pylist()], type=pa.large_string()))


@contextlib.contextmanager
def the_plain_way():
    """No shortcuts: pandas parses the file and the times, float() the numbers, str.strip strips every value."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "_read_arrow", lambda path, encoding: None)
        patch.setattr(csvfile, "_common_times", lambda values: (np.zeros(len(values), dtype=np.int64),
                                                                np.zeros(len(values), dtype=bool)))
        patch.setattr(csvfile, "_plain_decimals", lambda text: np.zeros(len(text), dtype=bool))
        patch.setattr(csvfile._Text, "strip", _python_strip)
        patch.setattr(csvfile._Text, "objects", lambda self: self.array.to_numpy(zero_copy_only=False))
        yield


def outcome(path: Path, **options):
    """What a user gets: every array of the rows (as Python values), or the rejection's report."""
    try:
        rows = read_cases_csv(path, categories=CATEGORIES, **options)
    except CasesRejected as rejected:
        return rejected.report()
    got = {}
    for name in CaseRows.__dataclass_fields__:
        values = getattr(rows, name)
        assert values.dtype == {"row": np.int64, "received_us": np.int64, "category_id": np.int64, "lon": np.float64,
                                "lat": np.float64}.get(name, object), name
        got[name] = [repr(v) if isinstance(v, float) else v for v in values.tolist()]  # NaN == NaN, -0.0 != 0.0
        if values.dtype == object:
            assert all(isinstance(v, str) for v in values), name
    return got


def both_ways(content: bytes | str, **options):
    """The outcome of a file with the shortcuts and the plain way; they must be the same."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.csv"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        fast = outcome(path, **options)
        with the_plain_way():
            plain = outcome(path, **options)
    assert fast == plain
    return fast


def line(**fields) -> str:
    base = {"received_at": "2024-03-01 08:15:00", "description": "路灯不亮", "lon": "122.995", "lat": "41.1"}
    base |= fields
    return ",".join(base.get(name, "") for name in HEADER.split(","))


def file_of(*lines: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *lines]) + end


# --- the parser -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("what", "content", "expected"), [
    ("a quoted comma and line break", file_of(line(description='"甲,乙\n丙"')), {"description": ["甲,乙\n丙"]}),
    ("doubled quotes", file_of(line(description='"say ""hi"""')), {"description": ['say "hi"']}),
    ("a quote inside an unquoted value", file_of(line(description='a"b"c')), {"description": ['a"b"c']}),
    ("text after a closing quote", file_of(line(description='"ab"cd')), {"description": ["abcd"]}),
    ("an empty quoted value is empty", file_of(line(address='""')), {"address": [""]}),
    ("CRLF line ends, one inside quotes", file_of(line(description='"a\r\nb"'), end="\r\n"),
     {"description": ["a\r\nb"]}),
    ("lone CR line ends", file_of(line(), line(description="x"), end="\r"), {"description": ["路灯不亮", "x"]}),
    ("blank lines are skipped", file_of("", line(), "", "", line(description="x"), ""),
     {"row": [2, 3], "description": ["路灯不亮", "x"]}),
    ("no line end after the last row", file_of(line()).rstrip("\n"), {"description": ["路灯不亮"]}),
    ("a UTF-8 byte order mark", "\ufeff" + file_of(line()), {"description": ["路灯不亮"]}),
    ("a header alone", file_of(), {"row": []}),
    ("padded values are stripped", file_of(line(description="\u3000 灯 \t", channel=" APP ", lon=" 122.5\x1c")),
     {"description": ["灯"], "channel": ["app"], "lon": ["122.5"]}),
    ("columns in another order and case", "Description,LAT,lon,received_at\nx,41.1,122.995,2024-03-01\n",
     {"description": ["x"], "lat": ["41.1"], "received_us": [1709222400000000]}),
])
def test_files_read_as_pandas_reads_them(what, content, expected):
    got = both_ways(content)
    assert isinstance(got, dict), got
    for name, values in expected.items():
        assert got[name] == values, what


@pytest.mark.parametrize(("what", "content", "reason"), [
    ("a quote left open at the end", file_of(line(), line(reporter_phone='"138')), "EOF inside string"),
    ("a row with a field too many", file_of(line(), line() + ",x"), "Expected 12 fields in line 3, saw 13"),
    ("a second column of one name", HEADER + ",lon\n", "unknown column"),
    ("the same name in two cases", HEADER.replace("address", "LON") + "\n", "column given twice"),
    ("a blank column name", HEADER + ",\n", "unknown column"),
    ("an empty file", "", "empty: no header row"),
    ("bytes that are not UTF-8", file_of(line(description="路灯")).encode("gb18030"), "not utf-8-sig text"),
])
def test_files_of_the_wrong_shape_are_refused_as_before(what, content, reason):
    got = both_ways(content)
    assert isinstance(got, str), what
    assert reason in got, what


def test_ragged_rows_read_as_before():
    short = "received_at,description,lon,lat,address\n2024-03-01,x,1,2\n"  # the missing address is empty
    assert both_ways(short)["address"] == [""]
    # one more value than the header names in every row: pandas takes the first for an index, as it always did
    assert isinstance(both_ways("received_at,description,lon,lat\nA,2024-03-01,x,1,2\n"), dict)


def test_a_file_in_another_encoding_reads_when_named():
    content = file_of(line(description='"路灯,不亮"')).encode("gb18030")
    assert both_ways(content, encoding="gb18030")["description"] == ["路灯,不亮"]


def test_big_files_read_across_blocks(monkeypatch):
    """Arrow parses a big file in blocks, on several threads; quoted line breaks may fall on a block's edge."""
    monkeypatch.setattr(csvfile, "_BLOCK", 1 << 12)
    lines = [line(description=f'"第{i}行,\n{"长" * (i % 97)}"' if i % 3 else f"第{i}行", number=f"N{i}",
                  lon=f"{122.9 + i * 1e-5:.7f}", received_at=f"2024-03-01T08:{i % 60:02d}:00")
             for i in range(3000)]
    got = both_ways(file_of(*lines))
    assert got["row"] == list(range(2, 3002))
    assert got["description"][2] == "第2行,\n" + "长" * 2
    assert got["number"][-1] == "N2999"


# --- the checks ---------------------------------------------------------------------------------------------


def test_whitespace_is_what_str_strip_strips():
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) == csvfile.WHITESPACE


def test_bad_values_are_listed_as_before():
    got = both_ways(file_of(
        line(description=" "), line(category="NOPE"), line(crs="Mars"), line(lon="41.1", lat="122.995"),
        line(lon="NaN"), line(lat="Infinity"), line(description="长" * 4001), line(channel="fax"),
        line(received_at="yesterday"), line(lat=""), line(lon="", lat="", address=" "), line(number="A1"),
        line(number=" A1"), line(status="finished"), line(reporter_phone="call me"), line(description="a\x00b"),
        line(received_at="1991-04-14 02:30:00"), line(received_at="2024-02-30 08:00:00"),
        line(received_at=" "), line(number="N" * 21), line(reporter_phone="+86 138-0013-8000")))
    for expected in ("row 2, description: missing", "row 3, category: unknown category 'NOPE'",
                     "row 4, crs: unknown crs 'mars'", "row 5, lat: 122.995 is out of range; lon and lat look swapped",
                     "row 6, lon: 'NaN' is not a finite number", "row 7, lat: 'Infinity' is not a finite number",
                     "row 8, description: longer than 4000 characters", "row 9, channel: unknown channel 'fax'",
                     "row 10, received_at: 'yesterday' is not an ISO 8601", "row 11, lat: missing while lon is given",
                     "row 12, lon: neither coordinates", "row 13, number: A1 appears more than once",
                     "row 14, number: A1 appears more than once", "row 15, status: unknown status 'finished'",
                     "row 16, reporter_phone: may contain only digits", "row 17, description: contains a NUL",
                     "row 18, received_at: '1991-04-14 02:30:00' is not", "row 19, received_at: '2024-02-30",
                     "row 20, received_at: missing", "row 21, number: longer than 20 characters"):
        assert expected in got
    assert "row 22" not in got
    assert got.startswith("Import rejected, nothing was written: 20 problems.")


def test_the_list_is_capped_as_before():
    got = both_ways(file_of(*[line(channel="fax", lat="95")] * 120))
    assert got.startswith("Import rejected, nothing was written: 240 problems.")
    assert "… and 190 more" in got


times = st.builds("{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}".format, st.integers(1985, 2300),
                  st.integers(0, 13), st.integers(0, 32), st.sampled_from([" ", "T", "t", "_"]), st.integers(0, 25),
                  st.integers(0, 61), st.integers(0, 61))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(times | st.sampled_from(["2024-03-01", "2024-03-01 08:15", "2024-03-01T08:15:00.5",
                                          "2024-03-02T23:30:00Z", "2024-03-01 08:15:00+05:30", "1988-04-10 02:30:00"]),
                min_size=1, max_size=30))
def test_times_read_as_pandas_reads_them(texts):
    both_ways(file_of(*[line(received_at=t) for t in texts]))


def test_times_are_shanghai_time_unless_they_say_otherwise():
    got = both_ways(file_of(line(received_at="2024-03-01 08:15:00"), line(received_at="2024-03-01T08:15:00"),
                            line(received_at="2024-03-02T23:30:00Z"), line(received_at="2000-02-29 00:00:00")))
    expected = [dt.datetime(2024, 3, 1, 8, 15, tzinfo=SHANGHAI), dt.datetime(2024, 3, 1, 8, 15, tzinfo=SHANGHAI),
                dt.datetime(2024, 3, 2, 23, 30, tzinfo=dt.UTC), dt.datetime(2000, 2, 29, tzinfo=SHANGHAI)]
    assert got["received_us"] == [(t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
                                  for t in expected]


numbers = st.floats(-200, 200).map(repr) | st.decimals(-200, 200, allow_nan=False).map(str) | \
    st.text(st.sampled_from("019.-"), min_size=1, max_size=8) | st.sampled_from(
    ["-0", "007.50", "1e2", "+1", ".5", "5.", "-.5", "1_0", "١٢", "1.2.3", "--1", "1-", "-", ".", "0x10", "inf",
     "12345678901234567890.123456789", "41.10000000000000142108547152020037174224853515625"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(numbers, numbers), min_size=1, max_size=20))
def test_coordinates_read_as_float_reads_them(pairs):
    both_ways(file_of(*[line(lon=x, lat=y) for x, y in pairs]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(st.sampled_from(" \t\u3000\x85\xa0\u2028\x1c"), max_size=2),
                          st.text(st.sampled_from("a长\u4000\u3001\u2030\x85"), min_size=1, max_size=3),
                          st.text(st.sampled_from(" \t\u3000\x85\xa0\u2028\x1c\u4000"), max_size=2)),
                min_size=1, max_size=10))
def test_values_are_stripped_as_str_strip_strips_them(pads):
    got = both_ways(file_of(*[line(description=a + b + c, reporter_name=a + b + c, channel=a + "app" + c)
                              for a, b, c in pads]))
    if isinstance(got, dict):
        assert got["description"] == [(a + b + c).strip() for a, b, c in pads]


# --- any file at all ------------------------------------------------------------------------------------------

fields = st.text(st.sampled_from(['a', '长', '1', '.', '-', ',', '"', '\n', '\r', ' ', '\x00', 'Z']), max_size=6) | \
    st.sampled_from(["2024-03-01 08:15:00", "122.995", "41.1", "app", "", '""', '"x,\ny"'])
headers = st.sampled_from([HEADER, "received_at,description,lon,lat", "description,received_at,address",
                           "received_at,description,lon,lat,lon", "received_at,description"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers, st.lists(st.lists(fields, min_size=1, max_size=13), max_size=8), st.sampled_from(["\n", "\r\n"]),
       st.booleans())
def test_any_file_reads_as_pandas_reads_it(header, rows, end, last_end):
    text = end.join([header, *(",".join(row) for row in rows)]) + (end if last_end else "")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvfile, "_BLOCK", 64)
        both_ways(text)


def test_a_coordinate_that_is_no_number_is_refused_wherever_it_stands():
    got = both_ways(file_of(line(lon="1Z"), line(lon="", lat="", address="x"), line(lat="4l.1")))
    assert "row 2, lon: '1Z' is not a finite number" in got
    assert "row 4, lat: '4l.1' is not a finite number" in got


@pytest.mark.parametrize("written", ["2024-03-01T08+08:00", "20240301T080000+0800", "2024-03-01T0800+0800",
                                     "2024-03-01 08:00:00.0 +08"])
def test_offsets_in_any_iso_shape_are_honoured_beside_local_times(written):
    # 08:00 at +08:00 is midnight UTC; the local time beside it is Shanghai's. pandas refused such a mix as a whole
    # ("Mixed timezones"), which stopped the import with a traceback instead of reading the file.
    got = both_ways(file_of(line(received_at=written), line(received_at="2024-03-01 08:00:00"),
                            line(received_at="2024-03-01T08:00")))
    assert got["received_us"] == [1709251200000000] * 3


def test_a_bad_time_beside_an_odd_offset_is_reported_not_raised():
    report = both_ways(file_of(line(received_at="20240301T080000+0800"), line(received_at="2024-03-01T25:00"),
                               line(received_at="2024-03-01 08:00:00")))
    assert "row 3, received_at: '2024-03-01T25:00' is not an ISO 8601 date and time" in report
    assert "1 problem" in report
