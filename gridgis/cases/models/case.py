"""Cases (案件): every citizen request, located, routed to a grid and its worker, and categories (GB/T 30428.2).

A case keeps what was received (raw coordinates and their CRS, the address text) beside what gridgis made of
it (the WGS84 point, how it was geocoded, which rule assigned it), so any routing can be explained later.
"""

from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgis.territory.models import Building, Community, Grid, Street
from gridgis.workforce.models import Department, GridWorker

from .category import Category

# Case.OPEN_STATUSES as plain values, for the partial indexes' predicates (Meta cannot see the class's names).
_OPEN_VALUES = ("received", "registered", "dispatched", "accepted", "in_progress", "handled", "verified")


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

    # Spatially indexed for open cases only (case_open_location_gist, 0006): every spatial query on cases
    # (duplicates, the wall map, the planner) is about open ones, and a GiST over all history is the
    # costliest index to keep up on intake and to rebuild after a bulk import.
    location = models.PointField(_("位置"), srid=4326, null=True, blank=True, spatial_index=False)
    raw_lon = models.FloatField(_("原始经度"), null=True, blank=True)
    raw_lat = models.FloatField(_("原始纬度"), null=True, blank=True)
    raw_crs = models.CharField(_("原始坐标系"), max_length=10, choices=Crs.choices, default=Crs.WGS84)
    address = models.CharField(_("地址"), max_length=255, blank=True)

    reporter_name = models.CharField(_("反映人"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
                             verbose_name=_("网格"))
    # Not indexed: cases are found by territory_code prefix, never by these ids; they only keep the
    # PROTECT against deleting a community or street that has cases (a rare, whole-table check).
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="cases", verbose_name=_("社区"), db_index=False)
    street = models.ForeignKey(Street, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
                               verbose_name=_("街道"), db_index=False)
    # The grid code, denormalised: scope filters and statistics work on code prefixes without joins.
    territory_code = models.CharField(_("辖区代码"), max_length=15, blank=True)  # prefix-indexed with times (0006)
    assignee = models.ForeignKey(GridWorker, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="cases", verbose_name=_("责任人"))
    # When a grid has no worker, a staff member of its community answers for the case instead.
    assignee_staff = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("社区责任人"), db_index=False)
    department = models.ForeignKey(Department, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="cases", verbose_name=_("承办部门"), db_index=False)

    geocode_method = models.CharField(_("定位方式"), max_length=12, choices=GeocodeMethod.choices,
                                      default=GeocodeMethod.NONE)
    geocode_confidence = models.FloatField(_("定位置信度"), null=True, blank=True)
    geocode_building = models.ForeignKey(Building, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("匹配楼栋"), db_index=False)
    geocode_candidates = models.JSONField(_("候选地址"), default=list, blank=True)
    needs_location = models.BooleanField(_("待定位"), default=False)
    assignment_rule = models.CharField(_("分派规则"), max_length=14, choices=AssignmentRule.choices,
                                       default=AssignmentRule.UNASSIGNED)
    assignment_distance_m = models.FloatField(_("距网格距离(米)"), null=True, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)

    duplicate_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="possible_duplicates", verbose_name=_("疑似重复"), db_index=False)
    class Priority(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    priority = models.CharField(_("紧急程度"), max_length=8, choices=Priority.choices,
                                default=Priority.NORMAL, db_default=Priority.NORMAL)
    # The tier that answers for the case now: grid → community → street → department (分级响应).
    tier = models.CharField(_("处置层级"), max_length=12, choices=Category.Tier.choices,
                            default=Category.Tier.GRID, db_default=Category.Tier.GRID)
    handler = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("签收人"), db_index=False)
    deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    # While an extension request waits for approval the clock stops; the pause is added back on decision.
    deadline_paused_at = models.DateTimeField(_("时限暂停于"), null=True, blank=True)
    overdue = models.BooleanField(_("已超期"), default=False, db_default=False)
    supervised = models.BooleanField(_("督办"), default=False, db_default=False)
    supervision_note = models.CharField(_("督办意见"), max_length=500, blank=True, default="", db_default="")
    reopen_count = models.PositiveIntegerField(_("返工次数"), default=0, db_default=0)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True,
                                    default="", db_default="")
    registered_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)  # indexed where set (Meta)
    closed_on_time = models.BooleanField(_("按期结案"), null=True, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("录入人"), db_index=False)
    # The integration (Open311 client) that filed the case: it sees its own requests wherever they landed.
    api_key = models.ForeignKey("intake.ApiKey", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("接口密钥"), db_index=False)
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        indexes = [
            # Status by byte order (pattern ops serve = and IN): the database's collation sorts text through
            # the C library, which made this index twice as slow to build after a bulk load.
            models.Index(fields=["status", "category"], name="case_status_category_idx",
                         opclasses=["varchar_pattern_ops", "int8_ops"]),
            # The duplicate check (cases.duplicates): the open cases of a category by reception time.
            models.Index(fields=["category", "received_at"], name="case_open_cat_received_idx",
                         condition=models.Q(status__in=_OPEN_VALUES)),
            # Links most cases lack (imported history has none of them): partial, so the NULLs cost nothing
            # to load or keep. A lookup by value (scope filters, ON DELETE SET NULL) implies NOT NULL.
            *[models.Index(fields=[name], name=f"case_{name}_idx", condition=models.Q(**{f"{name}__isnull": False}))
              for name in ("assignee_staff", "created_by", "department", "duplicate_of", "geocode_building",
                           "handler", "api_key", "closed_at")],
            models.Index(fields=["needs_location"], name="case_needs_location_idx",
                         condition=models.Q(needs_location=True)),  # the command centre's queue
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


if set(Case.OPEN_STATUSES) != set(_OPEN_VALUES):
    raise AssertionError("_OPEN_VALUES must list Case.OPEN_STATUSES")


def photo_path(photo: "CasePhoto", filename: str) -> str:
    return f"cases/{timezone.localdate():%Y/%m}/{photo.case_id}-{filename}"


class CasePhoto(models.Model):
    """A photo of a case, stored re-encoded without its EXIF metadata, with a thumbnail. Photos sent with a
    step of the workflow (e.g. the worker's "after" photo) point at that timeline entry."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey("cases.CaseEvent", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="photos")
    image = models.ImageField(_("照片"), upload_to=photo_path)
    thumbnail = models.ImageField(_("缩略图"), upload_to=photo_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
