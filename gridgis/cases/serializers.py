"""Input and output of the workflow API: one body serializer per action, the timeline entry, the list query,
and the error shapes (for the OpenAPI schema)."""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from geodata.china_coords import to_wgs84
from gridgis.intake.fields import GeoJSONPointField, PhotosField

from .deadlines import MAX_EXTENSION_HOURS
from .dispatch import TIERS
from .models import Case, CaseEvent, Category
from .workflow import RULES

CODE = r"^\d{1,15}$"


class StrictBooleanField(serializers.BooleanField):
    """A boolean that is required in a multipart form too (DRF reads a missing form boolean as false)."""

    default_empty_html = empty


class DispatchTargetField(serializers.Field):
    """`to`: a grid worker's id (a number), or department codes (a list, or comma-separated in a form)."""

    default_error_messages = {"invalid": _("应为网格员编号（数字）或部门编码列表")}

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and data > 0:
            return data
        if isinstance(data, str) and data.strip().isdigit():
            return int(data)
        if isinstance(data, str) and data.strip():
            data = [part.strip() for part in data.split(",")]
        if isinstance(data, list) and data and all(isinstance(c, str) and c.strip() for c in data):
            return [c.strip() for c in data]
        self.fail("invalid")

    def to_representation(self, value):
        return value


class StepSerializer(serializers.Serializer):
    """What every step may carry: a note, photos, and where the person taking it stands."""

    service_fields: tuple[str, ...] = ()  # further validated fields passed to the service as they are

    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    location = GeoJSONPointField(required=False, allow_null=True, default=None)
    crs = serializers.ChoiceField(choices=Case.Crs.values, default=Case.Crs.WGS84)
    photos = PhotosField()

    def service_kwargs(self) -> dict:
        data = self.validated_data
        point = None
        if data.get("location"):
            point = Point(*to_wgs84(*data["location"], data["crs"]), srid=4326)
        kwargs = {"location": point, "photos": tuple(data["photos"])}
        if "note" in self.fields:
            kwargs["note"] = data["note"]
        kwargs.update({name: data[name] for name in self.service_fields if name in data})
        return kwargs


class NoteRequired(StepSerializer):
    note = serializers.CharField(max_length=2000)


class WithReason(StepSerializer):
    """For steps whose note is a reason (void, return, extension request): `reason` is required."""

    service_fields = ("reason",)
    note = None
    reason = serializers.CharField(max_length=500)


class RegisterBody(StepSerializer):
    service_fields = ("priority",)
    priority = serializers.ChoiceField(choices=Case.Priority.choices, required=False)


class DispatchBody(StepSerializer):
    service_fields = ("to", "lead", "co_handlers", "tier", "priority")
    to = DispatchTargetField(required=False)
    lead = serializers.CharField(max_length=32, required=False)
    co_handlers = serializers.ListField(child=serializers.CharField(max_length=32), required=False, max_length=20)
    tier = serializers.ChoiceField(choices=Category.Tier.choices, required=False)
    priority = serializers.ChoiceField(choices=Case.Priority.choices, required=False)

    def validate(self, attrs):
        if "to" in attrs and ("lead" in attrs or "tier" in attrs):
            raise serializers.ValidationError({"to": _("to 与 lead、tier 只能选一种")})
        if attrs.get("co_handlers") and not ("lead" in attrs or isinstance(attrs.get("to"), list)):
            raise serializers.ValidationError({"co_handlers": _("协办部门需要一个主办部门（lead）")})
        return attrs


class VerifyBody(StepSerializer):
    service_fields = ("passed",)
    passed = StrictBooleanField()


class RateBody(StepSerializer):
    service_fields = ("satisfaction",)
    satisfaction = serializers.ChoiceField(choices=Case.Satisfaction.values)


class ExtensionRequestBody(WithReason):
    service_fields = ("reason", "hours")
    hours = serializers.IntegerField(min_value=1, max_value=MAX_EXTENSION_HOURS)


class ExtensionDecisionBody(StepSerializer):
    service_fields = ("approved",)
    approved = StrictBooleanField()


class EscalateBody(StepSerializer):
    service_fields = ("tier", "lead", "co_handlers")
    tier = serializers.ChoiceField(choices=TIERS[1:], required=False)
    lead = serializers.CharField(max_length=32, required=False)
    co_handlers = serializers.ListField(child=serializers.CharField(max_length=32), required=False, max_length=20)


class CoHandleBody(StepSerializer):
    service_fields = ("co_handlers",)
    co_handlers = serializers.ListField(child=serializers.CharField(max_length=32), min_length=1, max_length=20)


BODIES: dict[str, type[StepSerializer]] = {
    "register": RegisterBody, "void": WithReason, "dispatch": DispatchBody, "accept": StepSerializer,
    "start": StepSerializer, "hand_in": NoteRequired, "verify": VerifyBody, "close": StepSerializer,
    "rate": RateBody, "return": WithReason, "request_extension": ExtensionRequestBody,
    "decide_extension": ExtensionDecisionBody, "escalate": EscalateBody, "co_handle": CoHandleBody,
    "supervise": NoteRequired,
}
LIST_FIELDS = {"photos", "co_handlers"}


class CaseEventSerializer(serializers.ModelSerializer):
    """A timeline entry: read only, like the table behind it."""

    label = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["id", "action", "label", "from_status", "to_status", "actor", "at", "note", "location",
                  "photos", "data"]

    def get_label(self, event) -> str:
        rule = RULES.get(event.action)
        return str(rule.label) if rule else str(EVENT_LABELS.get(event.action, event.action))

    def get_actor(self, event) -> dict | None:
        user = event.actor
        return {"id": user.pk, "name": user.get_full_name() or user.username} if user else None

    def get_location(self, event) -> dict | None:
        return {"type": "Point", "coordinates": [event.location.x, event.location.y]} if event.location else None

    def get_photos(self, event) -> list[dict]:
        request = self.context.get("request")
        absolute = request.build_absolute_uri if request else (lambda url: url)
        return [{"url": absolute(p.image.url), "thumbnail": absolute(p.thumbnail.url), "width": p.width,
                 "height": p.height} for p in event.photos.all()]


EVENT_LABELS = {"receive": _("受理"), "overdue": _("超期"), "reassign": _("重新分派")}


class CaseListQuery(serializers.Serializer):
    status = serializers.CharField(required=False, help_text="comma-separated statuses")
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    supervised = serializers.BooleanField(required=False, allow_null=True, default=None)
    grid = serializers.RegexField(CODE, required=False, help_text="a territory code or its prefix")
    mine = serializers.BooleanField(required=False, default=False)
    ordering = serializers.ChoiceField(choices=["received_at", "-received_at", "deadline", "-deadline"],
                                       default="-received_at")

    def validate_status(self, value: str) -> list[str]:
        statuses = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in Case.Status.values]
        if unknown:
            raise serializers.ValidationError(_("未知的状态：%(s)s") % {"s": "、".join(unknown)})
        return statuses


# --- error shapes (documentation only) ---------------------------------------------------------------


class FieldErrors(serializers.Serializer):
    """400: a map from the field at fault (or non_field_errors, status) to its messages."""

    field = serializers.ListField(child=serializers.CharField(), help_text="one key per field at fault")


class Missing(serializers.Serializer):
    """404: no such case in your scope (whether it exists elsewhere is never said)."""

    detail = serializers.CharField()


class Refusal(serializers.Serializer):
    """403: why, and what the caller may do with the case instead (absent when not signed in)."""

    detail = serializers.CharField()
    allowed_actions = serializers.ListField(child=serializers.CharField(), required=False)


class Conflict(serializers.Serializer):
    """409: the action does not start from the case's status; what the caller may do now instead."""

    detail = serializers.CharField()
    code = serializers.CharField(default="illegal_transition")
    status = serializers.ChoiceField(choices=Case.Status.values)
    action = serializers.CharField()
    allowed_actions = serializers.ListField(child=serializers.CharField())
