"""The territory: district → street → community → grid → building, as PostGIS polygons (SRID 4326).

Codes follow GB/T 30428.1 (see geodata.codes); a child's code starts with its parent's code, which
lets scope filters and parent look-ups work on the code alone.
"""

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from geodata.codes import CODE_LENGTHS, CodeError, validate_child_of, validate_code


@deconstructible
class CodeValidator:
    """Validates a territory code of one level (serialisable into migrations)."""

    def __init__(self, level: str):
        self.level = level

    def __call__(self, value: str) -> None:
        try:
            validate_code(self.level, value)
        except CodeError as exc:
            raise ValidationError(str(exc)) from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CodeValidator) and other.level == self.level

    def __hash__(self) -> int:
        return hash(self.level)


validate_district_code = CodeValidator("district")
validate_street_code = CodeValidator("street")
validate_community_code = CodeValidator("community")
validate_grid_code = CodeValidator("grid")


class Division(models.Model):
    """Fields every territorial polygon shares."""

    LEVEL = ""
    PARENT_FIELD = ""

    name = models.CharField(_("名称"), max_length=100)
    geom = models.MultiPolygonField(_("范围"), srid=4326)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        super().clean()
        parent = getattr(self, self.PARENT_FIELD, None) if self.PARENT_FIELD else None
        if parent is not None and self.code:
            try:
                validate_child_of(self.LEVEL, self.code, parent.code)
            except CodeError as exc:
                raise ValidationError({"code": str(exc)}) from exc


def _prefix_index(model: str) -> models.Index:
    # LIKE 'prefix%' on codes (scope filters) needs pattern ops whatever the database collation is.
    return models.Index(fields=["code"], name=f"{model}_code_prefix_idx", opclasses=["varchar_pattern_ops"])


class District(Division):
    LEVEL = "district"

    code = models.CharField(
        _("区划代码"), max_length=CODE_LENGTHS["district"], unique=True, validators=[validate_district_code]
    )

    class Meta(Division.Meta):
        verbose_name = _("区县")
        verbose_name_plural = _("区县")


class Street(Division):
    LEVEL = "street"
    PARENT_FIELD = "district"

    code = models.CharField(
        _("街道代码"), max_length=CODE_LENGTHS["street"], unique=True, validators=[validate_street_code]
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets",
                                 verbose_name=_("区县"))

    class Meta(Division.Meta):
        verbose_name = _("街道")
        verbose_name_plural = _("街道")
        indexes = [_prefix_index("street")]


class Community(Division):
    LEVEL = "community"
    PARENT_FIELD = "street"

    code = models.CharField(
        _("社区代码"), max_length=CODE_LENGTHS["community"], unique=True, validators=[validate_community_code]
    )
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities",
                               verbose_name=_("街道"))

    class Meta(Division.Meta):
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        indexes = [_prefix_index("community")]


class CurrentGridManager(models.Manager):
    """Grids in force: a grid retired by the planner keeps its row (closed cases point at it) but leaves
    every map, list and assignment. Related access (case.grid) still reaches it through the base manager."""

    def get_queryset(self):
        return super().get_queryset().filter(retired_at__isnull=True)


class Grid(Division):
    LEVEL = "grid"
    PARENT_FIELD = "community"

    objects = CurrentGridManager()
    all_objects = models.Manager()  # retired ones included: code bookkeeping (a retired code is never reused)

    code = models.CharField(
        _("网格编码"), max_length=CODE_LENGTHS["grid"], unique=True, validators=[validate_grid_code]
    )
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids",
                                  verbose_name=_("社区"))
    households = models.PositiveIntegerField(_("户数"), default=0)
    population = models.PositiveIntegerField(_("人口"), default=0)
    retired_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta(Division.Meta):
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        indexes = [_prefix_index("grid")]

    @property
    def sequence(self) -> int:
        """The grid's number inside its community (west→east, north→south)."""
        return int(self.code[-3:])


class Building(models.Model):
    """A building (楼栋) with its standard address (GB/T 37149); the geocoding gazetteer."""

    code = models.CharField(_("楼栋编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    address = models.CharField(_("标准地址"), max_length=255)
    road = models.CharField(_("路(街巷)"), max_length=100, blank=True)
    house_number = models.CharField(_("门牌号"), max_length=30, blank=True)
    building_number = models.CharField(_("楼牌号"), max_length=30, blank=True)
    households = models.PositiveIntegerField(_("户数"), default=0)
    population = models.PositiveIntegerField(_("人口"), default=0)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings", null=True, blank=True,
                             verbose_name=_("网格"))
    geom = models.MultiPolygonField(_("轮廓"), srid=4326)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")

    def __str__(self) -> str:
        return self.address


class CommunityVersion(models.Model):
    """One boundary version of a community's grids (effective-dated). Version 1 is the layout as imported;
    every planner's commit (or restore) adds the next one. Old versions keep their grids in GridVersion."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="versions",
                                  verbose_name=_("社区"))
    version = models.PositiveIntegerField(_("版本"))
    effective_from = models.DateTimeField(_("生效时间"))
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("修改人"))
    reason = models.TextField(_("修改原因"), max_length=1000, blank=True)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    edit = models.JSONField(_("编辑操作"), default=dict, blank=True)
    grids = models.JSONField(_("涉及网格"), default=list, blank=True)  # codes changed, created or retired
    impact = models.JSONField(_("影响"), default=dict, blank=True)

    class Meta:
        ordering = ["community", "-version"]
        verbose_name = _("网格版本")
        verbose_name_plural = _("网格版本")
        constraints = [models.UniqueConstraint(fields=["community", "version"], name="one_number_per_version")]

    def __str__(self) -> str:
        return f"{self.community_id} v{self.version}"


class GridVersion(models.Model):
    """A grid as it was in one version of its community (the snapshot a restore brings back)."""

    version = models.ForeignKey(CommunityVersion, on_delete=models.CASCADE, related_name="grid_rows")
    code = models.CharField(_("网格编码"), max_length=CODE_LENGTHS["grid"])
    name = models.CharField(_("名称"), max_length=100)
    households = models.PositiveIntegerField(_("户数"), default=0)
    population = models.PositiveIntegerField(_("人口"), default=0)
    geom = models.MultiPolygonField(_("范围"), srid=4326)

    class Meta:
        ordering = ["version", "code"]
        verbose_name = _("网格历史范围")
        verbose_name_plural = _("网格历史范围")
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="one_row_per_grid_and_version")]


class GridChangeNotice(models.Model):
    """Tells a grid worker that the planner changed one of their grids (and which of their cases moved)."""

    version = models.ForeignKey(CommunityVersion, on_delete=models.CASCADE, related_name="notices")
    worker = models.ForeignKey("workforce.GridWorker", on_delete=models.CASCADE, related_name="grid_notices")
    grids = models.JSONField(_("网格"), default=list)
    message = models.CharField(_("内容"), max_length=500)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("网格调整通知")
        verbose_name_plural = _("网格调整通知")
