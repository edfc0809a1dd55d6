"""Territory GeoJSON API, /api/v1/territory/: read-only, scoped to the caller, filterable by bbox and by
parent code, e.g. `grids/?community=210302001002&in_bbox=122.99,41.09,123.01,41.11&simplify=0.0001`."""

from __future__ import annotations

import math
import re
import secrets

from django.contrib.gis.geos import Polygon
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework_gis.filters import InBBoxFilter
from rest_framework_gis.pagination import GeoJsonPagination

from . import map_selectors, serializers
from .serializers import RawJSON

_PLACEHOLDER = re.compile(rb'"\\u0000([0-9a-f]{16}):(\d+)"')


class GeoJSONRenderer(JSONRenderer):
    """JSON, with the geometries PostGIS already encoded (RawJSON) spliced in verbatim: each is written as a
    placeholder string, then replaced. The placeholder carries a per-response nonce, so no string in the
    data (a hostile name, say) can pass for one."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        nonce = secrets.token_hex(8)
        fragments: list[bytes] = []

        class Encoder(self.encoder_class):
            def default(self, o):
                if isinstance(o, RawJSON):
                    fragments.append(o.text.encode())
                    return f"\0{nonce}:{len(fragments) - 1}"
                return super().default(o)

        self.encoder_class = Encoder  # DRF makes a renderer per request: this changes only this one
        body = super().render(data, accepted_media_type, renderer_context)
        if not fragments:
            return body

        def splice(match: re.Match) -> bytes:
            return fragments[int(match[2])] if match[1].decode() == nonce else match[0]

        return _PLACEHOLDER.sub(splice, body)


class IntersectsBBoxFilter(InBBoxFilter):
    """`?in_bbox=minlon,minlat,maxlon,maxlat`: features whose geometry intersects the box (not only its
    bounding box); a malformed box is a 400 naming the parameter."""

    def get_filter_bbox(self, request):
        raw = request.query_params.get(self.bbox_param)
        if not raw:
            return None
        try:
            minx, miny, maxx, maxy = (float(n) for n in raw.split(","))
        except ValueError:
            self._reject(_("需要四个数:最小经度,最小纬度,最大经度,最大纬度"))
        if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
            self._reject(_("坐标必须是有限的数"))
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            self._reject(_("范围无效:需 -180 ≤ 最小经度 < 最大经度 ≤ 180,-90 ≤ 最小纬度 < 最大纬度 ≤ 90"))
        return Polygon.from_bbox((minx, miny, maxx, maxy))

    def _reject(self, message: str):
        raise ValidationError({self.bbox_param: [message]})

    def filter_queryset(self, request, queryset, view):
        bbox = self.get_filter_bbox(request)
        if bbox is None:
            return queryset
        return queryset.filter(**{f"{view.bbox_filter_field}__intersects": bbox})


class BuildingPagination(GeoJsonPagination):
    # A zoom-16 screen of a dense district holds a few thousand buildings: two or three pages.
    page_size = 1000
    max_page_size = 5000


# GeoJSON shrinks ~10x compressed; these responses carry no secrets, so compressing them is safe (BREACH).
@method_decorator(gzip_page, name="dispatch")
class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    """One level of the territory; subclasses name the level and the parent codes they filter by."""

    lookup_field = "code"
    lookup_value_regex = r"\d+"
    renderer_classes = [GeoJSONRenderer, BrowsableAPIRenderer]
    filter_backends = [IntersectsBBoxFilter]
    bbox_filter_field = "geom"
    pagination_class = None
    level = ""
    parents: tuple[str, ...] = ()

    def query(self) -> dict:
        params = serializers.MapQuerySerializer(data=self.request.query_params, parents=self.parents)
        params.is_valid(raise_exception=True)
        return params.validated_data

    def get_queryset(self):
        return map_selectors.divisions(self.level, user=self.request.user, **self.query())


class DistrictViewSet(TerritoryViewSet):
    level = "district"
    serializer_class = serializers.DistrictSerializer


class StreetViewSet(TerritoryViewSet):
    level = "street"
    parents = ("district",)
    serializer_class = serializers.StreetSerializer


class CommunityViewSet(TerritoryViewSet):
    level = "community"
    parents = ("district", "street")
    serializer_class = serializers.CommunitySerializer


class GridViewSet(TerritoryViewSet):
    level = "grid"
    parents = ("district", "street", "community")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.GridDetailSerializer
        return serializers.GridSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return map_selectors.grid_with_workers(user=self.request.user)
        return super().get_queryset()


class BuildingViewSet(TerritoryViewSet):
    lookup_value_regex = r"[^/]+"
    parents = ("district", "street", "community", "grid")
    serializer_class = serializers.BuildingSerializer
    pagination_class = BuildingPagination

    def get_queryset(self):
        within = self.query()["within"]
        return map_selectors.buildings(user=self.request.user, within=within)
