"""OpenAPI schema extensions for shapes drf-spectacular cannot read by itself (imported by apidocs)."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_object_type

GEOJSON_POINT = {
    "type": "object",
    "description": "GeoJSON Point [lon, lat]; WGS84 unless `crs` says otherwise",
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3},
    },
    "required": ["type", "coordinates"],
}


class GeoJSONPointFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "gridgis.intake.fields.GeoJSONPointField"

    def map_serializer_field(self, auto_schema, direction):
        return GEOJSON_POINT


class GeoJSONTextFeatures(GeoFeatureModelSerializerExtension):
    """Territory features carry geometry PostGIS wrote as GeoJSON text, from no model field of that name,
    which the stock extension looks up (and fails on): describe those as a generic GeoJSON geometry."""

    priority = 1

    def map_serializer(self, auto_schema, direction):
        try:
            return super().map_serializer(auto_schema, direction)
        except KeyError:
            base = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
            meta = self.target.Meta
            base["properties"].pop(meta.geo_field, None)
            feature = {"type": {"type": "string", "enum": ["Feature"]}}
            if meta.id_field:
                feature["id"] = base["properties"].pop(meta.id_field, {"type": "string"})
            feature["geometry"] = {"type": "object", "description": "GeoJSON geometry (WGS84)"}
            base.pop("required", None)
            feature["properties"] = base
            return build_object_type(properties=feature)


class DispatchTargetFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "gridgis.cases.serializers.DispatchTargetField"

    def map_serializer_field(self, auto_schema, direction):
        return {"oneOf": [{"type": "integer", "description": "a grid worker's id"},
                          {"type": "array", "items": {"type": "string"},
                           "description": "department codes: the lead first, then co-handlers"}]}


class GeoJSONTextFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "gridgis.territory.serializers.GeoJSONText"
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "object", "description": "GeoJSON geometry (WGS84)"}


def _object(description: str, nullable: bool = False, **properties) -> dict:
    schema = {"type": "object", "description": description, "properties": properties}
    if nullable:
        schema["nullable"] = True
    return schema


_STR, _INT, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
# Shapes of the case's computed fields (gridgis.intake.serializers.CaseSerializer), for extend_schema_field.
CODE_NAME = _object("a territory node", nullable=True, code=_STR, name=_STR)
ASSIGNEE = _object("who answers for the case's grid", nullable=True, id=_INT, name=_STR,
                   kind={"type": "string", "enum": ["grid_worker", "community_staff"]})
GEOCODE = _object("how the case was located", method=_STR, confidence={**_NUM, "nullable": True},
                  building_code={**_STR, "nullable": True}, candidates={"type": "array", "items": {"type": "object"}})
ASSIGNMENT = _object("which rule placed the case", rule=_STR, distance_m={**_NUM, "nullable": True})
CASE_REF = _object("a possible duplicate", nullable=True, id=_INT, number=_STR)
PHOTOS = {"type": "array", "items": _object("a photo", url=_STR, thumbnail=_STR, width=_INT, height=_INT)}
PERSON = _object("a person", nullable=True, id=_INT, name=_STR)
DEPARTMENTS = {"type": "array", "items": _object("a department on the case", code=_STR, name=_STR,
                                                   role={"type": "string", "enum": ["lead", "co"]})}
DEADLINE_STATE = {"type": "string", "enum": ["green", "yellow", "red"], "nullable": True,
                  "description": "yellow: 80% of the time used; red: overdue; null: no clock running"}
ACTIONS = {"type": "array", "items": {"type": "string"},
           "description": "what the caller may do with the case now (POST /api/v1/cases/{id}/{action}/)"}
