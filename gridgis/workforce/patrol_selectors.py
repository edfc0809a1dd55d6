"""Reads on patrols, scoped: a worker sees their own; command-centre, street and community staff see the
patrols of workers whose grids lie in their scope; a superuser sees all."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import GridAssignment, Patrol, StaffRole
from .patrols import IDLE_END
from .selectors import in_scope

WATCHING_ROLES = (StaffRole.Role.COMMAND_CENTRE, StaffRole.Role.STREET_STAFF, StaffRole.Role.COMMUNITY_STAFF)


def patrols_for(user) -> QuerySet[Patrol]:
    if not user or not user.is_authenticated or not user.is_active:
        return Patrol.objects.none()
    if user.is_superuser:
        return Patrol.objects.all()
    visible = Q(worker__user=user)
    prefixes = tuple(StaffRole.objects.filter(user=user, role__in=WATCHING_ROLES).values_list("scope_code", flat=True))
    if prefixes:
        workers = GridAssignment.objects.filter(in_scope(prefixes, field="grid__code", with_ancestors=False))
        visible |= Q(worker_id__in=workers.values("worker_id"))
    return Patrol.objects.filter(visible)


def _for_display(patrols: QuerySet[Patrol]) -> QuerySet[Patrol]:
    return (patrols.select_related("worker")
            .annotate(grid_codes=ArrayAgg("worker__assignments__grid__code", distinct=True, default=[]))
            .defer("track", "batch_keys"))


def patrol_list(user, *, active: bool | None = None, worker: int | None = None) -> QuerySet[Patrol]:
    patrols = patrols_for(user)
    if active is not None:
        patrols = patrols.filter(ended_at__isnull=active)
    if worker is not None:
        patrols = patrols.filter(worker_id=worker)
    return _for_display(patrols).order_by("-started_at", "-pk")


def patrol_detail(user, pk: int) -> Patrol | None:
    return (_for_display(patrols_for(user)).annotate(track_geojson=AsGeoJSON("track", precision=6))
            .filter(pk=pk).first())


def active_patrols(user) -> QuerySet[Patrol]:
    """Patrols under way in the user's scope: not ended, with a point in the last IDLE_END."""
    since = timezone.now() - IDLE_END
    return (_for_display(patrols_for(user)).filter(ended_at__isnull=True, last_point_at__gte=since)
            .annotate(track_geojson=AsGeoJSON("track", precision=6)).order_by("started_at", "pk"))
