"""GeoJSON shapes of the territory API (explicit fields; no worker phone numbers, ever)."""

from __future__ import annotations

import itertools

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geodata.codes import CODE_LENGTHS

from .models import Building, Community, District, Grid, Street


class RawJSON:
    """JSON text to be written into a response as it is (see api.GeoJSONRenderer)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class GeoJSONText(GeometryField):
    """A geometry the database already wrote as GeoJSON text (see map_selectors). It stays text: parsing
    it into Python floats only to print them again was most of the cost of a big FeatureCollection, so
    only a renderer that knows RawJSON (api.GeoJSONRenderer) can write it."""

    def to_representation(self, value):
        return RawJSON(value)


class DivisionSerializer(GeoFeatureModelSerializer):
    # The feature id is the territory code: stable, meaningful, and what clients look things up by.
    id = serializers.CharField(source="code", read_only=True)
    geometry = GeoJSONText(source="geojson", read_only=True)

    class Meta:
        geo_field = "geometry"
        id_field = "id"
        fields = ("id", "code", "name")


class DistrictSerializer(DivisionSerializer):
    class Meta(DivisionSerializer.Meta):
        model = District


class StreetSerializer(DivisionSerializer):
    district_code = serializers.CharField(source="parent_code", read_only=True)

    class Meta(DivisionSerializer.Meta):
        model = Street
        fields = (*DivisionSerializer.Meta.fields, "district_code")


class CommunitySerializer(DivisionSerializer):
    street_code = serializers.CharField(source="parent_code", read_only=True)

    class Meta(DivisionSerializer.Meta):
        model = Community
        fields = (*DivisionSerializer.Meta.fields, "street_code")


class GridSerializer(DivisionSerializer):
    community_code = serializers.CharField(source="parent_code", read_only=True)
    primary_worker = serializers.CharField(read_only=True)

    class Meta(DivisionSerializer.Meta):
        model = Grid
        fields = (*DivisionSerializer.Meta.fields, "community_code", "households", "population", "primary_worker")


class GridWorkerNameSerializer(serializers.Serializer):
    """A worker as the map shows them: name and role on this grid (the phone stays in the admin)."""

    name = serializers.CharField(source="worker.name")
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")


class GridDetailSerializer(GridSerializer):
    workers = GridWorkerNameSerializer(source="assignments", many=True, read_only=True)

    class Meta(GridSerializer.Meta):
        fields = (*GridSerializer.Meta.fields, "workers")


class BuildingSerializer(GeoFeatureModelSerializer):
    id = serializers.CharField(source="code", read_only=True)
    geometry = GeoJSONText(source="geojson", read_only=True)
    grid_code = serializers.CharField(read_only=True)

    class Meta:
        model = Building
        geo_field = "geometry"
        id_field = "id"
        fields = ("id", "code", "name", "address", "grid_code", "households", "population")


# The largest tolerance worth asking for: ~1 km, coarser than any zoom level that shows a whole district.
MAX_SIMPLIFY_DEGREES = 0.01


class MapQuerySerializer(serializers.Serializer):
    """Query parameters of the territory lists: a parent territory code per level, and `simplify`."""

    district = serializers.RegexField(rf"^\d{{{CODE_LENGTHS['district']}}}$", required=False)
    street = serializers.RegexField(rf"^\d{{{CODE_LENGTHS['street']}}}$", required=False)
    community = serializers.RegexField(rf"^\d{{{CODE_LENGTHS['community']}}}$", required=False)
    grid = serializers.RegexField(rf"^\d{{{CODE_LENGTHS['grid']}}}$", required=False)
    simplify = serializers.FloatField(required=False, min_value=0, max_value=MAX_SIMPLIFY_DEGREES,
                                      help_text=_("简化容差(度)"))

    def __init__(self, *args, parents: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for level in CODE_LENGTHS:
            if level not in parents:
                self.fields.pop(level)

    def validate(self, attrs):
        codes = [attrs[level] for level in CODE_LENGTHS if level in attrs]
        # Parent codes nest (a grid code starts with its community's): the most specific one wins,
        # but only when they agree.
        for outer, inner in itertools.pairwise(codes):
            if not inner.startswith(outer):
                raise serializers.ValidationError(_("上级代码互相矛盾:%(inner)s 不在 %(outer)s 之下")
                                                  % {"inner": inner, "outer": outer})
        return {"within": codes[-1] if codes else "", "tolerance": attrs.get("simplify")}
