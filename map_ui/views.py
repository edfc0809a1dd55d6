import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from gridgis.territory.map_selectors import territory_summary

from .basemap import basemap_name, tile_layers


@login_required
def home(request):
    """The territory map: polygons come from the territory API, the side panel's counts from here."""
    context = {
        "summary": territory_summary(user=request.user),
        "basemap": basemap_name(),
        "tile_layers": json.dumps(tile_layers()),
        "sliver_m2": settings.GRIDGIS["COVERAGE_TOLERANCE_M2"],
    }
    return render(request, "map_ui/home.html", context)
