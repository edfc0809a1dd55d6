"""import_cases and reassign_cases against real PostGIS, on the factory town (tests.territory_factories):
west grid 122.99–123.00, east grid 123.00–123.01 (lon), both 41.09–41.11 (lat); bob answers for the west
grid, charlie for the east one.

Every imported case is compared with what the one-at-a-time path gives the same report: assignment.place
(PostGIS) for the grid, rule and distance, and case_create for everything it fills in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgis.cases.assignment import assignee_for, place
from gridgis.cases.bulk import pgcopy
from gridgis.cases.bulk.csvfile import CasesRejected
from gridgis.cases.bulk.deadlines import add_working_hours_us
from gridgis.cases.bulk.importing import import_cases
from gridgis.cases.bulk.placement import place_points
from gridgis.cases.bulk.reassign import reassign_open_cases
from gridgis.cases.bulk.territory import load_territory
from gridgis.cases.models import Case, CaseEvent, Category
from gridgis.cases.services import IntakeReport, case_create
from gridgis.cases.worktime import SHANGHAI, add_working_hours
from gridgis.territory.models import Grid
from gridgis.workforce.models import StaffRole
from tests.territory_factories import make_user

pytest_plugins = ["tests.territory_factories"]

HEADER = ["number", "received_at", "description", "category", "channel", "lon", "lat", "crs", "address", "status",
          "reporter_name", "reporter_phone"]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# (lon, lat, crs, what the point is): one of each way a point can fall
POINTS = [
    (122.995, 41.1, "wgs84", "inside the west grid"),
    (123.005, 41.1, "wgs84", "inside the east grid"),
    (123.0, 41.1, "wgs84", "on the shared boundary: the west grid (lower code)"),
    (123.0, 41.11, "wgs84", "on the corner both grids share"),
    (123.004, 41.1103, "wgs84", "33 m north of the east grid: nearest"),
    (123.0, 41.1102, "wgs84", "north of the shared corner: nearest, equally near both"),
    (122.98995, 41.1, "wgs84", "4 m west of the west grid"),
    (123.005, 41.115, "wgs84", "555 m north: unassigned, inside the district"),
    (124.5, 41.5, "wgs84", "far away: unassigned, outside every district"),
    (123.0112, 41.1025, "gcj02", "GCJ-02 of a point in the east grid"),
    (123.0177, 41.1087, "bd09", "BD-09 of a point near the east grid"),
]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in HEADER})
    return path


def row(i: int, **fields) -> dict:
    base = {"received_at": f"2024-03-{1 + i % 28:02d} {8 + i % 10:02d}:{i % 60:02d}:00",
            "description": f"路灯不亮 {i}", "category": "", "channel": "hotline", "status": "received",
            "reporter_name": "张三", "reporter_phone": "13800138000"}
    return base | fields


@pytest.fixture
def category():
    return Category.objects.order_by("code").first()  # from the categories data migration


@pytest.fixture
def town_with_workers(town, bob, charlie):
    return town


def case_by(description: str) -> Case:
    return Case.objects.get(description=description)


# --- placing --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_imported_cases_are_placed_as_case_create_places_them(tmp_path, town_with_workers, category):
    rows = [row(i, lon=lon, lat=lat, crs=crs, description=f"{what} ({i})", category=category.code)
            for i, (lon, lat, crs, what) in enumerate(POINTS)]
    report = import_cases(path=write_csv(tmp_path / "cases.csv", rows))
    assert report.imported == len(POINTS)
    for i, (lon, lat, crs, what) in enumerate(POINTS):
        imported = case_by(f"{what} ({i})")
        expected = place(imported.location)  # PostGIS, one point at a time
        assert (imported.grid_id, imported.assignment_rule) == (expected.grid.pk if expected.grid else None,
                                                                expected.rule), what
        assert imported.assignment_distance_m == expected.distance_m, what
        fresh = case_create(report=IntakeReport(
            description=f"again: {what}", channel="hotline", category=category, lon=lon, lat=lat, crs=crs,
            reporter_name="张三", reporter_phone="13800138000", received_at=imported.received_at))
        for name in ("location", "grid_id", "community_id", "street_id", "territory_code", "assignee_id",
                     "assignee_staff_id", "assignment_rule", "assignment_distance_m", "warnings", "deadline",
                     "geocode_method", "geocode_confidence", "needs_location", "raw_lon", "raw_lat", "raw_crs"):
            assert getattr(imported, name) == getattr(fresh, name), f"{what}: {name}"


@pytest.mark.django_db
def test_a_random_sample_is_placed_as_postgis_places_it(town_with_workers):
    """Points anywhere around the town (and to 110 m beyond it), on its grids' edges and corners, and just
    off its outer edge: the bulk placement and assignment.place agree on every one."""
    rng = np.random.default_rng(3)
    lon = np.r_[rng.uniform(122.9887, 123.0113, 300), rng.choice([122.99, 123.0, 123.01], 60),
                rng.uniform(122.99, 123.01, 60), rng.uniform(122.99, 123.01, 40)]
    lat = np.r_[rng.uniform(41.0887, 41.1113, 300), rng.uniform(41.09, 41.11, 60),
                rng.choice([41.09, 41.11], 60), 41.11 + rng.choice([1e-7, 4.49e-4, 4.51e-4], 40)]
    with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
        placed = place_points(load_territory(cursor), lon, lat, "")
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        expected = place(Point(x, y, srid=4326))
        got = (placed.grid_id[i], placed.rule_name[i], placed.distance_m[i])
        want = (expected.grid.pk if expected.grid else -1, expected.rule,
                math.nan if expected.distance_m is None else expected.distance_m)
        assert got[:2] == want[:2], (x, y)
        assert got[2] == pytest.approx(want[2], abs=0.011, nan_ok=True), (x, y)  # both rounded to the cm


@pytest.mark.django_db
def test_the_rules_come_out_as_documented(tmp_path, town_with_workers):
    rows = [row(i, lon=lon, lat=lat, crs=crs, description=what) for i, (lon, lat, crs, what) in enumerate(POINTS)]
    import_cases(path=write_csv(tmp_path / "cases.csv", rows))
    west, east = town_with_workers.west, town_with_workers.east
    assert case_by(POINTS[2][3]).grid == west  # the shared boundary belongs to the lower code
    assert case_by(POINTS[3][3]).grid == west
    assert case_by(POINTS[1][3]).assignee.name == "陈晨"
    north = case_by(POINTS[4][3])
    assert (north.grid, north.assignment_rule) == (east, "nearest_grid")
    assert north.assignment_distance_m == pytest.approx(33.3, abs=0.5)
    unassigned = case_by(POINTS[7][3])
    assert (unassigned.grid, unassigned.assignment_rule, unassigned.territory_code) == (None, "unassigned", "210302")
    assert unassigned.warnings
    assert unassigned.assignee is None
    assert case_by(POINTS[8][3]).territory_code == ""


@pytest.mark.django_db
def test_a_grid_without_worker_is_answered_for_by_its_community_staff(tmp_path, town):
    cindy = make_user("cindy")
    StaffRole.objects.create(user=cindy, role=StaffRole.Role.COMMUNITY_STAFF, scope_code=town.community.code)
    import_cases(path=write_csv(tmp_path / "cases.csv", [row(1, lon=122.995, lat=41.1)]))
    case = Case.objects.get()
    assert (case.assignee, case.assignee_staff) == (None, cindy)
    assert assignee_for(case.grid).staff == cindy


@pytest.mark.django_db
def test_addresses_without_coordinates_are_geocoded(tmp_path, town_with_workers):
    rows = [row(1, address="辽宁省鞍山市铁东区站前街道明达社区建国路12号1号楼"),
            row(2, address="火星路999号")]
    report = import_cases(path=write_csv(tmp_path / "cases.csv", rows))
    found, lost = case_by("路灯不亮 1"), case_by("路灯不亮 2")
    assert found.geocode_method == "building"
    assert found.geocode_building.code == "B-001"
    assert (found.grid, found.assignee.name) == (town_with_workers.west, "王博")
    assert lost.location is None
    assert lost.needs_location
    assert lost.assignment_rule == "unassigned"
    assert lost.warnings  # "address not located: the command centre confirms"
    assert (report.geocoded, report.not_located) == (1, 1)


@pytest.mark.django_db
def test_numbers_are_kept_or_made_as_for_new_cases(tmp_path, town):
    rows = [row(1, number="H2023-000123", lon=122.995, lat=41.1),
            row(2, lon=122.995, lat=41.1, received_at="2024-03-02T23:30:00Z")]  # 07:30 on the 3rd in Shanghai
    import_cases(path=write_csv(tmp_path / "cases.csv", rows))
    assert case_by("路灯不亮 1").number == "H2023-000123"
    made = case_by("路灯不亮 2").number
    assert made.startswith("20240303")
    assert len(made) == 15
    assert made[8:].isdigit()
    assert case_by("路灯不亮 2").received_at == dt.datetime(2024, 3, 2, 23, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_statuses_channels_and_text_arrive_as_given(tmp_path, town):
    text = '<script>alert("x")</script> 井盖丢失，😀 "引号", 逗号'
    rows = [row(1, lon=122.995, lat=41.1, status="closed", channel="patrol", description=text,
                reporter_phone="+86 138-0013-8000", received_at="2024-03-01T08:15:00.123456+08:00")]
    import_cases(path=write_csv(tmp_path / "cases.csv", rows))
    case = Case.objects.get()
    assert (case.status, case.channel, case.description) == ("closed", "patrol", text)
    assert case.received_at == dt.datetime(2024, 3, 1, 8, 15, 0, 123456, tzinfo=SHANGHAI)
    assert case.reporter_phone == "+86 138-0013-8000"


# --- bad files --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_rows_are_listed_and_nothing_is_written(tmp_path, town):
    rows = [
        row(0, lon=122.995, lat=41.1),  # fine
        row(1, lon=122.995, lat=41.1, description=""),
        row(2, lon=122.995, lat=41.1, category="NOPE"),
        row(3, lon=122.995, lat=41.1, crs="mars"),
        row(4, lon=41.1, lat=122.995),  # swapped
        row(5, lon="NaN", lat=41.1),
        row(6, lon=122.995, lat="Infinity"),
        row(7, lon=122.995, lat=41.1, description="长" * 4001),
        row(8, lon=122.995, lat=41.1, channel="fax"),
        row(9, lon=122.995, lat=41.1, received_at="yesterday"),
        row(10, lon=122.995),
        row(11),  # neither coordinates nor an address
        row(12, lon=122.995, lat=41.1, number="A1"),
        row(13, lon=122.995, lat=41.1, number="A1"),
        row(14, lon=122.995, lat=41.1, status="finished"),
        row(15, lon=122.995, lat=41.1, reporter_phone="call me"),
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(CasesRejected) as rejected:
        import_cases(path=path)
    text = rejected.value.report()
    for expected in ("row 3, description: missing", "row 4, category: unknown category 'NOPE'",
                     "row 5, crs: unknown crs 'mars'", "row 6, lat: 122.995 is out of range; lon and lat look swapped",
                     "row 7, lon: 'NaN' is not a finite number", "row 8, lat: 'Infinity' is not a finite number",
                     "row 9, description: longer than 4000 characters", "row 10, channel: unknown channel 'fax'",
                     "row 11, received_at: 'yesterday' is not an ISO 8601", "row 12, lat: missing while lon is given",
                     "row 13, lon: neither coordinates", "row 14, number: A1 appears more than once",
                     "row 15, number: A1 appears more than once", "row 16, status: unknown status 'finished'",
                     "row 17, reporter_phone: may contain only digits"):
        assert expected in text
    assert rejected.value.total == 15
    assert Case.objects.count() == 0
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_cases", str(path), verbosity=0)
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_the_list_of_problems_is_capped(tmp_path, town):
    path = write_csv(tmp_path / "bad.csv", [row(i, lon=122.995, lat=41.1, channel="fax") for i in range(120)])
    with pytest.raises(CasesRejected) as rejected:
        import_cases(path=path)
    assert rejected.value.total == 120
    assert "… and 70 more" in rejected.value.report()


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "reason"), [
    ("when,what\n2024-03-01,x\n", "unknown column"),
    ("received_at,lon,lat\n2024-03-01,1,2\n", "required column missing"),
    ("", "empty"),
    ("received_at,description,lon\n2024-03-01,x,1\n", "lon and lat come together"),
])
def test_files_of_the_wrong_shape_are_refused(tmp_path, town, content, reason):
    path = tmp_path / "shape.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CasesRejected, match=reason):
        import_cases(path=path)


@pytest.mark.django_db
def test_a_file_in_another_encoding_is_refused_or_read_when_named(tmp_path, town):
    path = tmp_path / "gbk.csv"
    text = io.StringIO()
    csv.writer(text).writerows([["received_at", "description", "lon", "lat"],
                                ["2024-03-01", "路灯不亮", 122.995, 41.1]])
    path.write_bytes(text.getvalue().encode("gb18030"))
    with pytest.raises(CasesRejected, match="gb18030"):
        import_cases(path=path)
    assert import_cases(path=path, encoding="gb18030").imported == 1
    assert Case.objects.get().description == "路灯不亮"


# --- idempotency ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_importing_a_file_again_adds_nothing(tmp_path, town, category):
    twin = row(5, lon=123.005, lat=41.1, category=category.code)
    rows = [row(1, number="N-1", lon=122.995, lat=41.1), row(2, lon=122.995, lat=41.1, category=category.code),
            row(3, address="火星路999号"), twin, twin]  # two identical calls: two cases
    path = write_csv(tmp_path / "cases.csv", rows)
    first = import_cases(path=path)
    second = import_cases(path=path)
    assert (first.imported, second.imported, second.already) == (5, 0, 5)
    assert Case.objects.count() == 5
    assert Case.objects.filter(description=twin["description"]).count() == 2
    more = write_csv(tmp_path / "more.csv", [*rows, row(6, lon=122.995, lat=41.1)])
    assert import_cases(path=more).imported == 1


# --- writing in bulk ---------------------------------------------------------------------------------------


def table_schema() -> tuple[set, set]:
    """Indexes (name, columns, operator classes, unique, partial) and constraints of the cases table. A partial
    index's predicate is compared by the columns it reads: re-created from pg_get_indexdef, it deparses with
    its casts in other places (the same condition)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, i.indkey::text, i.indclass::text, i.indisunique, "
                       "pg_get_expr(i.indpred, i.indrelid) IS NOT NULL, am.amname FROM pg_index i "
                       "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                       "WHERE i.indrelid = 'cases_case'::regclass")
        indexes = set(cursor.fetchall())
        cursor.execute("SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                       "WHERE conrelid = 'cases_case'::regclass")
        return indexes, set(cursor.fetchall())


@pytest.mark.django_db
def test_rebuilding_the_indexes_leaves_the_table_as_it_was(tmp_path, town_with_workers, category):
    before = table_schema()
    rows = [row(i, lon=122.991 + i * 1e-5, lat=41.1, category=category.code) for i in range(300)]
    report = import_cases(path=write_csv(tmp_path / "cases.csv", rows), rebuild_indexes=True, batch=64)
    assert report.rebuilt_indexes
    assert report.imported == 300
    assert table_schema() == before
    assert Case.objects.filter(grid=town_with_workers.west).count() == 300


@pytest.mark.django_db
def test_a_failed_load_rolls_back_the_dropped_indexes_too(tmp_path, town, monkeypatch):
    before = table_schema()
    from gridgis.cases.bulk import importing

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(importing, "restore_secondary", broken)
    with pytest.raises(RuntimeError):
        import_cases(path=write_csv(tmp_path / "c.csv", [row(1, lon=122.995, lat=41.1)]), rebuild_indexes=True)
    assert table_schema() == before
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_binary_copy_round_trips_every_kind_of_value():
    text = ["", "ascii", "路灯不亮😀", "x" * 5000, "line\nbreak\ttab\\"]
    ints = np.array([0, -1, 2**40, 7, 3])
    columns = {
        "t": ("text", pgcopy.Text(text, np.array([False, False, False, False, True]))),
        "i8": ("int8", pgcopy.Int8(ints, ints < 0)), "i4": ("int4", pgcopy.Int4(np.array([1, 2, 3, 4, -5]))),
        "f": ("float8", pgcopy.Float8(np.array([0.1, np.nan, -1e300, 2.5, 0.0]))),
        "b": ("bool", pgcopy.Bool(np.array([True, False, True, False, True]))),
        "ts": ("timestamptz", pgcopy.Timestamptz(np.array([0, 1, -1, 10**15, 0]),
                                                 np.array([False, False, False, False, True]))),
        "j": ("jsonb", pgcopy.coded_text(['[]', '["甲"]', '[]', '{"a": 1}', '[]'], prefix=b"\x01")),
        "c": ("text", pgcopy.coded_text(["a", None, "b", "a", None])),
        "g": ("geometry", pgcopy.Raw(pgcopy.ewkb_points(np.arange(5.0), np.arange(5.0) / 2),
                                     np.array([False, True, False, False, False]))),
    }
    from gridgis.cases.bulk.db import stage

    with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
        stage(cursor, "_roundtrip", columns, 5)
        cursor.execute("SELECT t, i8, i4, f, b, ts, j, c, ST_AsText(g), ST_SRID(g) FROM _roundtrip")
        got = cursor.fetchall()
    assert [r[0] for r in got] == [*text[:4], None]
    assert [r[1] for r in got] == [0, None, 2**40, 7, 3]
    assert [r[2] for r in got] == [1, 2, 3, 4, -5]
    assert got[1][3] is None
    assert got[2][3] == -1e300
    assert [r[4] for r in got] == [True, False, True, False, True]
    assert got[1][5] == EPOCH + dt.timedelta(microseconds=1)
    assert got[4][5] is None
    assert [json.loads(r[6]) for r in got] == [[], ["甲"], [], {"a": 1}, []]  # Django's cursor: JSON as text
    assert [r[7] for r in got] == ["a", None, "b", "a", None]
    assert got[1][8] is None
    assert got[3][8] == "POINT(3 1.5)"
    assert got[0][9] == 4326


# --- deadlines --------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2026, 12, 31)),
                          st.sampled_from([0, 1, 2, 8, 16, 40, 80, 200]), st.booleans()), min_size=1, max_size=20))
def test_deadlines_in_bulk_equal_add_working_hours(cases):
    starts = [(s.replace(minute=30, second=0, microsecond=0) if on_the_half else s).replace(tzinfo=SHANGHAI)
              for s, _, on_the_half in cases]
    hours = [h for _, h, _ in cases]
    micros = np.array([(s - EPOCH) // dt.timedelta(microseconds=1) for s in starts])
    got = add_working_hours_us(micros, np.array(hours, dtype=float))
    for start, h, deadline in zip(starts, hours, got, strict=True):
        assert EPOCH + dt.timedelta(microseconds=int(deadline)) == add_working_hours(start, h)


# --- reassigning ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reassigning_after_a_boundary_moves_moves_open_cases_only(tmp_path, town_with_workers):
    west, east = town_with_workers.west, town_with_workers.east
    strip = [row(i, lon=123.0005 + i * 1e-4, lat=41.1, status=status, description=f"{status} {i}")
             for i, status in enumerate(["received", "dispatched", "closed", "in_progress", "voided"])]
    far = row(9, lon=123.008, lat=41.1, description="deep in the east grid")
    import_cases(path=write_csv(tmp_path / "cases.csv", [*strip, far]))
    assert set(Case.objects.values_list("grid", flat=True)) == {east.pk}
    manual = case_by("in_progress 3")
    Case.objects.filter(pk=manual.pk).update(assignment_rule="manual")

    west.geom = MultiPolygon(Polygon.from_bbox((122.99, 41.09, 123.001, 41.11)), srid=4326)  # 85 m further east
    west.save()
    east.geom = MultiPolygon(Polygon.from_bbox((123.001, 41.09, 123.01, 41.11)), srid=4326)
    east.save()

    dry = reassign_open_cases(dry_run=True)
    assert (dry.changed_grid, dry.changed_assignee) == (2, 2)
    assert not CaseEvent.objects.filter(action="reassign").exists()
    assert case_by("received 0").grid == east

    report = reassign_open_cases()
    assert (report.changed_grid, report.changed_assignee, report.manual) == (2, 2, 1)
    for moved in ("received 0", "dispatched 1"):
        case = case_by(moved)
        assert (case.grid, case.assignee.name, case.territory_code) == (west, "王博", west.code)
        assert case.events.get(action="reassign").data["from_grid"] == east.code
    for kept in ("closed 2", "in_progress 3", "voided 4", "deep in the east grid"):
        assert case_by(kept).grid == east, kept
    assert reassign_open_cases().updated == 0  # nothing left to do


@pytest.mark.django_db
def test_reassigning_places_cases_as_place_does(tmp_path, town_with_workers):
    rows = [row(i, lon=lon, lat=lat, crs=crs, description=what) for i, (lon, lat, crs, what) in enumerate(POINTS)]
    import_cases(path=write_csv(tmp_path / "cases.csv", rows))
    west = town_with_workers.west
    west.geom = MultiPolygon(Polygon.from_bbox((122.99, 41.09, 123.0, 41.1108)), srid=4326)  # grows north
    west.save()
    reassign_open_cases()
    for case in Case.objects.exclude(location=None):
        expected = place(case.location)
        assert (case.grid, case.assignment_rule, case.assignment_distance_m) == (
            expected.grid, expected.rule, expected.distance_m), case.description



@pytest.mark.django_db
def test_a_retired_grid_takes_no_imported_cases(tmp_path, town_with_workers, category):
    west, east = town_with_workers.west, town_with_workers.east
    # The planner merged west into east: east now covers both, west stays only for its closed cases.
    east.geom = MultiPolygon(Polygon.from_bbox((122.98, 41.09, 123.01, 41.11)), srid=4326)
    east.save()
    Grid.all_objects.filter(pk=west.pk).update(retired_at=timezone.now())
    import_cases(path=write_csv(tmp_path / "cases.csv", [row(0, lon=122.995, lat=41.10, category=category.code,
                                                             description="in the old west grid")]))
    case = case_by("in the old west grid")
    assert case.grid_id == east.pk
    assert case.assignee.name == "陈晨"
