"""Case categories per GB/T 30428.2: components (部件) and events (事件), major and minor classes, each with
a default deadline and handling tier."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A case category per GB/T 30428.2: components (部件) and events (事件), major and minor classes."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("部件")
        EVENT = "event", _("事件")

    class Tier(models.TextChoices):
        GRID = "grid", _("网格")
        COMMUNITY = "community", _("社区")
        STREET = "street", _("街道")
        DEPARTMENT = "department", _("区职能部门")

    code = models.CharField(_("类别编码"), max_length=16, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    major_code = models.CharField(_("大类编码"), max_length=8)
    major_name = models.CharField(_("大类"), max_length=50)
    name = models.CharField(_("小类"), max_length=50)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    deadline_hours = models.PositiveIntegerField(_("处置时限(工作小时)"), default=40)
    tier = models.CharField(_("处置层级"), max_length=12, choices=Tier.choices, default=Tier.GRID)
    # Departments belong to a district; a category names the kind (the code suffix, e.g. "CGJ" for
    # 210302-CGJ 城市管理局) and dispatch finds that department in the case's district.
    department_kind = models.CharField(_("默认部门类别"), max_length=16, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")

    def __str__(self) -> str:
        return f"{self.major_name}/{self.name}"
