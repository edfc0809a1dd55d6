"""The native API's case shape (shared/docs/interchange.md §2): what a report may carry and what comes back."""

from __future__ import annotations

import copy
import hashlib
import json

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_attribute
from rest_framework.utils.formatting import lazy_format

from gridgis.cases import schema
from gridgis.cases.actors import actor_for, facts_for
from gridgis.cases.calendar import calendar_overrides
from gridgis.cases.deadlines import deadline_state
from gridgis.cases.models import Case, Category
from gridgis.cases.selectors import mask_name, mask_phone, may_see_reporter
from gridgis.cases.services import IntakeReport
from gridgis.cases.workflow import allowed_actions

from .fields import CategoryField, GeoJSONPointField, PhotosField

PHONE_CHARS = set("0123456789+- ")


class _FormatEachTime(lazy_format):
    """DRF's lazy_format keeps its first result, frozen in the language of the request that first failed; a
    prototype's validators serve every request, so their messages are formatted again each time."""

    __slots__ = ()

    def __str__(self):
        return self.format_string.format(*self.args, **self.kwargs)


def _per_request_messages(field: serializers.Field) -> None:
    """Swaps the field's (and its child's) lazy_format validator messages for ones formatted per request."""
    validators = []
    for validator in field.validators:
        message = getattr(validator, "message", None)
        if isinstance(message, lazy_format) and not isinstance(message, _FormatEachTime):
            validator = copy.copy(validator)
            validator.message = _FormatEachTime(message.format_string, *message.args, **message.kwargs)
        validators.append(validator)
    field.validators = validators
    child = field.__dict__.get("child")
    if child is not None:
        _per_request_messages(child)


def _fresh(prototype: serializers.Field) -> serializers.Field:
    """An unbound copy of a field that shares what binding and use never change (choices, validators, error
    messages, a queryset that is cloned on use); a list field gets its own copy of its child."""
    field = object.__new__(type(prototype))
    field.__dict__.update(prototype.__dict__)
    child = prototype.__dict__.get("child")
    if child is not None:
        field.child = _fresh(child)
        field.child.parent = field  # as ListField.__init__ binds it
    return field


class PrototypeFields:
    """A serializer whose fields are made once per class and copied shallowly for each instance. DRF deep-copies
    every field for every serializer it makes (querysets, choices and lazy messages included): that took more
    of a report's time than filing it. Binding (parent, field name, source) then happens on the copy."""

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = super().get_fields()
            nested = [name for name, f in prototypes.items()
                      if isinstance(f, serializers.BaseSerializer | serializers.ManyRelatedField)]
            if nested:  # their inner fields would be shared, bound to the first copy: not copied here
                raise TypeError(f"{cls.__name__}: nested fields {nested} need DRF's deep copies")
            for field in prototypes.values():
                _per_request_messages(field)
            cls._field_prototypes = prototypes
        return {name: _fresh(field) for name, field in prototypes.items()}


class PlannedRepresentation(PrototypeFields):
    """to_representation as DRF's, by a plan made once per class: method fields call their method, the others
    format the instance's attribute with the class's unbound prototype field, so nothing is copied or bound per
    object. Only for fields whose output needs no binding (model values, slugs, methods); a serializer with any
    other kind falls back to DRF's own."""

    _UNPLANNED = (serializers.BaseSerializer, serializers.FileField, serializers.HyperlinkedRelatedField,
                  serializers.PrimaryKeyRelatedField, serializers.ManyRelatedField)

    def _plan(self) -> list | None:
        cls = type(self)
        if "_read_plan" not in cls.__dict__:
            plan = []
            for name, field in self.get_fields().items():
                if field.write_only:
                    continue
                if isinstance(field, serializers.SerializerMethodField):
                    plan.append((name, None, field.method_name or f"get_{name}"))
                elif isinstance(field, self._UNPLANNED) or field.source == "*":
                    plan = None
                    break
                else:
                    plan.append((name, field, (field.source or name).split(".")))
            cls._read_plan = plan
        return cls._read_plan

    def to_representation(self, instance):
        plan = self._plan()
        if plan is None:
            return super().to_representation(instance)
        ret = {}
        for name, field, how in plan:
            if field is None:
                ret[name] = getattr(self, how)(instance)
            else:
                value = get_attribute(instance, how)
                ret[name] = None if value is None else field.to_representation(value)
        return ret


class CaseReportSerializer(PrototypeFields, serializers.Serializer):
    description = serializers.CharField(max_length=4000, trim_whitespace=True)
    category = CategoryField(
        slug_field="code", queryset=Category.objects.filter(active=True), required=False, allow_null=True,
        error_messages={"does_not_exist": _("未知的类别 {value}：见 GET /api/v1/categories/")},
    )
    location = GeoJSONPointField(required=False, allow_null=True)
    crs = serializers.ChoiceField(
        choices=Case.Crs.values, default=Case.Crs.WGS84,
        error_messages={"invalid_choice": _("未知的坐标系 {input}：可选 wgs84、gcj02、bd09、cgcs2000")},
    )
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=Case.Channel.values, default=Case.Channel.OTHER)
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    reporter_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    photos = PhotosField()

    def validate_reporter_phone(self, value: str) -> str:
        if value and not set(value) <= PHONE_CHARS:
            raise serializers.ValidationError(_("电话号码只能包含数字、+、- 和空格"))
        return value

    def validate(self, attrs):
        has_gps_photo = any(p.gps for p in attrs.get("photos", []))
        if attrs.get("location") is None and not attrs.get("address") and not has_gps_photo:
            raise serializers.ValidationError({"location": _("请提供位置或地址（或带 GPS 信息的照片）")})
        return attrs

    def to_report(self) -> IntakeReport:
        data = self.validated_data
        lon, lat = data["location"] if data.get("location") else (None, None)
        return IntakeReport(
            description=data["description"], channel=data["channel"], category=data.get("category"),
            lon=lon, lat=lat, crs=data["crs"], address=data["address"],
            reporter_name=data["reporter_name"], reporter_phone=data["reporter_phone"],
            photos=tuple(data["photos"]),
        )

    def fingerprint(self) -> str:
        """A digest of what was asked, so a reused Idempotency-Key with a different body is caught."""
        data = {k: v for k, v in self.initial_data.items() if k != "photos"}
        photos = [hashlib.sha256(p.content).hexdigest() for p in self.validated_data["photos"]]
        canonical = json.dumps([sorted((k, str(v)) for k, v in data.items()), photos], ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "kind", "major_code", "major_name", "name", "description", "deadline_hours", "tier"]


def _code_name(obj):
    return {"code": obj.code, "name": obj.name} if obj is not None else None


class CaseSerializer(PlannedRepresentation, serializers.ModelSerializer):
    """A case as the API returns it; the reporter's contact is masked for roles that don't call back."""

    location = serializers.SerializerMethodField()
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grid = serializers.SerializerMethodField()
    community = serializers.SerializerMethodField()
    street = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    geocode = serializers.SerializerMethodField()
    assignment = serializers.SerializerMethodField()
    duplicate_of = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    reporter_name = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()
    # The closed loop (gridgis.cases.workflow): where the case stands and what the caller may do with it.
    handler = serializers.SerializerMethodField()
    departments = serializers.SerializerMethodField()
    deadline_state = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "number", "status", "description", "category", "channel", "address", "location",
            "grid", "community", "street", "assignee", "geocode", "assignment", "deadline",
            "needs_location", "warnings", "duplicate_of", "photos", "reporter_name", "reporter_phone",
            "received_at",
            "priority", "tier", "handler", "departments", "supervised", "supervision_note", "overdue",
            "deadline_state", "reopen_count", "satisfaction", "dispatched_at", "closed_at", "allowed_actions",
        ]

    @extend_schema_field(schema.GEOJSON_POINT)
    def get_location(self, case):
        return {"type": "Point", "coordinates": [case.location.x, case.location.y]} if case.location else None

    @extend_schema_field(schema.CODE_NAME)
    def get_grid(self, case):
        return _code_name(case.grid)

    @extend_schema_field(schema.CODE_NAME)
    def get_community(self, case):
        return _code_name(case.community)

    @extend_schema_field(schema.CODE_NAME)
    def get_street(self, case):
        return _code_name(case.street)

    @extend_schema_field(schema.ASSIGNEE)
    def get_assignee(self, case):
        if case.assignee is not None:
            return {"id": case.assignee.pk, "name": case.assignee.name, "kind": "grid_worker"}
        if case.assignee_staff is not None:
            staff = case.assignee_staff
            return {"id": staff.pk, "name": staff.get_full_name() or staff.username, "kind": "community_staff"}
        return None

    @extend_schema_field(schema.GEOCODE)
    def get_geocode(self, case):
        building = case.geocode_building
        return {
            "method": case.geocode_method,
            "confidence": case.geocode_confidence,
            "building_code": building.code if building else None,
            "candidates": case.geocode_candidates,
        }

    @extend_schema_field(schema.ASSIGNMENT)
    def get_assignment(self, case):
        return {"rule": case.assignment_rule, "distance_m": case.assignment_distance_m}

    @extend_schema_field(schema.CASE_REF)
    def get_duplicate_of(self, case):
        dup = case.duplicate_of
        return {"id": dup.pk, "number": dup.number} if dup else None

    @extend_schema_field(schema.PHOTOS)
    def get_photos(self, case):
        request = self.context.get("request")
        absolute = request.build_absolute_uri if request else (lambda url: url)
        return [{"url": absolute(p.image.url), "thumbnail": absolute(p.thumbnail.url),
                 "width": p.width, "height": p.height} for p in case.photos.all()]

    def _cached(self, key: str, make):
        """Per-response values (the caller's roles, the calendar): computed once, even for a list."""
        if key not in self.context:
            self.context[key] = make()
        return self.context[key]

    def _user(self):
        request = self.context.get("request")
        return request.user if request else None

    def _actor(self):
        return self._cached("actor", lambda: actor_for(self._user()))

    def _reveal(self, case) -> bool:
        return may_see_reporter(self._user(), case, self._actor())

    @extend_schema_field(schema.PERSON)
    def get_handler(self, case):
        user = case.handler
        return {"id": user.pk, "name": user.get_full_name() or user.username} if user else None

    @extend_schema_field(schema.DEPARTMENTS)
    def get_departments(self, case):
        return [{"code": d.department.code, "name": d.department.name, "role": d.role}
                for d in case.departments.all()]

    @extend_schema_field(schema.DEADLINE_STATE)
    def get_deadline_state(self, case):
        now = self._cached("now", timezone.now)
        return deadline_state(case, now, self._cached("calendar", calendar_overrides))

    @extend_schema_field(schema.ACTIONS)
    def get_allowed_actions(self, case):
        return allowed_actions(self._actor(), case, facts_for(case))

    @extend_schema_field(OpenApiTypes.STR)
    def get_reporter_name(self, case):
        return case.reporter_name if self._reveal(case) else mask_name(case.reporter_name)

    @extend_schema_field(OpenApiTypes.STR)
    def get_reporter_phone(self, case):
        return case.reporter_phone if self._reveal(case) else mask_phone(case.reporter_phone)
