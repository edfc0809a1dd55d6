"""Patrols over HTTP, /api/v1/patrols/ (rules in patrols.py):

POST   /                 start (or carry on with) my patrol: 201 new, 200 the active one. Body optional:
                         {"started_at": ISO time} for a start the phone queued offline.
POST   /{id}/points/     {"points": [{lon, lat, t, accuracy}]}, t = epoch milliseconds or ISO 8601; header
                         Idempotency-Key: the same key twice applies the batch once. Owner only.
POST   /{id}/end/        end it (optional {"at": ISO time}); ending twice is harmless. Owner only.
GET    /                 mine, or for command-centre/street/community staff those in scope (?active=true|false)
GET    /{id}/            one, with its track (GeoJSON LineString)
GET    /active/          GeoJSON FeatureCollection of patrols under way in scope (the wall map polls it):
                         LineString features, properties {id, worker_name, grid_codes, started_at, distance_m,
                         last_point_at}.

Errors: 400 {field: [messages]} and nothing changed; 403 not a grid worker (start) or not the owner; 404 not
in your scope; 409 points for an ended patrol.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from . import patrol_selectors as selectors
from . import patrol_services as services
from .patrols import MAX_BATCH, MAX_CLOCK_AHEAD, TrackPoint

MAX_KEY = 200
EARLIEST_START = dt.timedelta(days=1)


@extend_schema_field({"oneOf": [{"type": "integer", "description": "epoch milliseconds"},
                            {"type": "string", "format": "date-time"}]})
class PointTimeField(serializers.Field):
    """A fix's time: epoch milliseconds (what the browser's Geolocation API gives) or ISO 8601."""

    default_error_messages = {
        "invalid": gettext_lazy("应为毫秒时间戳或 ISO 8601 时间"),
        "future": gettext_lazy("时间晚于服务器当前时间"),
    }

    def to_internal_value(self, data):
        if isinstance(data, int | float) and not isinstance(data, bool) and math.isfinite(data):
            try:
                value = dt.datetime.fromtimestamp(data / 1000, tz=dt.UTC)
            except (OverflowError, OSError, ValueError):
                self.fail("invalid")
        elif isinstance(data, str):
            value = serializers.DateTimeField().run_validation(data)
        else:
            self.fail("invalid")
        if value > timezone.now() + MAX_CLOCK_AHEAD:
            self.fail("future")
        return value

    def to_representation(self, value):
        return value.isoformat()


class PointSerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    t = PointTimeField()
    accuracy = serializers.FloatField(min_value=0, required=False, allow_null=True, default=None)


class PointsBody(serializers.Serializer):
    points = serializers.ListField(child=PointSerializer(), allow_empty=False, max_length=MAX_BATCH)

    def track_points(self) -> list[TrackPoint]:
        return [TrackPoint(p["lon"], p["lat"], p["t"], p["accuracy"]) for p in self.validated_data["points"]]


class RecentTimeField(serializers.DateTimeField):
    """A time the phone kept while offline: within the last day, not in the future (a little clock skew
    aside)."""

    def to_internal_value(self, value):
        value = super().to_internal_value(value)
        now = timezone.now()
        if not now - EARLIEST_START <= value <= now + MAX_CLOCK_AHEAD:
            raise serializers.ValidationError(_("应在过去 24 小时之内"))
        return min(value, now)


class StartBody(serializers.Serializer):
    started_at = RecentTimeField(required=False)


class EndBody(serializers.Serializer):
    at = RecentTimeField(required=False)


class PatrolSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    worker = serializers.SerializerMethodField()
    grid_codes = serializers.ListField(child=serializers.CharField())
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    last_point_at = serializers.DateTimeField()
    point_count = serializers.IntegerField()
    distance_m = serializers.SerializerMethodField()
    duration_s = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_worker(self, patrol) -> dict:
        return {"id": patrol.worker_id, "name": patrol.worker.name}

    def get_distance_m(self, patrol) -> float:
        return round(patrol.distance_m, 1)

    def get_duration_s(self, patrol) -> int:
        end = patrol.ended_at or timezone.now()
        return max(0, int((end - patrol.started_at).total_seconds()))

    def get_active(self, patrol) -> bool:
        return patrol.ended_at is None


class PatrolDetailSerializer(PatrolSerializer):
    track = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_track(self, patrol) -> dict | None:
        return _line(patrol)


def _line(patrol) -> dict | None:
    """The track as a GeoJSON LineString; a single point so far as a zero-length line (the contract is
    LineString features)."""
    if patrol.track_geojson:
        return json.loads(patrol.track_geojson)
    if patrol.last_point is not None:
        here = [round(patrol.last_point.x, 6), round(patrol.last_point.y, 6)]
        return {"type": "LineString", "coordinates": [here, here]}
    return None


def _shown(request, pk: int):
    patrol = selectors.patrol_detail(request.user, pk)
    if patrol is None:
        raise Http404
    return patrol


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY:
        raise ValidationError({"Idempotency-Key": [_("最多 200 个字符")]})
    return key


def _owner_write(request, pk: int, write):
    """Runs a write on the caller's own patrol: 404 out of scope, 403 someone else's in scope."""
    try:
        return write()
    except services.PatrolNotFound:
        if selectors.patrols_for(request.user).filter(pk=pk).exists():
            raise PermissionDenied(_("只有巡查的网格员本人可以修改巡查")) from None
        raise Http404 from None


class PatrolPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PatrolListQuery(serializers.Serializer):
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    worker = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


KEY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                              description="the same key twice applies the batch once")
ERRORS = {400: OpenApiResponse(description="bad input: {field: [messages]}, nothing changed"),
          403: OpenApiResponse(description="not a grid worker (start), or not the patrol's owner"),
          404: OpenApiResponse(description="no such patrol in your scope")}


class AppendedSerializer(PatrolSerializer):
    accepted = serializers.IntegerField(help_text="points appended")
    ignored = serializers.IntegerField(help_text="points dropped: poor accuracy, too fast, or not later")
    replayed = serializers.BooleanField(help_text="this Idempotency-Key was applied before")


ACTIVE_SCHEMA = inline_serializer("ActivePatrolCollection", {
    "type": serializers.CharField(default="FeatureCollection"),
    "features": serializers.ListField(child=serializers.DictField(), help_text=(
        "LineString features; properties {id, worker_name, grid_codes, started_at, distance_m, last_point_at}")),
})


class PatrolList(APIView):
    @extend_schema(operation_id="patrols_list", summary="Patrols: mine, or those in your scope",
                   parameters=[PatrolListQuery], responses={200: PatrolSerializer(many=True)})
    def get(self, request):
        query = PatrolListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        patrols = selectors.patrol_list(request.user, **query.validated_data)
        paginator = PatrolPagination()
        page = paginator.paginate_queryset(patrols, request, view=self)
        return paginator.get_paginated_response(PatrolSerializer(page, many=True).data)

    @extend_schema(operation_id="patrols_start", summary="Start my patrol (or carry on with the active one)",
                   request=StartBody, responses={201: PatrolDetailSerializer, 200: PatrolDetailSerializer, **ERRORS})
    def post(self, request):
        body = StartBody(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            started = services.patrol_start(by=request.user, **body.validated_data)
        except services.NotAWorker:
            raise PermissionDenied(_("只有网格员可以巡查")) from None
        data = PatrolDetailSerializer(_shown(request, started.patrol.pk)).data
        return Response(data, status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK)


class PatrolDetail(APIView):
    @extend_schema(operation_id="patrols_detail", summary="A patrol with its track",
                   responses={200: PatrolDetailSerializer, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(PatrolDetailSerializer(_shown(request, pk)).data)


class PatrolPoints(APIView):
    @extend_schema(operation_id="patrols_points", summary="Append GPS points to my patrol", parameters=[KEY_HEADER],
                   request=PointsBody, responses={200: AppendedSerializer, **ERRORS,
                                                  409: OpenApiResponse(description="the patrol has ended")})
    def post(self, request, pk: int):
        key = _idempotency_key(request)
        body = PointsBody(data=request.data)
        if not body.is_valid():
            _shown(request, pk)  # out of scope stays a 404 whatever the body
            raise ValidationError(body.errors)
        try:
            result = _owner_write(request, pk, lambda: services.patrol_append(
                patrol=pk, by=request.user, points=body.track_points(), key=key))
        except services.PatrolEnded:
            return Response({"detail": _("巡查已结束"), "code": "patrol_ended"}, status=status.HTTP_409_CONFLICT)
        data = PatrolSerializer(_shown(request, pk)).data
        data.update(accepted=result.accepted, ignored=result.ignored, replayed=result.replayed)
        return Response(data)


class PatrolEnd(APIView):
    @extend_schema(operation_id="patrols_end", summary="End my patrol", request=EndBody,
                   responses={200: PatrolDetailSerializer, **ERRORS})
    def post(self, request, pk: int):
        body = EndBody(data=request.data)
        if not body.is_valid():
            _shown(request, pk)
            raise ValidationError(body.errors)
        _owner_write(request, pk, lambda: services.patrol_end(patrol=pk, by=request.user, **body.validated_data))
        return Response(PatrolDetailSerializer(_shown(request, pk)).data)


class ActivePatrols(APIView):
    """The wall map's patrol layer: keep this contract (type, geometry, property names)."""

    @extend_schema(operation_id="patrols_active", summary="Patrols under way in your scope (GeoJSON)",
                   responses={200: ACTIVE_SCHEMA})
    def get(self, request):
        features = []
        for patrol in selectors.active_patrols(request.user):
            geometry = _line(patrol)
            if geometry is None:
                continue
            features.append({
                "type": "Feature", "id": patrol.pk, "geometry": geometry,
                "properties": {
                    "id": patrol.pk, "worker_name": patrol.worker.name, "grid_codes": sorted(patrol.grid_codes),
                    "started_at": _iso(patrol.started_at), "distance_m": round(patrol.distance_m, 1),
                    "last_point_at": _iso(patrol.last_point_at),
                },
            })
        return Response({"type": "FeatureCollection", "features": features})


def _iso(value: dt.datetime | None) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None
