"""Writes on cases. case_create is the one path every channel (API, Open311, hotline import) goes through."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb

from geodata.china_coords import to_wgs84
from gridgis.geocoding.gazetteer import geocode
from gridgis.intake.photos import ProcessedPhoto
from gridgis.prepared import fetchone_prepared

from .assignment import route
from .duplicates import NEAREST_OPEN, nearest_open_params
from .models import Case, CaseEvent, CasePhoto, Category
from .worktime import add_working_hours

_STRICT_JSON = functools.partial(json.dumps, allow_nan=False)  # NaN is not JSON: refused, not stored wrong


@dataclass(frozen=True)
class IntakeReport:
    """A validated report from any channel; coordinates as received, in `crs`."""

    description: str
    channel: str
    category: Category | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = Case.Crs.WGS84
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    photos: tuple[ProcessedPhoto, ...] = ()
    received_at: dt.datetime | None = None


@dataclass
class Located:
    point: Point | None = None
    method: str = Case.GeocodeMethod.NONE
    confidence: float | None = None
    building_code: str = ""
    candidates: list[dict] = field(default_factory=list)


def _locate(report: IntakeReport) -> Located:
    if report.lon is not None and report.lat is not None:
        lon, lat = to_wgs84(report.lon, report.lat, report.crs)
        return Located(Point(lon, lat, srid=4326), Case.GeocodeMethod.POINT, 1.0)
    for photo in report.photos:
        if photo.gps is not None:  # phone cameras write GPS in WGS84
            return Located(Point(*photo.gps, srid=4326), Case.GeocodeMethod.PHOTO_EXIF, 1.0)
    if report.address:
        result = geocode(report.address)
        return Located(
            result.point,
            result.method if result.located else Case.GeocodeMethod.NONE,
            result.confidence,
            result.building_code,
            [c.as_dict() for c in result.candidates],
        )
    return Located()


def _territory_code(case: Case, district_code: str, jurisdiction: str) -> str:
    """The code the case is filed under for scope: its grid, else the district around its point, else the
    jurisdiction of whoever took the report in (so the right command centre sees the unplaced case)."""
    if case.grid is not None:
        return case.grid.code
    return district_code or jurisdiction


def _deadline(case: Case) -> dt.datetime | None:
    if case.category is None:
        return None
    return add_working_hours(case.received_at, case.category.deadline_hours)


def case_create(*, report: IntakeReport, by=None, jurisdiction: str = "", api_key=None) -> Case:
    """Locates, places and assigns a report and files it as a new case (one transaction: one statement, or
    with photos a transaction around it and theirs; inside the caller's transaction when there is one). The
    case comes back with what the case shape shows already attached (grid, community, street, assignee,
    building, duplicate, photos, no departments), so showing it needs no further query."""
    located = _locate(report)
    routed = route(located.point)  # placement and assignee, in one query
    placement, assignee = routed.placement, routed.assignee
    grid = placement.grid
    case = Case(
        description=report.description,
        category=report.category,
        channel=report.channel,
        location=located.point,
        raw_lon=report.lon,
        raw_lat=report.lat,
        raw_crs=report.crs,
        address=report.address,
        reporter_name=report.reporter_name,
        reporter_phone=report.reporter_phone,
        grid=grid,
        community=grid.community if grid else None,
        street=grid.community.street if grid else None,
        assignee=assignee.worker,
        assignee_staff=assignee.staff,
        geocode_method=located.method,
        geocode_confidence=located.confidence,
        geocode_candidates=located.candidates,
        needs_location=located.point is None,
        assignment_rule=placement.rule,
        assignment_distance_m=placement.distance_m,
        created_by=by if by is not None and by.is_authenticated else None,
        api_key=api_key,
        received_at=report.received_at or timezone.now(),
    )
    case.territory_code = _territory_code(case, routed.district_code, jurisdiction)
    case.warnings = _warnings(case)
    case.deadline = _deadline(case)
    event = CaseEvent(
        action="receive", to_status=case.status, actor=case.created_by, at=case.received_at,
        data={"channel": case.channel, "assignment_rule": case.assignment_rule},
    )
    # No photos: the one statement is the transaction (BEGIN and COMMIT would be two more round trips).
    with transaction.atomic(savepoint=False) if report.photos else contextlib.nullcontext():
        _file(case, event, building_code=located.building_code)
        photos = []
        if report.photos:
            photos = CasePhoto.objects.bulk_create([_stored_photo(case, photo, event) for photo in report.photos])
    _known_related(case, photos=photos)
    return case


# Filing a case in one statement: its possible duplicate (duplicates.NEAREST_OPEN), its number (the day of
# reception in Shanghai and the sequence, 7 digits or more: 202611280000042), the gazetteer's building by
# code, the case row and its 'receive' timeline entry (whose trigger rings the live listeners). Each row
# comes as one JSON parameter read as the table's row type, so the statement stays short and few-parametered
# enough for psycopg to cache its parsing; it is prepared once per connection (fetchone_prepared).
_FILE = """
WITH dup AS MATERIALIZED ({duplicate}),
c AS (
  INSERT INTO {case_table} ({case_columns}, number, duplicate_of_id, geocode_building_id)
  SELECT {case_columns},
    (SELECT %(day)s::text || lpad(n::text, greatest(7, length(n::text)), '0')
     FROM nextval('cases_case_number_seq') n),
    (SELECT id FROM dup),
    (SELECT id FROM {building_table} WHERE code = %(building)s LIMIT 1)
  FROM jsonb_populate_record(NULL::{case_table}, %(case)s)
  RETURNING id, number, geocode_building_id
),
e AS (
  INSERT INTO {event_table} (case_id, {event_columns})
  SELECT (SELECT id FROM c), {event_columns} FROM jsonb_populate_record(NULL::{event_table}, %(event)s)
  RETURNING id
)
SELECT c.id, c.number, c.geocode_building_id, (SELECT id FROM e), dup.id, dup.number FROM c LEFT JOIN dup ON true
"""


def _columns(model, *, skip: tuple[str, ...]) -> list:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in skip]
    for f in fields:
        if f.db_default is not NOT_PROVIDED and f.default is NOT_PROVIDED:  # would have to be read back
            raise NotImplementedError(f"case_create: {f} has a database default only")
        if getattr(f, "encoder", None) is not None:  # _json_row writes JSON values with the plain encoder
            raise NotImplementedError(f"case_create: {f} has a JSON encoder of its own")
    return fields


@functools.cache
def _file_sql() -> tuple[str, list, list]:
    from gridgis.territory.models import Building

    quote = connection.ops.quote_name
    case_fields = _columns(Case, skip=("number", "duplicate_of_id", "geocode_building_id"))
    event_fields = _columns(CaseEvent, skip=("case_id",))
    sql = _FILE.format(
        duplicate=NEAREST_OPEN, case_table=quote(Case._meta.db_table), building_table=quote(Building._meta.db_table),
        case_columns=", ".join(quote(f.column) for f in case_fields), event_table=quote(CaseEvent._meta.db_table),
        event_columns=", ".join(quote(f.column) for f in event_fields),
    )
    return sql, case_fields, event_fields


def _json_row(instance, fields: list) -> Jsonb:
    """The instance's values (as the ORM would save them: each field's pre_save) as a JSON object by column,
    in the text forms PostgreSQL reads back exactly: ISO 8601 times, hex EWKB geometries."""
    row = {}
    for f in fields:
        value = f.pre_save(instance, True)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif isinstance(value, GEOSGeometry):
            if value.srid != f.srid:
                raise ValueError(f"{f}: SRID {value.srid}, not {f.srid}")
            value = value.hexewkb.decode()
        row[f.column] = value
    return Jsonb(row, dumps=_STRICT_JSON)


def _file(case: Case, event: CaseEvent, *, building_code: str = "") -> None:
    """Inserts `case` and its timeline entry `event` (see _FILE); both come back saved, the case with its
    number, its building and possible duplicate (id and number; the rest loads on access)."""
    sql, case_fields, event_fields = _file_sql()
    params = nearest_open_params(case)
    params.update(day=f"{timezone.localtime(case.received_at):%Y%m%d}", building=building_code or None,
                  case=_json_row(case, case_fields), event=_json_row(event, event_fields))
    case_id, number, building_id, event_id, duplicate_id, duplicate_number = fetchone_prepared(sql, params)
    case.pk, case.number = case_id, number
    case.geocode_building = _partial_building(building_id, building_code) if building_id is not None else None
    case.duplicate_of = Case.from_db("default", ["id", "number"], [duplicate_id, duplicate_number]) \
        if duplicate_id is not None else None
    event.pk, event.case = event_id, case
    for saved in (case, event):
        saved._state.adding, saved._state.db = False, "default"


def _known_related(case: Case, *, photos: list[CasePhoto]) -> None:
    """What a new case's shape would read back: no extension pending, no departments, the photos just
    stored (as a prefetch would leave them, so case.photos.all() and case.departments.all() query nothing)."""
    case.pending_extension = False
    case._prefetched_objects_cache = {"departments": _evaluated(case.departments.all(), []),
                                      "photos": _evaluated(case.photos.all(), photos)}
    case.handler = None


def _evaluated(queryset, objects: list):
    """`queryset` as a prefetch leaves it: holding `objects`, so iterating it runs nothing (not even compiling
    the SQL of an empty one)."""
    queryset._result_cache, queryset._prefetch_done = objects, True
    return queryset


def _partial_building(pk: int, code: str):
    """The gazetteer's building: id and code (the rest loads on access)."""
    from gridgis.territory.models import Building

    return Building.from_db("default", ["id", "code"], [pk, code])


def _warnings(case: Case) -> list[str]:
    if case.location is not None and case.grid is None and not case.territory_code:
        return [_("位置不在任何辖区内，案件已进入待分派队列")]
    if case.location is not None and case.grid is None:
        return [_("位置不在任何网格内，案件已进入待分派队列")]
    if case.location is None:
        return [_("地址未能准确定位，请指挥中心确认位置")]
    return []


def _stored_photo(case: Case, photo: ProcessedPhoto, event: CaseEvent) -> CasePhoto:
    """The photo's files written to storage; the row is inserted by the caller (all of a report's at once)."""
    stored = CasePhoto(case=case, event=event, width=photo.width, height=photo.height)
    stored.image.save(f"photo.{photo.extension}", ContentFile(photo.content), save=False)
    stored.thumbnail.save(f"thumb.{photo.thumbnail_extension}", ContentFile(photo.thumbnail), save=False)
    return stored


def _attach_photo(case: Case, photo: ProcessedPhoto, event: CaseEvent) -> CasePhoto:
    """One photo of a workflow step, stored and inserted."""
    stored = _stored_photo(case, photo, event)
    stored.save()
    return stored
