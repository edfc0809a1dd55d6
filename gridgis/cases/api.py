"""The closed loop over HTTP: `POST /api/v1/cases/{id}/{action}/` (one view per action), the read-only
timeline, and the case list. Thin views: a body serializer, one service, the case back.

Errors: 400 {field: [messages]}; 403 {detail, allowed_actions} when the caller sees the case but may not take
the action; 404 when the case is not in the caller's scope (whether or not it exists); 409 {detail, code,
status, action, allowed_actions} when the action does not start from the case's status.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgis.intake.api import CaseListCreate, CategoryList
from gridgis.intake.serializers import CaseReportSerializer, CaseSerializer, CategorySerializer

from . import selectors
from .actors import Actor, actor_for
from .idempotency import MAX_KEY_LENGTH, KeyReused, claim_step_key, step_fingerprint
from .serializers import (
    BODIES,
    LIST_FIELDS,
    CaseEventSerializer,
    CaseListQuery,
    Conflict,
    FieldErrors,
    Missing,
    Refusal,
    StepSerializer,
)
from .transitions import TRANSITIONS, acting_as
from .workflow import RULES, CaseNotFound, IllegalTransition, NotPermitted, TransitionError

ERRORS = {
    400: OpenApiResponse(FieldErrors, description="bad input: {field: [messages]}"),
    403: OpenApiResponse(Refusal, description="not authenticated, or no right to this action on this case"),
    404: OpenApiResponse(Missing, description="no such case in your scope (never says which)"),
}


class ActorMixin:
    """The caller's roles and scope, read once per request and shared by the scope check, the service's
    view of the case and the serializer."""

    @property
    def actor(self) -> Actor:
        if not hasattr(self, "_actor"):
            self._actor = actor_for(self.request.user)
        return self._actor

    def context(self) -> dict:
        return {"request": self.request, "actor": self.actor}


class CasePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CaseList(ActorMixin, CaseListCreate):
    """GET: the caller's cases (through their scope), filtered and paginated; POST: a new report (intake)."""

    pagination_class = CasePagination

    @extend_schema(
        summary="List cases in your scope",
        parameters=[
            OpenApiParameter("status", str, description="comma-separated statuses, e.g. dispatched,accepted"),
            OpenApiParameter("overdue", bool), OpenApiParameter("supervised", bool),
            OpenApiParameter("grid", str, description="a territory code or prefix (grid, community, street)"),
            OpenApiParameter("mine", bool, description="only cases you answer for now"),
            OpenApiParameter("ordering", str, enum=["received_at", "-received_at", "deadline", "-deadline"]),
            OpenApiParameter("page", int), OpenApiParameter("page_size", int),
        ],
        responses={200: CaseSerializer(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    )
    def get(self, request):
        query = CaseListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        cases = selectors.case_list(request.user, actor=self.actor, **query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(cases, request, view=self)
        return paginator.get_paginated_response(CaseSerializer(page, many=True, context=self.context()).data)


    @extend_schema(
        summary="Report a case (intake)",
        description="JSON, or multipart with `photos`. Header `Idempotency-Key`: the same key returns the same "
                    "case (200), never a second one.",
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        request={"application/json": CaseReportSerializer, "multipart/form-data": CaseReportSerializer},
        responses={201: CaseSerializer, 200: CaseSerializer, 400: ERRORS[400], 403: ERRORS[403],
                   409: OpenApiResponse(FieldErrors, description="Idempotency-Key reused for another report")},
    )
    def post(self, request):
        return super().post(request)


class CaseDetail(ActorMixin, APIView):
    """GET /api/v1/cases/{id}/ (the intake view's shape and scope; the caller's roles read once)."""

    @extend_schema(summary="A case in your scope",
                   responses={200: CaseSerializer, 403: ERRORS[403], 404: ERRORS[404]})
    def get(self, request, pk: int):
        case = selectors.case_detail(request.user, pk, self.actor)
        if case is None:
            raise Http404
        return Response(CaseSerializer(case, context=self.context()).data)


class Categories(CategoryList):
    @extend_schema(summary="Case categories (GB/T 30428.2)", responses={200: CategorySerializer(many=True)})
    def get(self, request):
        return super().get(request)


class CaseTimeline(ActorMixin, APIView):
    """GET only: the timeline is append-only, here as in the database."""

    @extend_schema(summary="The case's timeline (append-only)",
                   responses={200: CaseEventSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]})
    def get(self, request, pk: int):
        events = selectors.case_timeline(request.user, pk, self.actor)
        if events is None:
            raise Http404
        return Response(CaseEventSerializer(events, many=True, context={"request": request}).data)


class CaseTransition(ActorMixin, APIView):
    """Base of the per-action views; `action_name` picks the rule, body and service."""

    action_name = ""
    body_class: type[StepSerializer] = StepSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def post(self, request, pk: int):
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationError({"Idempotency-Key": [_("最多 200 个字符")]})
        data = _body(request)
        body = self.body_class(data=data)
        if not body.is_valid():
            # Out of scope is a 404 whatever the body (the service's locked read checks it for valid ones).
            if not selectors.cases_for(request.user, self.actor).filter(pk=pk).exists():
                raise Http404
            raise ValidationError(body.errors)
        with acting_as(self.actor), transaction.atomic():
            if not key or claim_step_key(user=request.user, key=key, case_pk=pk,
                                         fingerprint=step_fingerprint(action=self.action_name, case_pk=pk, body=data)):
                TRANSITIONS[self.action_name](case=pk, by=request.user, **body.service_kwargs())
        case = selectors.case_detail(request.user, pk, self.actor)
        return Response(CaseSerializer(case, context=self.context()).data)

    def handle_exception(self, exc):
        if isinstance(exc, CaseNotFound):
            exc = Http404()
        elif isinstance(exc, TransitionError):
            return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        elif isinstance(exc, IllegalTransition):
            return Response(_conflict(exc), status=status.HTTP_409_CONFLICT)
        elif isinstance(exc, KeyReused):
            return Response({"Idempotency-Key": [_("此键已用于另一个不同的操作")]}, status=status.HTTP_409_CONFLICT)
        elif isinstance(exc, NotPermitted):
            return Response({"detail": _("您无权对本案件执行此操作"), "allowed_actions": exc.allowed},
                            status=status.HTTP_403_FORBIDDEN)
        return super().handle_exception(exc)


def _conflict(exc: IllegalTransition) -> dict:
    return {
        "detail": _("案件当前状态（%(status)s）不能执行此操作") % {"status": exc.status},
        "code": "illegal_transition", "status": exc.status, "action": exc.action,
        "allowed_actions": exc.allowed,
    }


def _body(request):
    """JSON as it is; a form as a plain dict, with list fields (photos, co_handlers) as lists."""
    if not hasattr(request.data, "getlist"):
        return request.data
    data = {key: request.data.get(key) for key in request.data if key not in LIST_FIELDS}
    for key in LIST_FIELDS:
        values = request.FILES.getlist(key) if key == "photos" else request.data.getlist(key)
        if values:
            data[key] = values
    return data


OUTCOMES = {
    "verify": "verified; or dispatched when not passed (返工, reopen_count + 1, same deadline)",
    "rate": "closed; or dispatched when unsatisfied (返工, reopen_count + 1, new deadline)",
}


def _describe(action: str) -> str:
    rule = RULES[action]
    to = rule.target or OUTCOMES.get(action, "unchanged")
    return (f"{rule.label}. From: {', '.join(sorted(rule.sources))}. To: {to}. "
            f"Who: {', '.join(sorted(rule.who))}. Writes one timeline entry; photos by multipart `photos`.")


def transition_view(action: str) -> type[CaseTransition]:
    """A view of its own per action, so that each has its own request body in the OpenAPI schema."""
    body = BODIES[action]

    @extend_schema(
        operation_id=f"cases_{action}", summary=f"{action} — {RULES[action].label}", description=_describe(action),
        request={"application/json": body, "multipart/form-data": body},
        parameters=[OpenApiParameter(
            "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
            description="Send a retried step with the key of its first try: a step already taken is not taken "
                        "again (200 with the case as it is); the same key for a different step gives 409.")],
        responses={200: CaseSerializer, **ERRORS,
                   409: OpenApiResponse(Conflict, description="illegal from this status; allowed_actions lists "
                                                              "what you may do now")},
    )
    def post(self, request, pk: int):
        return CaseTransition.post(self, request, pk)

    name = "Case" + action.title().replace("_", "")
    return type(name, (CaseTransition,), {"action_name": action, "body_class": body, "post": post,
                                          "__doc__": _describe(action)})


TRANSITION_VIEWS = {action: transition_view(action) for action in RULES}
