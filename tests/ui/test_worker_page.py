"""The grid worker's phone page (/m/) in headless Chromium on a phone (375×812, touch), against uvicorn (the
ASGI server, so the live stream works as in production) on the test database: log in, see my grid and my
cases by deadline, 随手拍 with a photo, place the point by tapping when geolocation is denied, queue a report
offline and send it once, accept and hand in, see a case dispatched to me arrive live, patrol."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from PIL import Image

from gridgis.cases.models import Case
from gridgis.territory.models import GridChangeNotice
from gridgis.territory.planning import services as planning
from gridgis.workforce.models import Patrol, StaffRole
from tests.cases.workflow_helpers import EAST, new_case, walk
from tests.live.sse import start_server
from tests.territory_factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("categories"),
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

INSIDE_WEST = {"latitude": 41.1005, "longitude": 122.9955}  # bob's grid (122.99–123.00 × 41.09–41.11)
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("worker-media")
    server = start_server(connection.settings_dict, settings_module="gridgis.settings",
                          GRIDGIS_MEDIA_ROOT=str(media), GRIDGIS_DEBUG="1")
    yield server
    server.stop()


@pytest.fixture
def phone(browser, browser_log) -> Callable:
    """phone(geolocation=True, service_worker=False) → a page in a fresh phone context (375×812, has_touch,
    is_mobile, Shanghai, zh-CN)."""
    contexts = []

    def open_phone(*, geolocation: bool = True, service_worker: bool = False):
        # The service worker only where a test is about it: Playwright's routing does not see what it serves.
        options = {"viewport": {"width": 375, "height": 812}, "has_touch": True, "is_mobile": True,
                   "device_scale_factor": 2, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
                   "service_workers": "allow" if service_worker else "block"}
        if geolocation:
            options.update(geolocation=INSIDE_WEST, permissions=["geolocation"])
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        browser_log.watch(page)
        return page

    yield open_phone
    for context in contexts:
        context.close()


def log_in(page, server, user):
    """Opens /m/ signed out: the login page, then back to /m/ ready."""
    page.goto(f"{server.url}/m/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(f"{server.url}/m/")
    page.wait_for_selector("#worker-app[data-ready=true]")
    return page


def eventually(check: Callable[[], object], timeout: float = 6.0):
    """Polls `check` until it returns something truthy (the server works in another process)."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.1)


@pytest.fixture
def jpeg(tmp_path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG", quality=80)
    path = tmp_path / "scene.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def dispatched(*, alice, bob, description: str = "楼下垃圾堆了三天没人清理", deadline_in: dt.timedelta | None = None):
    case = walk(new_case(), "dispatched", dispatcher=alice, handler=bob)
    updates = {"description": description}
    if deadline_in is not None:
        updates["deadline"] = timezone.now() + deadline_in
    Case.objects.filter(pk=case.pk).update(**updates)
    return case


def fill_report(page, description: str, photo: Path | None = None):
    page.select_option("#report-category", "SJ0102")
    page.fill("#report-description", description)
    if photo is not None:
        page.set_input_files("#report-photos", str(photo))
    page.click("#report-submit")


def test_bob_sees_his_grid_and_cases_by_deadline_and_a_dispatch_arrives_live(
        server, phone, town, alice, bob, browser_log, screenshot):
    later = dispatched(alice=alice, bob=bob, deadline_in=dt.timedelta(days=3))
    overdue = dispatched(alice=alice, bob=bob, description=HOSTILE, deadline_in=dt.timedelta(hours=-2))
    soon = dispatched(alice=alice, bob=bob, deadline_in=dt.timedelta(hours=5))
    Case.objects.filter(pk=overdue.pk).update(overdue=True)
    page = log_in(phone(), server, bob)

    items = page.locator("#case-list li.case-item")
    assert [int(i) for i in items.evaluate_all("els => els.map(e => e.dataset.caseId)")] == [
        overdue.pk, soon.pk, later.pk]
    assert page.locator(f"li.case-item[data-case-id='{overdue.pk}']").get_attribute("class").split()[-1] == \
        "deadline-red"
    # The hostile description is text, not markup.
    assert page.locator(f"li.case-item[data-case-id='{overdue.pk}'] .case-desc").inner_text() == HOSTILE
    assert page.locator("#case-list img").count() == 0
    # bob's grid is drawn, with its two buildings; the map is not blank without tiles.
    assert page.locator("#worker-map path.leaflet-interactive, #worker-map svg path").count() >= 3 + 3
    assert page.locator("#worker-map").evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"

    # A case dispatched to bob while he looks: on his phone without a reload.
    page.evaluate("window.__noReload = true")
    fresh = dispatched(alice=alice, bob=bob, deadline_in=dt.timedelta(days=1))
    page.wait_for_selector(f"li.case-item[data-case-id='{fresh.pk}']")
    screenshot(page, "worker_page")
    assert page.evaluate("window.__noReload") is True

    page.click(f"li.case-item[data-case-id='{overdue.pk}'] button")
    page.wait_for_selector(f"#detail-view:visible #case-title:has-text('{overdue.number}')")
    assert page.locator("#case-description").inner_text() == HOSTILE
    assert page.locator("#action-accept").is_visible()
    assert page.locator("#case-timeline li").count() >= 3
    screenshot(page, "worker_page_detail")
    assert browser_log.dialogs == []
    assert browser_log.errors == []


def test_suishoupai_with_a_photo_files_a_case_in_bobs_grid(server, phone, town, bob, jpeg, browser_log):
    page = log_in(phone(), server, bob)
    page.click("#report-button")
    page.wait_for_selector("#report-location:has-text('已定位')")
    fill_report(page, f"井盖缺失 {HOSTILE}", jpeg)
    page.wait_for_selector("#toast:has-text('上报成功')")

    case = Case.objects.get()
    assert case.grid == town.west
    assert case.description == f"井盖缺失 {HOSTILE}"
    assert case.category.code == "SJ0102"
    assert case.photos.count() == 1
    assert case.location.x == pytest.approx(INSIDE_WEST["longitude"])
    assert case.created_by == bob
    # bob's own report is on his list (received), its description shown as text.
    page.wait_for_selector(f"li.case-item[data-case-id='{case.pk}']")
    assert HOSTILE in page.locator(f"li.case-item[data-case-id='{case.pk}'] .case-desc").inner_text()
    assert browser_log.dialogs == []


def test_with_geolocation_denied_tapping_the_map_places_the_point(server, phone, town, bob):
    page = log_in(phone(geolocation=False), server, bob)
    page.click("#report-button")
    page.wait_for_selector("#report-location.warning")
    assert "地图上点击" in page.locator("#report-location").inner_text()
    assert page.locator("#map-hint").is_visible()

    # The map opens on bob's grid: its middle is well inside it.
    box = page.locator("#worker-map").bounding_box()
    page.tap("#worker-map", position={"x": box["width"] / 2, "y": box["height"] / 2})
    page.wait_for_selector("#report-location:not(.warning)")
    fill_report(page, "路灯不亮")
    page.wait_for_selector("#toast:has-text('上报成功')")
    case = Case.objects.get()
    assert case.grid == town.west


def test_a_report_made_offline_is_queued_and_sent_exactly_once(server, phone, town, bob, jpeg):
    page = log_in(phone(), server, bob)
    page.click("#report-button")
    page.wait_for_selector("#report-location:has-text('已定位')")
    page.context.set_offline(True)
    fill_report(page, "违章搭建", jpeg)
    page.wait_for_selector("#queue-badge:has-text('待发送 1')")
    assert page.locator("#net-state").inner_text() == "离线"
    assert Case.objects.count() == 0

    # Back online, the first answer is lost on the way back (the server did file it): the retry carries the
    # same Idempotency-Key and gets that case back instead of filing a second one.
    keys = []

    def lose_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        response = route.fetch()
        if len(keys) == 1:
            assert response.status == 201
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/cases/", lambda route: lose_first_answer(route)
               if route.request.method == "POST" else route.continue_())
    page.context.set_offline(False)
    page.wait_for_selector("#queue-badge", state="hidden", timeout=15_000)
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert keys[0]
    assert Case.objects.count() == 1
    assert Case.objects.get().photos.count() == 1
    page.reload()
    page.wait_for_selector("#worker-app[data-ready=true]")
    assert page.locator("#queue-badge").is_hidden()
    assert Case.objects.count() == 1


def test_bob_accepts_and_hands_in_from_the_page(server, phone, town, alice, bob, jpeg):
    case = dispatched(alice=alice, bob=bob, deadline_in=dt.timedelta(days=2))
    page = log_in(phone(), server, bob)
    page.click(f"li.case-item[data-case-id='{case.pk}'] button")
    page.wait_for_selector("#detail-view:visible")
    page.click("#action-accept")
    page.wait_for_selector("#action-start:visible")
    assert eventually(lambda: Case.objects.get(pk=case.pk).status == Case.Status.ACCEPTED)
    page.click("#action-start")
    page.wait_for_selector("#action-hand_in:visible")
    page.click("#action-hand_in")
    page.click("#action-submit")  # the note is required: asked for, nothing sent
    assert page.locator("#action-error").is_visible()
    page.fill("#action-note", "已清理完毕")
    page.set_input_files("#action-photos", str(jpeg))
    page.click("#action-submit")
    page.wait_for_selector("#case-status:has-text('反馈')")
    handed = Case.objects.get(pk=case.pk)
    assert handed.status == Case.Status.HANDLED
    event = handed.events.get(action="hand_in")
    assert event.note == "已清理完毕"
    assert event.photos.count() == 1
    assert page.locator("#case-photos img").count() == 1


def test_in_english_the_action_buttons_say_what_they_do(server, phone, town, alice, bob):
    case = walk(new_case(), "in_progress", dispatcher=alice, handler=bob)
    page = log_in(phone(), server, bob)
    page.click(".lang-switch button[value=en]")
    page.wait_for_selector("html[lang=en]", state="attached")
    page.wait_for_selector("#worker-app[data-ready=true]")
    page.click(f"li.case-item[data-case-id='{case.pk}'] button")
    page.wait_for_selector("#detail-view:visible")
    # "反馈" read "handled" (its status) on the button that hands the case in.
    assert page.text_content("#action-hand_in") == "Hand in"
    assert page.text_content("#action-request_extension") == "Request extension"
    assert page.text_content("#action-escalate") == "Escalate"


def test_patrol_mode_records_a_track(server, phone, town, bob):
    page = log_in(phone(), server, bob)
    page.click("#patrol-toggle")
    page.wait_for_selector("#patrol-status:visible")
    assert eventually(lambda: Patrol.objects.filter(worker__user=bob, ended_at__isnull=True).exists())
    # 22 m north a second later: a walk (a jump at over 120 km/h would be dropped).
    page.wait_for_timeout(1_000)
    page.context.set_geolocation({"latitude": 41.1007, "longitude": 122.9955})
    page.wait_for_function("document.querySelector('#patrol-status').textContent.includes('0.02')")
    # The status pill reads on one line on the phone (it wrapped "… 0 分\n钟" at half the screen's width).
    pill = page.locator("#patrol-status")
    line = float(pill.evaluate("node => parseFloat(getComputedStyle(node).lineHeight) || 18"))
    assert pill.evaluate("node => node.clientHeight") < 2 * line
    page.click("#patrol-toggle")
    assert eventually(lambda: Patrol.objects.filter(worker__user=bob, ended_at__isnull=False).exists())
    patrol = Patrol.objects.get(worker__user=bob)
    assert patrol.point_count == 2
    assert patrol.distance_m == pytest.approx(22.2, abs=0.5)
    assert page.locator("#patrol-toggle").get_attribute("aria-pressed") == "false"


def test_a_patrol_with_location_refused_ends_at_once_instead_of_recording_nothing(server, phone, town, bob):
    page = log_in(phone(geolocation=False), server, bob)
    page.click("#patrol-toggle")
    page.wait_for_selector("#toast.error:visible")
    assert "定位" in page.locator("#toast").text_content()
    page.wait_for_function("document.querySelector('#patrol-toggle').getAttribute('aria-pressed') === 'false'")
    assert page.locator("#patrol-status").is_hidden()
    assert eventually(lambda: Patrol.objects.filter(worker__user=bob, ended_at__isnull=False).exists())
    assert not Patrol.objects.filter(worker__user=bob, ended_at__isnull=True).exists()


def test_the_page_opens_offline_and_what_is_reported_there_is_sent_later(server, phone, town, alice, bob):
    case = dispatched(alice=alice, bob=bob, deadline_in=dt.timedelta(days=2))
    page = log_in(phone(service_worker=True), server, bob)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_selector("#worker-app[data-offline-ready=true]")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#worker-app[data-ready=true]")
    assert page.locator(f"li.case-item[data-case-id='{case.pk}']").is_visible()  # the last list, from the cache
    page.click("#report-button")
    page.wait_for_selector("#report-location:has-text('已定位')")
    fill_report(page, "消防通道被占用")
    page.wait_for_selector("#queue-badge:has-text('待发送 1')")
    page.context.set_offline(False)
    page.wait_for_selector("#queue-badge", state="hidden", timeout=15_000)
    assert eventually(lambda: Case.objects.filter(description="消防通道被占用").count() == 1)


def test_a_step_taken_offline_is_sent_once_when_the_network_is_back(server, phone, town, alice, bob):
    case = dispatched(alice=alice, bob=bob, deadline_in=dt.timedelta(days=2))
    page = log_in(phone(), server, bob)
    page.click(f"li.case-item[data-case-id='{case.pk}'] button")
    page.wait_for_selector("#detail-view:visible #action-accept:visible")
    page.context.set_offline(True)
    page.click("#action-accept")
    page.wait_for_selector("#queue-badge:has-text('待发送 1')")
    assert Case.objects.get(pk=case.pk).status == Case.Status.DISPATCHED
    page.context.set_offline(False)
    page.wait_for_selector("#queue-badge", state="hidden", timeout=15_000)
    page.wait_for_selector("#action-start:visible")
    assert Case.objects.get(pk=case.pk).status == Case.Status.ACCEPTED
    assert Case.objects.get(pk=case.pk).events.filter(action="accept").count() == 1


def test_someone_who_is_not_a_grid_worker_is_told_so_and_has_no_patrol(server, phone, town, alice):
    page = log_in(phone(), server, alice)
    assert page.locator("#not-a-worker").is_visible()
    assert page.locator("#patrol-toggle").is_hidden()
    assert page.locator("#report-button").is_visible()


def test_the_page_speaks_english_too(server, phone, town, bob, screenshot):
    page = log_in(phone(), server, bob)
    page.click(".worker-foot button[value=en]")
    page.wait_for_selector("html[lang=en] #worker-app[data-ready=true]")
    assert page.locator("#patrol-toggle").inner_text() == "Start patrol"
    assert page.locator("#list-title").inner_text().startswith("My open cases")
    assert page.locator("#report-button").inner_text() == "Quick report"
    assert page.locator("#notice-bell").get_attribute("aria-label") == "Grid change notices"
    assert page.locator("#notice-read-all").text_content() == "Mark all read"
    page.click("#report-button")
    assert page.locator("#report-submit").inner_text() == "Submit report"
    page.wait_for_selector("#report-location:has-text('Located')")
    screenshot(page, "worker_page_en")


def test_a_queued_report_survives_an_expired_session_and_is_sent_after_logging_in_again(server, phone, town, bob):
    page = log_in(phone(), server, bob)
    page.click("#report-button")
    page.wait_for_selector("#report-location:has-text('已定位')")
    page.context.set_offline(True)
    fill_report(page, "共享单车乱停放")
    page.wait_for_selector("#queue-badge:has-text('待发送 1')")
    page.context.clear_cookies()  # the session ends while the phone is offline
    page.context.set_offline(False)
    page.wait_for_selector("#toast:has-text('重新登录')")
    assert page.locator("#queue-badge").inner_text() == "待发送 1"
    assert Case.objects.count() == 0
    log_in(page, server, bob)
    page.wait_for_selector("#queue-badge", state="hidden", timeout=15_000)
    assert eventually(lambda: Case.objects.filter(description="共享单车乱停放").count() == 1)


def test_a_refused_report_comes_back_to_the_form_with_the_reason(server, phone, town, bob, tmp_path):
    page = log_in(phone(), server, bob)
    page.click("#report-button")
    page.wait_for_selector("#report-location:has-text('已定位')")
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_bytes(b"this is not an image")
    fill_report(page, "垃圾桶满溢", fake)
    page.wait_for_selector("#report-error:visible")
    assert "not-a-photo.jpg" in page.locator("#report-error").inner_text()  # the server names the bad file
    assert page.locator("#report-description").input_value() == "垃圾桶满溢"
    assert page.locator("#report-category").input_value() == "SJ0102"
    assert Case.objects.count() == 0
    page.set_input_files("#report-photos", [])
    page.click("#report-submit")
    page.wait_for_selector("#toast:has-text('上报成功')")
    assert Case.objects.get().description == "垃圾桶满溢"


def test_a_boundary_change_reaches_bobs_phone_as_a_notice_and_redraws_his_grid(
        server, phone, town, alice, bob, charlie, browser_log, screenshot):
    moving = walk(new_case(at=EAST), "dispatched", dispatcher=alice, handler=charlie)  # charlie's, by his grid
    assert moving.assignee.user == charlie
    page = log_in(phone(), server, bob)
    assert page.locator("#notice-count").is_hidden()
    assert page.locator("#worker-map path.building").count() == 2
    shape = "e => { const b = e.getBBox(); return b.width / b.height; }"
    before = page.locator("#worker-map path.my-grid").evaluate(shape)

    # A planner widens bob's grid eastwards to 123.006: the east grid's building and open case become bob's.
    planner = make_user("pat", full_name="规划员")
    StaffRole.objects.create(user=planner, role=StaffRole.Role.PLANNER, scope_code=town.street.code)
    west = {"op": "reshape", "grid": town.west.code, "geometry": {"type": "Polygon", "coordinates": [[
        [122.99, 41.09], [123.006, 41.09], [123.006, 41.11], [122.99, 41.11], [122.99, 41.09]]]}}
    planning.commit(user=planner, code=town.community.code, version=1, edit=west, reason="东片楼栋划入第一网格")
    notice = GridChangeNotice.objects.get(worker__user=bob)

    # Without a reload: the badge, the grid's new outline with the building it gained, the case on his list.
    page.evaluate("window.__noReload = true")
    page.wait_for_selector("#notice-count:visible:text-is('1')", timeout=15_000)
    page.wait_for_function("document.querySelectorAll('#worker-map path.building').length === 3")
    page.wait_for_selector(f"li.case-item[data-case-id='{moving.pk}']")
    assert page.locator("#worker-map path.my-grid").evaluate(shape) > before * 1.4  # 0.010° → 0.016° wide

    page.click("#notice-bell")
    item = page.locator(f"#notice-list li.notice-item.unread[data-notice-id='{notice.pk}']")
    assert item.locator(".notice-message").inner_text() == notice.message
    assert "第 2 版" in notice.message
    assert "转入案件 1 件" in notice.message
    assert town.west.code in item.locator(".notice-grids").inner_text()
    shanghai = timezone.localtime(notice.created_at).strftime("%H:%M")
    assert shanghai in item.locator(".notice-at").inner_text()
    screenshot(page, "worker_page_notice")

    page.click("#notice-read-all")
    page.wait_for_selector("#notice-count", state="hidden")
    assert page.locator("#notice-list li.notice-item.unread").count() == 0
    assert eventually(lambda: GridChangeNotice.objects.get(pk=notice.pk).read_at is not None)
    assert page.evaluate("window.__noReload") is True
    page.reload()
    page.wait_for_selector("#worker-app[data-ready=true]")
    assert page.locator("#notice-count").is_hidden()
    assert browser_log.dialogs == []
    assert browser_log.errors == []
