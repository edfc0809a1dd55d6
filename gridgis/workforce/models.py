"""People who answer for the territory: grid workers (bound to grids), departments, and staff roles."""

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgis.territory.models import District, Grid


class Department(models.Model):
    """A functional department (职能部门) that cases can be dispatched to."""

    code = models.CharField(_("部门编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="departments",
                                 null=True, blank=True, verbose_name=_("区县"))
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")

    def __str__(self) -> str:
        return self.name


class GridWorker(models.Model):
    """A grid worker (网格员): a person, optionally a login, and the grids they answer for."""

    worker_id = models.CharField(_("工号"), max_length=32, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="grid_worker", verbose_name=_("登录账号"))
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    grids = models.ManyToManyField(Grid, through="GridAssignment", related_name="workers",
                                   verbose_name=_("负责网格"))

    class Meta:
        ordering = ["worker_id"]
        verbose_name = _("网格员")
        verbose_name_plural = _("网格员")

    def __str__(self) -> str:
        return f"{self.name} ({self.worker_id})"


class GridAssignment(models.Model):
    """Who answers for a grid: one primary worker, any number of deputies."""

    class Role(models.TextChoices):
        PRIMARY = "primary", _("专职网格员")
        DEPUTY = "deputy", _("兼职/副网格员")

    worker = models.ForeignKey(GridWorker, on_delete=models.CASCADE, related_name="assignments")
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.PRIMARY)

    class Meta:
        verbose_name = _("网格分工")
        verbose_name_plural = _("网格分工")
        constraints = [
            models.UniqueConstraint(fields=["worker", "grid"], name="one_assignment_per_worker_and_grid"),
            models.UniqueConstraint(fields=["grid"], condition=Q(role="primary"), name="one_primary_per_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.grid.code} {self.get_role_display()} {self.worker.name}"


class StaffRole(models.Model):
    """A user's role and the part of the territory it covers, as a territory code prefix
    (e.g. 210302 = the whole district, 210302001 = one street)."""

    class Role(models.TextChoices):
        COMMAND_CENTRE = "command_centre", _("指挥中心")
        STREET_STAFF = "street_staff", _("街道工作人员")
        COMMUNITY_STAFF = "community_staff", _("社区工作人员")
        DEPARTMENT_HANDLER = "department_handler", _("部门办理人")
        PLANNER = "planner", _("网格规划员")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    scope_code = models.CharField(_("辖区代码"), max_length=15)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True,
                                   verbose_name=_("部门"))

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope_code"], name="one_role_per_user_and_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} {self.scope_code}"


class Patrol(models.Model):
    """One patrol (巡查) of a grid worker: the GPS track of a session on the phone page, from start to end.

    The track is a LineString once two points are in (a single point waits in `last_point`); points only
    ever append in time order, so `last_point_at` is also the high-water mark that makes re-sent batches
    harmless. `distance_m` is geodesic (PostGIS geography, on the WGS84 spheroid)."""

    worker = models.ForeignKey(GridWorker, on_delete=models.CASCADE, related_name="patrols", verbose_name=_("网格员"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    track = gis_models.LineStringField(_("轨迹"), srid=4326, null=True, blank=True)
    last_point = gis_models.PointField(_("最新位置"), srid=4326, null=True, blank=True)
    last_point_at = models.DateTimeField(_("最新定位时间"), null=True, blank=True)
    point_count = models.PositiveIntegerField(_("轨迹点数"), default=0)
    distance_m = models.FloatField(_("里程（米）"), default=0)
    # Idempotency-Keys of the latest point batches (the time order above keeps older ones harmless too).
    batch_keys = ArrayField(models.CharField(max_length=200), default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        constraints = [
            models.UniqueConstraint(fields=["worker"], condition=Q(ended_at__isnull=True),
                                    name="one_active_patrol_per_worker"),
        ]
        indexes = [models.Index(fields=["ended_at", "last_point_at"], name="patrol_active_idx")]

    def __str__(self) -> str:
        return f"{self.worker.name} {self.started_at:%Y-%m-%d %H:%M}"
