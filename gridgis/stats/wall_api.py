"""The wall map's data, /api/v1/wall/: thin views over gridgis.stats.wallmap.

- GET cases/?bbox=minlon,minlat,maxlon,maxlat&zoom=Z — the open cases in view: points, or clusters when the
  view holds too many (see wallmap.in_view). Compact rows: `fields` names the columns of each row.
- GET grids/ — per grid code [open, overdue, supervised], for the map's choropleth.
- GET summary/ — live counts: open, overdue, supervised, received today (Asia/Shanghai).
Bad parameters: 400 naming the field. Everything is scoped to the caller (cases_for).
"""

from __future__ import annotations

import math

from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import wallmap

MAX_ZOOM = 22


class BBoxField(serializers.Field):
    """minlon,minlat,maxlon,maxlat in WGS84."""

    def to_internal_value(self, data):
        try:
            values = [float(n) for n in str(data).split(",")]
        except ValueError:
            values = []
        if len(values) != 4:
            raise serializers.ValidationError(_("需要四个数:最小经度,最小纬度,最大经度,最大纬度"))
        if not all(map(math.isfinite, values)):
            raise serializers.ValidationError(_("坐标必须是有限的数"))
        west, south, east, north = values
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise serializers.ValidationError(
                _("范围无效:需 -180 ≤ 最小经度 < 最大经度 ≤ 180,-90 ≤ 最小纬度 < 最大纬度 ≤ 90"))
        return values

    def to_representation(self, value):
        return ",".join(map(str, value))


class ViewQuery(serializers.Serializer):
    bbox = BBoxField()
    zoom = serializers.IntegerField(min_value=0, max_value=MAX_ZOOM)

    def view(self) -> wallmap.View:
        return wallmap.View(*self.validated_data["bbox"], zoom=self.validated_data["zoom"])


# Positions and counts, no secrets and nothing of the request echoed: compressing them is safe (BREACH).
@method_decorator(gzip_page, name="dispatch")
class CasesInView(APIView):
    """Open cases in the view: points (`cases`: [id, lon, lat, status, flags]; flags 1 overdue, 2 supervised,
    4 urgent), or clusters (`clusters`: [lon, lat, count, overdue, supervised]) when there are too many."""

    @extend_schema(summary="Wall map: open cases in view", tags=["wall"], parameters=[
        OpenApiParameter("bbox", str, required=True, description="minlon,minlat,maxlon,maxlat (WGS84)"),
        OpenApiParameter("zoom", int, required=True, description=f"map zoom level 0–{MAX_ZOOM}")],
        responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        query = ViewQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(wallmap.in_view(request.user, query.view()))


@method_decorator(gzip_page, name="dispatch")
class GridLoads(APIView):
    """Open cases per grid: {"grids": {code: [open, overdue, supervised]}}; grids with none are left out."""

    @extend_schema(summary="Wall map: open cases per grid", tags=["wall"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"grids": wallmap.grid_loads(request.user)})


class LiveCounts(APIView):
    """Open, overdue and supervised cases now, and cases received today (Asia/Shanghai)."""

    @extend_schema(summary="Wall map: live counts", tags=["wall"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(wallmap.live_counts(request.user))
