"""The first page (/): the territory map in real Chromium, offline, in Chinese and in English."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
GRIDS = ".leaflet-overlay-pane path.leaflet-interactive"
OUTLINES = ".leaflet-outlines-pane path"
BUILDINGS = ".leaflet-buildings-pane path"


def wait_for_map(page):
    page.wait_for_selector("#territory-map[data-ready='true']", state="attached")
    page.wait_for_load_state("networkidle")


def test_the_login_page_is_chinese_and_asks_for_the_account(page, live_server, town, screenshot):
    page.goto(f"{live_server.url}/")

    expect(page.locator("h1")).to_have_text("网格化管理平台")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert "/accounts/login/" in page.url
    screenshot(page, "login")


def test_a_wrong_password_keeps_you_on_the_login_page(page, live_server, alice):
    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not-her-password")
    page.click("form.login-form button[type=submit]")

    expect(page.locator(".form-errors")).to_be_visible()
    assert "/accounts/login/" in page.url


def test_the_command_centre_sees_the_whole_territory_drawn_offline(log_in, alice, bob, browser_log, screenshot):
    page = log_in(alice)
    wait_for_map(page)

    expect(page.locator(GRIDS)).to_have_count(2)
    expect(page.locator(OUTLINES)).to_have_count(3)  # district, street, community
    expect(page.locator(".counts")).to_contain_text("网格2")
    expect(page.locator(".street-list")).to_contain_text("站前街道")
    page.locator(GRIDS).first.hover()
    expect(page.locator(".leaflet-tooltip.hover-tip")).to_have_text("明达第一网格210302001002001")
    screenshot(page, "home")
    assert browser_log.external_requests() == []
    assert browser_log.errors == []


def test_buildings_appear_once_zoomed_in(log_in, alice, browser_log, screenshot):
    page = log_in(alice)
    wait_for_map(page)
    expect(page.locator(BUILDINGS)).to_have_count(0)

    page.click(".leaflet-control-zoom-in")

    expect(page.locator(BUILDINGS)).to_have_count(3)
    page.wait_for_load_state("networkidle")
    screenshot(page, "home-buildings")
    assert browser_log.external_requests() == []


def test_clicking_a_grid_shows_its_households_and_workers(log_in, alice, bob, screenshot):
    page = log_in(alice)
    wait_for_map(page)

    page.locator(GRIDS).first.click()

    card = page.locator("#grid-card")
    expect(card).to_be_visible()
    expect(card.locator("[data-field=name]")).to_have_text("明达第一网格")
    expect(card.locator("[data-field=code]")).to_have_text("210302001002001")
    expect(card.locator("[data-field=households]")).to_have_text("320")
    expect(card.locator("[data-field=workers]")).to_have_text("王博专职网格员")
    assert "13800138001" not in page.content()
    screenshot(page, "home-grid-card")


def test_a_grid_worker_sees_only_their_own_grid(log_in, bob, charlie):
    page = log_in(bob)
    wait_for_map(page)

    expect(page.locator(GRIDS)).to_have_count(1)
    expect(page.locator(".counts")).to_contain_text("网格1")
    page.locator(GRIDS).first.hover()
    expect(page.locator(".leaflet-tooltip.hover-tip")).to_contain_text("明达第一网格")


def test_a_hostile_grid_name_shows_as_text(log_in, alice, town, browser_log, screenshot):
    town.east.name = HOSTILE_NAME
    town.east.save()
    page = log_in(alice)
    wait_for_map(page)

    expect(page.locator(".map-label", has_text=HOSTILE_NAME)).to_have_count(1)
    page.locator(GRIDS).nth(1).click()
    expect(page.locator("#grid-card [data-field=name]")).to_have_text(HOSTILE_NAME)
    page.locator(GRIDS).nth(1).hover()
    expect(page.locator(".leaflet-tooltip.hover-tip")).to_contain_text(HOSTILE_NAME)
    screenshot(page, "home-hostile-name")
    assert page.locator("img[src='x']").count() == 0
    assert browser_log.dialogs == []


def test_the_page_switches_to_english(log_in, alice, screenshot):
    page = log_in(alice)
    wait_for_map(page)

    page.click(".panel button[value=en]")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    wait_for_map(page)
    expect(page.locator(".panel h1")).to_have_text("Grid map")
    expect(page.locator(".counts")).to_contain_text("Households")
    # Counts are plural, like "Households" ("District 1 · Street 10 · Community 88" read as one of each).
    assert page.locator(".counts dt").all_inner_texts() == [
        "Districts", "Streets", "Communities", "Grids", "Buildings", "Households"]
    expect(page.locator(".street-list")).to_contain_text("1 community · 2 grids")
    # Each page link on a line of its own making: never broken across two lines.
    for link in page.locator(".panel-head a.link").all():
        assert link.evaluate("a => { const style = getComputedStyle(a);"
                             " const line = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);"
                             " return a.getBoundingClientRect().height < 1.5 * line; }"), link.inner_text()
    # "Log out" on one line beside the user's name.
    logout = page.locator(".panel-head .logout button")
    assert logout.evaluate("b => b.getClientRects().length === 1 && b.offsetHeight < 2 * parseFloat("
                           "getComputedStyle(b).fontSize) * 1.2 + 4")
    screenshot(page, "home-en")


def test_unreachable_tiles_leave_a_plain_intentional_map(page, log_in, alice, settings, browser_log, screenshot):
    settings.GRIDGIS = {**settings.GRIDGIS, "BASEMAP": "osm"}
    page.route("https://**/*", lambda route: route.abort())  # no network beyond this machine
    log_in(alice)
    wait_for_map(page)

    expect(page.locator("#territory-map")).to_have_class(re.compile(r"\btiles-failed\b"))
    expect(page.locator("#basemap-notice")).to_be_visible()
    expect(page.locator(GRIDS)).to_have_count(2)
    screenshot(page, "home-tiles-unreachable")
    assert any(urlsplit(url).hostname == "tile.openstreetmap.org" for url in browser_log.requests)
