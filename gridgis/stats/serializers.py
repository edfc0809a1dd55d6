"""The query of GET /api/v1/stats/: what the figures are about and over which period."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .selectors import Period, current_month

SUBJECTS = ("node", "department", "worker")
# Far-off dates are no use for statistics and would overflow date arithmetic.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
DATE_ERRORS = {"invalid": _("日期格式应为 YYYY-MM-DD")}


class StatsQuerySerializer(serializers.Serializer):
    node = serializers.RegexField(
        r"^(\d{6}|\d{9}|\d{12}|\d{15})$", required=False,
        error_messages={"invalid": _("辖区代码应为 6、9、12 或 15 位数字")},
    )
    department = serializers.CharField(max_length=32, required=False)
    worker = serializers.CharField(max_length=32, required=False)
    start = serializers.DateField(required=False, input_formats=["%Y-%m-%d"], error_messages=DATE_ERRORS)
    end = serializers.DateField(required=False, input_formats=["%Y-%m-%d"], error_messages=DATE_ERRORS)

    def validate_start(self, value: dt.date) -> dt.date:
        return _within_range(value)

    def validate_end(self, value: dt.date) -> dt.date:
        return _within_range(value)

    def validate(self, attrs: dict) -> dict:
        given = [name for name in SUBJECTS if name in attrs]
        if len(given) > 1:
            raise serializers.ValidationError({given[1]: [_("node、department、worker 只能指定一个")]})
        month = current_month()
        attrs["period"] = Period(attrs.get("start", month.start), attrs.get("end", month.end))
        if attrs["period"].start > attrs["period"].end:
            raise serializers.ValidationError({"end": [_("结束日期不能早于开始日期")]})
        return attrs


def _within_range(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError(_("日期应在 2000-01-01 与 2099-12-31 之间"))
    return value


class StatsFiguresSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    registered = serializers.IntegerField()
    closed = serializers.IntegerField()
    due_to_close = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    reopened = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    open_now = serializers.IntegerField()
    overdue_now = serializers.IntegerField()
    closed_rate = serializers.FloatField(allow_null=True, help_text="办结率 = closed ÷ due_to_close")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按期结案率 = closed_on_time ÷ due_to_close")
    rework_rate = serializers.FloatField(allow_null=True, help_text="返工率 = reopened ÷ closed")
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意率 = satisfied ÷ rated")
    avg_handling_hours = serializers.FloatField(allow_null=True, help_text="mean of closed_at − received_at")


class StatsSubjectSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["city", "district", "street", "community", "grid", "department", "worker"])
    code = serializers.CharField()
    name = serializers.CharField()


class StatsChildSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["district", "street", "community", "grid", "unplaced"])
    code = serializers.CharField()
    name = serializers.CharField(allow_null=True, help_text="null for a code that no longer names a node")
    figures = StatsFiguresSerializer()


class StatsPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField()


class IndicatorsSerializer(serializers.Serializer):
    subject = StatsSubjectSerializer()
    period = StatsPeriodSerializer()
    as_of = serializers.DateTimeField(help_text="the moment of the open_now / overdue_now snapshot")
    figures = StatsFiguresSerializer()
    children = StatsChildSerializer(many=True)
