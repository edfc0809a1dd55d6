"""Which base map the pages draw under the territory: settings.GRIDGIS["BASEMAP"] is none, osm or tianditu.

Every page must also work with no tile server at all, so "none" is a first-class choice, and Tianditu
without its `tk` key falls back to it rather than asking the server for tiles it will refuse.
"""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# Tianditu WMTS in Web Mercator ("_w"): vec = the vector map, cva = its Chinese annotation layer.
TIANDITU_TILES = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)


def basemap_name() -> str:
    """The base map in effect: the setting, unless Tianditu lacks its key."""
    name = settings.GRIDGIS["BASEMAP"]
    if name == "tianditu" and not settings.GRIDGIS["TIANDITU_KEY"]:
        logger.warning("GRIDGIS_BASEMAP=tianditu needs GRIDGIS_TIANDITU_KEY; drawing no base map instead")
        return "none"
    return name


def tile_layers() -> list[dict]:
    """Tile layers for Leaflet, bottom first: url template (`{s}` subdomains), subdomains, attribution."""
    name = basemap_name()
    if name == "osm":
        return [{"url": OSM_TILES, "subdomains": "", "attribution": "© OpenStreetMap contributors"}]
    if name == "tianditu":
        key = settings.GRIDGIS["TIANDITU_KEY"]
        return [
            {"url": TIANDITU_TILES.replace("{layer}", layer).replace("{key}", key),
             "subdomains": "01234567", "attribution": "© 天地图 Tianditu"}
            for layer in ("vec", "cva")
        ]
    return []
