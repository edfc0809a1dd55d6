"""The admin's map widget: OpenLayers from the local npm install, a shape drawn with no network at all."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.territory_factories import PASSWORD

ASSETS = re.compile(r'<script[^>]*\ssrc="([^"]*)"|<link[^>]*\shref="([^"]*)"')


def grid_change_url(grid) -> str:
    return f"/admin/territory/grid/{grid.pk}/change/"


def test_the_grid_change_page_loads_openlayers_from_local_static_files(root, town):
    client = Client()
    client.force_login(root)

    html = client.get(grid_change_url(town.west)).content.decode()

    assert '<script src="/static/vendor/ol/dist/ol.js">' in html
    assert 'href="/static/vendor/ol/ol.css"' in html
    assert "cdn" not in html.lower()
    assert "openstreetmap" not in html.lower()
    assets = [script or link for script, link in ASSETS.findall(html)]
    assert "/static/gis/js/OLMapWidget.js" in assets
    assert [url for url in assets if not url.startswith("/")] == []


def test_tiles_come_in_only_when_the_base_map_is_osm(root, town, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "BASEMAP": "osm"}
    client = Client()
    client.force_login(root)

    html = client.get(grid_change_url(town.west)).content.decode()

    assert "tile.openstreetmap.org" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_grid_change_page_shows_its_polygon_offline(page, live_server, root, town, browser_log, screenshot):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", root.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}{grid_change_url(town.west)}")

    expect(page.locator(".dj_map canvas").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("geodjango_geom.featureOverlay.getSource().getFeatures().length") == 1
    assert page.evaluate("geodjango_geom.featureOverlay.getSource().getFeatures()[0].getGeometry().getType()") \
        == "MultiPolygon"
    screenshot(page, "admin-grid-change")
    assert browser_log.external_requests() == []
    assert browser_log.errors == []
