"""Open311 GeoReport v2 views: thin, each one parse → one service or query → one payload."""

from __future__ import annotations

import functools

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from gridgis.cases.models import Category
from gridgis.intake.services import IdempotencyConflict, report_intake

from . import queries
from .formats import Open311Error, render, render_error
from .serializers import (
    created_payload,
    definition_payload,
    discovery_payload,
    report_serializer,
    request_payload,
    service_payload,
    token_payload,
)

MAX_IDEMPOTENCY_KEY = 200
# What Django raises while reading a body, answered in the standard's shape rather than as an HTML page.
BODY_ERRORS = {
    RequestDataTooBig: (413, "the request body is too large"),
    TooManyFieldsSent: (400, "the request has too many fields"),
    MultiPartParserError: (400, "the multipart body is malformed"),
}


def open311(*methods: str):
    """Answers disallowed methods and every Open311Error in the standard's error shape. CSRF does not apply:
    a POST is authorised by the api_key it carries, never by a cookie."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def handle(request, fmt: str, **kwargs):
            try:
                if request.method not in methods:
                    raise Open311Error(405, f"{request.method} is not allowed here; use {' or '.join(methods)}")
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return render_error(fmt, error)
            except tuple(BODY_ERRORS) as error:
                code, description = next(v for k, v in BODY_ERRORS.items() if isinstance(error, k))
                return render_error(fmt, Open311Error(code, description))

        return handle

    return decorate


@open311("GET")
def discovery(request, fmt):
    return render(fmt, "discovery", discovery_payload(request.build_absolute_uri(reverse("open311:root"))))


@open311("GET")
def services(request, fmt):
    queries.jurisdiction_of(request.GET.get("jurisdiction_id", ""))
    categories = Category.objects.filter(active=True).order_by("code")
    return render(fmt, "services", [service_payload(c) for c in categories])


@open311("GET")
def service_definition(request, fmt, code: str):
    queries.jurisdiction_of(request.GET.get("jurisdiction_id", ""))
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        raise Open311Error(404, f"service_code {code[:40]!r} was not found")
    return render(fmt, "service_definition", definition_payload(category))


@open311("GET", "POST")
def service_requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    cases = _visible(request)
    chosen = queries.request_filter(request.GET).apply(cases)
    return _requests(request, fmt, chosen)


@open311("GET")
def service_request(request, fmt, request_id: str):
    case = queries.request_by_id(_visible(request), request_id)
    return _requests(request, fmt, [case])


@open311("GET")
def request_for_token(request, fmt, token: str):
    case = queries.request_by_id(_visible(request), queries.request_id_for(token))
    return render(fmt, "service_requests", [token_payload(case, token)])


def not_found(request, path: str):
    fmt = "xml" if path.endswith(".xml") else "json"
    return render_error(fmt, Open311Error(404, f"/open311/v2/{path[:80]} is not an Open311 resource; "
                                               f"see discovery.json"))


def _create(request, fmt):
    key = queries.api_key_for_post(request.POST.get("api_key") or request.GET.get("api_key", ""))
    queries.jurisdiction_of(request.POST.get("jurisdiction_id", ""))
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise Open311Error(400, f"Idempotency-Key may have at most {MAX_IDEMPOTENCY_KEY} characters")
    report = report_serializer(request.POST, request.FILES)
    try:
        intake = report_intake(report=report.to_report(), api_key=key, idempotency_key=idempotency_key,
                               fingerprint=report.fingerprint() if idempotency_key else "")
    except IdempotencyConflict:
        raise Open311Error(409, "Idempotency-Key was already used for a different request") from None
    payload = created_payload(intake.case, queries.token_for(intake.case))
    return render(fmt, "service_requests", [payload], status=201 if intake.created else 200)


def _visible(request):
    key = queries.api_key_if_given(request.GET.get("api_key", ""))
    return queries.visible_requests(api_key=key, jurisdiction=queries.jurisdiction_of(
        request.GET.get("jurisdiction_id", "")))


def _requests(request, fmt, cases):
    extensions = request.GET.get("extensions", "").lower() == "true"
    payload = [request_payload(c, absolute=request.build_absolute_uri, extensions=extensions) for c in cases]
    return render(fmt, "service_requests", payload)
