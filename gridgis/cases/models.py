"""Cases (案件): every citizen request, located, routed to a grid and its worker, and categories (GB/T 30428.2).

A case keeps what was received (raw coordinates and their CRS, the address text) beside what gridgis made of
it (the WGS84 point, how it was geocoded, which rule assigned it), so any routing can be explained later.
"""

from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgis.territory.models import Building, Community, Grid, Street
from gridgis.workforce.models import Department, GridWorker


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


class Case(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("受理")
        REGISTERED = "registered", _("立案")
        VOIDED = "voided", _("作废")
        DISPATCHED = "dispatched", _("派遣")
        ACCEPTED = "accepted", _("签收")
        IN_PROGRESS = "in_progress", _("处置")
        HANDLED = "handled", _("反馈")
        VERIFIED = "verified", _("核查")
        CLOSED = "closed", _("结案")

    OPEN_STATUSES = (Status.RECEIVED, Status.REGISTERED, Status.DISPATCHED, Status.ACCEPTED,
                     Status.IN_PROGRESS, Status.HANDLED, Status.VERIFIED)

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("热线 8890/12345")
        APP = "app", _("随手拍")
        PATROL = "patrol", _("网格员巡查")
        OPEN311 = "open311", _("Open311")
        OTHER = "other", _("其他")

    class Crs(models.TextChoices):
        WGS84 = "wgs84", "WGS84"
        GCJ02 = "gcj02", "GCJ-02"
        BD09 = "bd09", "BD-09"
        CGCS2000 = "cgcs2000", "CGCS2000"

    class GeocodeMethod(models.TextChoices):
        POINT = "point", _("上报坐标")
        PHOTO_EXIF = "photo_exif", _("照片GPS")
        BUILDING = "building", _("楼栋地址匹配")
        ROAD = "road", _("道路门牌匹配")
        NONE = "none", _("未定位")

    class AssignmentRule(models.TextChoices):
        COVERING_GRID = "covering_grid", _("所在网格")
        NEAREST_GRID = "nearest_grid", _("最近网格")
        UNASSIGNED = "unassigned", _("待分派")
        MANUAL = "manual", _("人工指定")

    number = models.CharField(_("案件编号"), max_length=20, unique=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    description = models.TextField(_("问题描述"), max_length=4000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True,
                                 verbose_name=_("类别"))
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices, default=Channel.OTHER)

    location = models.PointField(_("位置"), srid=4326, null=True, blank=True)
    raw_lon = models.FloatField(_("原始经度"), null=True, blank=True)
    raw_lat = models.FloatField(_("原始纬度"), null=True, blank=True)
    raw_crs = models.CharField(_("原始坐标系"), max_length=10, choices=Crs.choices, default=Crs.WGS84)
    address = models.CharField(_("地址"), max_length=255, blank=True)

    reporter_name = models.CharField(_("反映人"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
                             verbose_name=_("网格"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="cases", verbose_name=_("社区"))
    street = models.ForeignKey(Street, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
                               verbose_name=_("街道"))
    # The grid code, denormalised: scope filters and statistics work on code prefixes without joins.
    territory_code = models.CharField(_("辖区代码"), max_length=15, blank=True, db_index=True)
    assignee = models.ForeignKey(GridWorker, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="cases", verbose_name=_("责任人"))
    # When a grid has no worker, a staff member of its community answers for the case instead.
    assignee_staff = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("社区责任人"))
    department = models.ForeignKey(Department, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="cases", verbose_name=_("承办部门"))

    geocode_method = models.CharField(_("定位方式"), max_length=12, choices=GeocodeMethod.choices,
                                      default=GeocodeMethod.NONE)
    geocode_confidence = models.FloatField(_("定位置信度"), null=True, blank=True)
    geocode_building = models.ForeignKey(Building, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("匹配楼栋"))
    geocode_candidates = models.JSONField(_("候选地址"), default=list, blank=True)
    needs_location = models.BooleanField(_("待定位"), default=False, db_index=True)
    assignment_rule = models.CharField(_("分派规则"), max_length=14, choices=AssignmentRule.choices,
                                       default=AssignmentRule.UNASSIGNED)
    assignment_distance_m = models.FloatField(_("距网格距离(米)"), null=True, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)

    duplicate_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="possible_duplicates", verbose_name=_("疑似重复"))
    deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("录入人"))
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        indexes = [
            models.Index(fields=["territory_code"], name="case_territory_prefix_idx",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["status", "category"], name="case_status_category_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


def photo_path(photo: "CasePhoto", filename: str) -> str:
    return f"cases/{timezone.localdate():%Y/%m}/{photo.case_id}-{filename}"


class CasePhoto(models.Model):
    """A photo of a case, stored re-encoded without its EXIF metadata, with a thumbnail."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to=photo_path)
    thumbnail = models.ImageField(_("缩略图"), upload_to=photo_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
