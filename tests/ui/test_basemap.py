"""Which base map the pages draw: none by default, OSM or Tianditu when configured, never a broken one."""

import json

from map_ui.basemap import basemap_name, tile_layers


def test_no_tile_server_is_the_default(settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "BASEMAP": "none"}

    assert tile_layers() == []


def test_tianditu_draws_its_map_and_annotation_layers_with_the_key(settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "BASEMAP": "tianditu", "TIANDITU_KEY": "k3y"}

    layers = tile_layers()

    assert ["LAYER=vec" in layer["url"] for layer in layers] == [True, False]
    assert "LAYER=cva" in layers[1]["url"]
    assert all(layer["url"].endswith("&tk=k3y") and "{s}" in layer["url"] for layer in layers)


def test_tianditu_without_its_key_falls_back_to_no_base_map(settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "BASEMAP": "tianditu", "TIANDITU_KEY": ""}

    assert basemap_name() == "none"
    assert tile_layers() == []


def test_the_home_page_hands_the_tile_layers_to_the_script(client, django_user_model, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "BASEMAP": "osm"}
    client.force_login(django_user_model.objects.create_user("eve", password="x"))

    html = client.get("/").content.decode()

    assert 'class="map basemap-osm"' in html
    assert json.dumps(tile_layers()).replace('"', "&quot;") in html
