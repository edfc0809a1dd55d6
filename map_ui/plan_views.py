"""The planner's grid editor (/plan/): a desktop page over the planning API. The page itself holds no data;
it tells the script which communities the user may plan (planner scopes) and where the APIs are."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

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
    }
    return render(request, "map_ui/plan.html", context)
