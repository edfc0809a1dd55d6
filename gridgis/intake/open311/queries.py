"""Open311 reads: which requests a caller sees, the GET /requests filters, tokens, keys and jurisdictions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gridgis.cases.models import Case, Category
from gridgis.intake.models import ApiKey
from gridgis.territory.models import Community, District, Grid, Street

from .formats import Open311Error

WINDOW = dt.timedelta(days=90)  # the standard's default and widest date range
MAX_REQUESTS = 1000
MAX_IDS = 1000
STATUSES = {"open": Case.OPEN_STATUSES, "closed": (Case.Status.CLOSED,)}
SIGNING_SALT = "gridgis.open311.token"
_TERRITORIES = {6: District, 9: Street, 12: Community, 15: Grid}
# An unencoded "+" in a query string arrives as a space: "2026-11-01T08:00:00 08:00".
_SPACED_OFFSET = re.compile(r" (\d\d(:?\d\d)?)$")


# --- who asks -----------------------------------------------------------------------------------------


def api_key_for_post(raw: str) -> ApiKey:
    if not raw:
        raise Open311Error(403, "api_key is required to post a service request")
    return _known_key(raw)


def api_key_if_given(raw: str) -> ApiKey | None:
    return _known_key(raw) if raw else None


def _known_key(raw: str) -> ApiKey:
    key = ApiKey.lookup(raw)
    if key is None:
        raise Open311Error(403, "api_key is not valid (unknown or revoked)")
    return key


def jurisdiction_of(raw: str) -> str:
    """jurisdiction_id is a territory code (district … grid); unknown codes are the standard's 404."""
    code = raw.strip()
    if not code:
        return ""
    model = _TERRITORIES.get(len(code))
    if model is None or not code.isdigit() or not model.objects.filter(code=code).exists():
        raise Open311Error(404, f"jurisdiction_id {code[:20]!r} was not found: use a district, street, "
                                f"community or grid code")
    return code


# --- what they see ------------------------------------------------------------------------------------


def visible_requests(*, api_key: ApiKey | None, jurisdiction: str = "") -> QuerySet[Case]:
    """Every case but voided ones; with a key, only those filed under its jurisdiction and those it filed
    itself (a request whose point lies outside the key's territory is still the client's own)."""
    cases = Case.objects.exclude(status=Case.Status.VOIDED)
    if api_key is not None and api_key.jurisdiction:
        cases = cases.filter(Q(territory_code__startswith=api_key.jurisdiction) | Q(api_key=api_key))
    if jurisdiction:
        cases = cases.filter(territory_code__startswith=jurisdiction)
    return cases.select_related(
        "category", "grid", "community", "street", "department", "assignee", "assignee_staff", "geocode_building",
    ).prefetch_related("photos")


def request_by_id(cases: QuerySet[Case], request_id: str) -> Case:
    case = cases.filter(number=request_id).first()
    if case is None:
        raise Open311Error(404, f"service_request_id {request_id[:40]!r} was not found")
    return case


@dataclass(frozen=True)
class RequestFilter:
    """GET /requests parameters, checked. With ids, the standard has them override every other filter."""

    ids: tuple[str, ...]
    service_codes: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    statuses: tuple[str, ...]

    def apply(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        if self.ids:
            return cases.filter(number__in=self.ids).order_by("-received_at")[:MAX_REQUESTS]
        cases = cases.filter(received_at__gte=self.start, received_at__lte=self.end)
        if self.service_codes:
            cases = cases.filter(category__code__in=self.service_codes)
        if self.statuses:
            cases = cases.filter(status__in=[s for name in self.statuses for s in STATUSES[name]])
        return cases.order_by("-received_at")[:MAX_REQUESTS]


def request_filter(params) -> RequestFilter:
    start, end = _window(_when(params, "start_date"), _when(params, "end_date"))
    return RequestFilter(
        ids=_listed(params, "service_request_id")[:MAX_IDS],
        service_codes=_service_codes(params),
        start=start,
        end=end,
        statuses=_statuses(params),
    )


def _listed(params, name: str) -> tuple[str, ...]:
    """A comma-delimited parameter, which may also be repeated (`status=open&status=closed`)."""
    return tuple(item.strip() for value in params.getlist(name) for item in value.split(",") if item.strip())


def _service_codes(params) -> tuple[str, ...]:
    codes = _listed(params, "service_code")
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise Open311Error(400, f"service_code {', '.join(unknown)[:80]!r} is not a service of this city")
    return codes


def _statuses(params) -> tuple[str, ...]:
    statuses = tuple(s.lower() for s in _listed(params, "status"))
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise Open311Error(400, f"status {bad[0][:20]!r} is not one of open, closed")
    return statuses


def _when(params, name: str) -> dt.datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    text = _SPACED_OFFSET.sub(r"+\1", raw)
    try:
        moment = parse_datetime(text)
    except ValueError:  # well formed but impossible, e.g. month 13
        moment = None
    if moment is None:
        raise Open311Error(400, f"{name} {raw[:40]!r} is not a W3C date-time such as 2026-11-01T08:00:00+08:00")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)  # no offset: Beijing time


def _window(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return start, end


# --- tokens -------------------------------------------------------------------------------------------


def token_for(case: Case) -> str:
    """Requests are created at once, so a token only ever stands for a known id: it is the id, signed."""
    return signing.Signer(salt=SIGNING_SALT).sign(case.number)


def request_id_for(token: str) -> str:
    try:
        return signing.Signer(salt=SIGNING_SALT).unsign(token)
    except signing.BadSignature:
        raise Open311Error(404, f"token {token[:60]!r} was not found") from None
