"""The command centre's wall map (/wall/): the page only; its data comes from /api/v1/wall/, the stats,
territory, cases and live APIs (see map_ui/static/map_ui/js/wall.js)."""

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from gridgis.cases.models import Case

from .basemap import basemap_name, tile_layers


@login_required
def wall(request):
    context = {
        "basemap": basemap_name(),
        "tile_layers": json.dumps(tile_layers()),
        "status_labels": json.dumps({value: str(label) for value, label in Case.Status.choices}, ensure_ascii=False),
        "open_statuses": ",".join(Case.OPEN_STATUSES),
    }
    return render(request, "map_ui/wall.html", context)
