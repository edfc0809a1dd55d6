"""The planner's grid editor (/plan/): a desktop page over the planning API. The page itself holds no data;
it tells the script which communities the user may plan (planner scopes) and where the APIs are."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gridgis.workforce.models import StaffRole

from .basemap import basemap_name, tile_layers

# The planning API hangs under /api/v1/communities/{code}/…; the script appends the code and the action.
PLAN_API_ROOT = "/api/v1/communities/"


def planner_prefixes(user) -> list[str]:
    """Territory code prefixes `user` may plan: every one for a superuser, else the scopes of their
    planner roles (other roles see the territory but may not redraw it)."""
    if user.is_superuser:
        return [""]
    roles = StaffRole.objects.filter(user=user, role=StaffRole.Role.PLANNER)
    return sorted(set(roles.values_list("scope_code", flat=True)))


def field_labels() -> dict[str, str]:
    """What the fields of an edit are called on the page, for naming them in the API's 400 answers."""
    return {
        "edit": _("编辑"), "op": _("操作"), "grid": _("网格"), "grids": _("网格"), "geometry": _("轮廓"),
        "line": _("分割线"), "give_to": _("让出的区域交给"), "n": _("网格数"), "households_per_grid": _("每格户数"),
        "reason": _("调整原因"), "version": _("版本"), "to_version": _("恢复到的版本"),
    }


@login_required
def plan(request):
    prefixes = planner_prefixes(request.user)
    if not prefixes:
        return render(request, "map_ui/plan.html", {"forbidden": True}, status=403)
    context = {
        "basemap": basemap_name(),
        "tile_layers": json.dumps(tile_layers()),
        "planner_prefixes": json.dumps(prefixes),
        "communities_url": reverse("territory-api:community-list"),
        "plan_api_root": PLAN_API_ROOT,
        "field_labels": json.dumps(field_labels(), ensure_ascii=False),
    }
    return render(request, "map_ui/plan.html", context)
