"""Form widgets of the pages and the admin."""

from __future__ import annotations

from django.contrib.gis.forms.widgets import OSMWidget
from django.urls import reverse

from .basemap import tile_layers

# Anshan, where the demo city lies: the centre of an empty map until the territory has data.
DEFAULT_CENTRE = (122.99, 41.11)
# Reference outlines need no more detail than ~2 m.
REFERENCE_SIMPLIFY = 0.00002


class OfflineMapWidget(OSMWidget):
    """GeoDjango's OpenLayers widget with OpenLayers from the local npm install, never a CDN, and tiles only
    when settings.GRIDGIS["BASEMAP"] names a tile server: otherwise a plain background that needs no network.
    The grids the user may see are drawn underneath for reference (from the territory API)."""

    template_name = "map_ui/widgets/offline_map.html"
    default_lon, default_lat = DEFAULT_CENTRE
    default_zoom = 12

    class Media:
        extend = False  # the parent's Media points at cdn.jsdelivr.net
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css", "map_ui/css/admin_map.css")}
        js = ("vendor/ol/dist/ol.js", "gis/js/OLMapWidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # OpenLayers spells Leaflet's {s} subdomain placeholder as a range.
        context["tile_layers"] = [
            {**layer, "url": layer["url"].replace("{s}", "{0-7}")} for layer in tile_layers()
        ]
        context["reference_url"] = f"{reverse('territory-api:grid-list')}?simplify={REFERENCE_SIMPLIFY}"
        return context
