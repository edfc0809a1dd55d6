"""What happens to a case after intake: the append-only timeline, co-handling departments, extensions."""

from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgis.workforce.models import Department

from .case import Case


class CaseEvent(models.Model):
    """One step of a case's life (a transition or a note). Append-only: the database refuses UPDATE and
    DELETE on this table (see migration 0005), so no API, admin or bug can rewrite history."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    actor = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("操作人"))
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    note = models.TextField(_("说明"), max_length=2000, blank=True)
    location = models.PointField(_("操作人位置"), srid=4326, null=True, blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class CaseDepartment(models.Model):
    """A department working on a case: one lead (主办) and any co-handlers (协办) — "大事合办、难事协办"."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        CO = "co", _("协办")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="departments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="case_roles")
    role = models.CharField(_("角色"), max_length=4, choices=Role.choices)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("承办部门")
        verbose_name_plural = _("承办部门")
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="one_role_per_case_and_department"),
            models.UniqueConstraint(fields=["case"], condition=models.Q(role="lead"), name="one_lead_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department_id} {self.role}"


class CaseExtension(models.Model):
    """A request for more time (延期), bounded, decided by the command centre."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    hours = models.PositiveIntegerField(_("延期(工作小时)"))
    reason = models.CharField(_("理由"), max_length=500)
    requested_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(_("审批"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=models.Q(decision="pending"),
                                    name="one_pending_extension_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.hours}h {self.decision}"
