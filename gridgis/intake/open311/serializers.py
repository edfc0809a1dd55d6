"""Open311 shapes: our categories and cases as the standard's payloads, and a POST form as a native report.

Output carries no personal data of the reporter: no name, phone, e-mail, device or account id, whoever asks.
Input is checked first for what Open311 itself defines (service_code, lat/long, address_id), with messages
in Open311 terms, then by the native API's CaseReportSerializer, so that description, address, phone and
photo rules (and photo processing) are the same for every channel.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gridgis.cases.models import Case, Category
from gridgis.intake.serializers import CaseReportSerializer
from gridgis.territory.models import Building

from .formats import Open311Error

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+08:00"  # when this endpoint's contract last changed
MIME_TYPES = ["text/xml", "application/json"]

# Native field → the Open311 field(s) a client sent it as, to name them in error descriptions.
OPEN311_FIELDS = {
    "description": "description",
    "category": "service_code",
    "location": "lat/long",
    "address": "address_string",
    "reporter_name": "first_name/last_name",
    "reporter_phone": "phone",
    "photos": "media",
}
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_LATIN = re.compile(r"[A-Za-z]")


def iso(moment: dt.datetime | None) -> str | None:
    """W3C date-time in Beijing time, e.g. 2026-11-28T09:30:00+08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


# --- output -------------------------------------------------------------------------------------------


def discovery_payload(endpoint_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": "The city command centre (指挥中心) that runs this gridgis server.",
        "key_service": "API keys are issued by the command centre (python manage.py issue_api_key NAME).",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": endpoint_url,
            "changeset": CHANGESET,
            "type": "production",
            "formats": MIME_TYPES,
        }],
    }


def service_payload(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,  # no extra attributes: a category, a place and a description make a report
        "type": "realtime",  # a POST answers with the case's id at once
        "keywords": ",".join([str(category.get_kind_display()), category.major_name]),
        "group": category.major_name,
    }


def definition_payload(category: Category) -> dict:
    return {"service_code": category.code, "attributes": []}


def created_payload(case: Case, token: str) -> dict:
    # account_id: we keep no accounts for Open311 reporters, so there is none to give back.
    return {"service_request_id": case.number, "token": token, "service_notice": _notice(case),
            "account_id": None}


def token_payload(case: Case, token: str) -> dict:
    return {"service_request_id": case.number, "token": token}


def request_payload(case: Case, *, absolute: Callable[[str], str], extensions: bool = False) -> dict:
    """A case as an Open311 service request. `absolute` turns a media path into a full URL."""
    category, location = case.category, case.location
    payload = {
        "service_request_id": case.number,
        "status": "open" if case.is_open else "closed",
        "status_notes": str(case.get_status_display()),  # our finer state (受理, 派遣, 处置 …)
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": case.description,
        "agency_responsible": _agency(case),
        "service_notice": _notice(case),
        "requested_datetime": iso(case.received_at),
        "updated_datetime": iso(case.updated_at),
        "expected_datetime": iso(case.deadline),
        "address": case.address or (case.geocode_building.address if case.geocode_building else None),
        "address_id": case.geocode_building.code if case.geocode_building else None,
        "zipcode": None,
        "lat": location.y if location else None,
        "long": location.x if location else None,
        "media_url": _media_url(case, absolute),
    }
    if extensions:
        payload["extended_attributes"] = _extended_attributes(case)
    return payload


def _agency(case: Case) -> str | None:
    if case.department is not None:
        return case.department.name
    return case.grid.name if case.grid is not None else None


def _notice(case: Case) -> str:
    if case.category is None:
        return ""
    return _("由%(tier)s处置，时限 %(hours)d 个工作小时") % {
        "tier": case.category.get_tier_display(), "hours": case.category.deadline_hours}


def _media_url(case: Case, absolute: Callable[[str], str]) -> str | None:
    photos = list(case.photos.all())  # prefetched by the selectors
    return absolute(photos[0].image.url) if photos else None


def _extended_attributes(case: Case) -> dict:
    return {
        "grid_code": case.grid.code if case.grid else None,
        "community_code": case.community.code if case.community else None,
        "street_code": case.street.code if case.street else None,
        "assignee": _assignee(case),
        "geocode_confidence": case.geocode_confidence,
        "deadline": iso(case.deadline),
    }


def _assignee(case: Case) -> str | None:
    """The worker's name only (as on the grid's public notice board), never their phone."""
    if case.assignee is not None:
        return case.assignee.name
    if case.assignee_staff is not None:
        return case.assignee_staff.get_full_name() or case.assignee_staff.username
    return None


# --- input --------------------------------------------------------------------------------------------


def report_serializer(form, files) -> CaseReportSerializer:
    """The POST /requests form (`form`: a QueryDict, `files`: its uploads) validated as a native report;
    raises Open311Error(400) naming each bad field. Error descriptions are English, as Open311 clients
    expect."""
    with translation.override("en"):
        serializer = CaseReportSerializer(data=native_data(form, files))
        if not serializer.is_valid():
            raise Open311Error(400, *_described(serializer.errors))
    return serializer


def native_data(form, files) -> dict:
    """The form in the native API's field names, after the checks only Open311 has."""
    problems: list[str] = []
    code = _service_code(form, problems)
    location, address = _location(form, files, problems)
    if problems:
        raise Open311Error(400, *problems)
    data = {
        "category": code,
        "location": {"type": "Point", "coordinates": list(location)} if location else None,
        "crs": Case.Crs.WGS84,  # the standard's lat/long are WGS84
        "address": address,
        "channel": Case.Channel.OPEN311,
        "reporter_name": full_name(form.get("first_name", ""), form.get("last_name", "")),
        "reporter_phone": form.get("phone", "").strip(),
        "photos": files.getlist("media"),
    }
    if "description" in form:  # absent stays absent, so the native "required" message applies
        data["description"] = form["description"]
    return data


def full_name(first: str, last: str) -> str:
    """张 + 三 → 张三 (family name first, no space) for Chinese names; "Ann Lee" for Latin ones."""
    first, last = first.strip(), last.strip()
    if _LATIN.search(first + last):
        return f"{first} {last}".strip()
    return last + first


def _service_code(form, problems: list[str]) -> str:
    code = form.get("service_code", "").strip()
    if not code:
        problems.append("service_code is required (see services.json)")
    elif not Category.objects.filter(code=code, active=True).exists():
        problems.append(f"service_code {code!r} is not a service of this city (see services.json)")
    return code


def _location(form, files, problems: list[str]) -> tuple[tuple[float, float] | None, str]:
    """(lon, lat) or None, and the address text; a photo with GPS may stand in for both."""
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    address = form.get("address_string", "").strip()
    address_id = form.get("address_id", "").strip()
    if lat or long:
        return _point(lat, long, problems), address
    if address_id:
        return _building_point(address_id, address, problems)
    if not address and not files.getlist("media"):
        problems.append("a location is required: lat and long, address_string or address_id")
    return None, address


def _point(lat: str, long: str, problems: list[str]) -> tuple[float, float] | None:
    before = len(problems)
    y = _coordinate("lat", lat, 90, problems)
    x = _coordinate("long", long, 180, problems)
    if len(problems) > before:
        if y is not None and abs(y) > 90 and x is not None and abs(x) <= 90:
            problems.append("lat and long look swapped: lat is the north–south coordinate (−90…90)")
        return None
    return x, y


def _coordinate(name: str, text: str, limit: int, problems: list[str]) -> float | None:
    """The number in `text` (WGS84 degrees), reporting why it is unusable; a number out of range is
    returned as well, so that swapped coordinates can be recognised."""
    if not text:
        problems.append(f"{name} is required together with {'long' if name == 'lat' else 'lat'}")
        return None
    value = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not math.isfinite(value):
        problems.append(f"{name} must be a finite decimal number of degrees, got {text[:40]!r}")
        return None
    if abs(value) > limit:
        problems.append(f"{name} {value} is out of range (−{limit}…{limit})")
    return value


def _building_point(code: str, address: str, problems: list[str]) -> tuple[tuple[float, float] | None, str]:
    """address_id is our building code: the report lands on the building (and its grid)."""
    building = Building.objects.filter(code=code).first()
    if building is None:
        problems.append(f"address_id {code[:64]!r} is not a building code of this city")
        return None, address
    inside = building.geom.point_on_surface  # inside the outline, unlike the centroid of an L-shape
    return (inside.x, inside.y), address or building.address


def _described(errors: dict) -> list[str]:
    """DRF's {field: [messages]} as Open311 error descriptions, each naming the Open311 field."""
    descriptions = []
    for field, messages in errors.items():
        name = OPEN311_FIELDS.get(field, field)
        items = messages if isinstance(messages, list) else [messages]
        descriptions += [f"{name}: {message}" for message in _flat(items)]
    return descriptions


def _flat(items) -> list[str]:
    flat = []
    for item in items:
        if isinstance(item, dict):
            flat += _flat(list(item.values()))
        elif isinstance(item, list):
            flat += _flat(item)
        else:
            flat.append(str(item))
    return flat
