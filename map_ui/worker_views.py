"""The grid worker's phone page (/m/): the page shell and its configuration; everything else comes from the
APIs (territory, cases, categories, patrols, live) in the browser, which also queues what it sends offline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models.aggregates import Extent
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.cache import never_cache

from gridgis.cases.models import Case
from gridgis.cases.workflow import RULES
from gridgis.territory.map_selectors import territory_centre
from gridgis.territory.models import Grid
from gridgis.workforce.models import GridWorker

from .basemap import basemap_name, tile_layers

# The workflow steps a grid worker takes from the phone, in the order the buttons show.
WORKER_ACTIONS = ("accept", "start", "hand_in", "request_extension", "return", "escalate")


# The buttons' labels: the workflow's own words, under their own context so that English reads as an imperative
# with a capital — the workflow's shared msgid "反馈" reads "handled" (a status) on the button that hands a case in.
ACTION_LABELS = {
    "accept": pgettext_lazy("grid worker action", "签收"),
    "start": pgettext_lazy("grid worker action", "处置"),
    "hand_in": pgettext_lazy("grid worker action", "反馈"),
    "request_extension": pgettext_lazy("grid worker action", "申请延期"),
    "return": pgettext_lazy("grid worker action", "退回"),
    "escalate": pgettext_lazy("grid worker action", "上报"),
}


def _texts() -> dict[str, str]:
    """Every message the page's scripts show, translated here (the scripts hold no text of their own)."""
    return {
        "loading": _("正在加载…"),
        "loadFailed": _("加载失败，请稍后重试。"),
        "noCases": _("暂无待办案件"),
        "deadline": _("时限"),
        "noDeadline": _("未设时限"),
        "overdue": _("已超期"),
        "nearDeadline": _("即将到期"),
        "received": _("上报时间"),
        "timeline": _("办理记录"),
        "photos": _("照片"),
        "noPhotos": _("无照片"),
        "back": _("返回"),
        "offline": _("离线"),
        "online": _("在线"),
        "pending": _("待发送 %(n)s"),
        "queued": _("网络不通，已保存，联网后自动发送。"),
        "sent": _("已发送"),
        "reportSent": _("上报成功，案件编号 %(number)s"),
        "actionDone": _("已%(action)s"),
        "actionFailed": _("操作未成功：%(reason)s"),
        "reportFailed": _("上报未成功：%(reason)s"),
        "alreadyDone": _("此前已提交成功"),
        "locating": _("正在定位…"),
        "located": _("已定位（精度约 %(m)s 米）"),
        "locationDenied": _("无法获取定位：请在地图上点击选择位置。"),
        "tapToPlace": _("请在地图上点击案件位置"),
        "placed": _("已在地图上选定位置"),
        "needLocation": _("请先确定位置：允许定位，或在地图上点击。"),
        "needCategory": _("请选择类别"),
        "needDescription": _("请填写问题描述"),
        "patrolOn": _("巡查中"),
        "patrolOff": _("开始巡查"),
        "patrolStop": _("结束巡查"),
        "patrolStats": _("%(km)s 公里 · %(min)s 分钟"),
        "patrolNoGps": _("无法获取定位，巡查轨迹无法记录。"),
        "newCase": _("新案件：%(number)s"),
        "myGrid": _("我的网格"),
        "reportHere": _("随手拍位置"),
        "unknownCategory": _("未分类"),
        "networkError": _("网络错误"),
        "signedOut": _("登录已失效：请重新登录，待发送的内容会保留并在登录后发送。"),
        "notices": pgettext("grid worker page", "网格调整通知"),
        "unread": _("%(n)s 条未读"),
        "unreadOne": _("未读"),
        "read": _("已读"),
        "grids": _("涉及网格"),
        "boundaryChanged": _("网格边界已调整：地图和待办已更新"),
    }


def _bbox(grids) -> list[float] | None:
    extent = Grid.objects.filter(pk__in=[g.pk for g in grids]).aggregate(extent=Extent("geom"))["extent"]
    return list(extent) if extent else None


@login_required
def worker_page(request):
    worker = GridWorker.objects.filter(user=request.user).first()
    grids = list(worker.grids.order_by("code").only("code", "name")) if worker else []
    centre = territory_centre()
    config = {
        "user": {"id": request.user.pk, "name": request.user.get_full_name() or request.user.get_username()},
        "isWorker": worker is not None,
        "grids": [{"code": g.code, "name": g.name} for g in grids],
        "bbox": _bbox(grids) if grids else None,
        "centre": list(centre) if centre else [123.0, 41.1],
        "tileLayers": tile_layers(),
        "urls": {
            "grids": reverse("territory-api:grid-list"),
            "buildings": reverse("territory-api:building-list"),
            "cases": reverse("case-list"),
            "categories": reverse("category-list"),
            "patrols": reverse("patrol-list"),
            "live": reverse("live:cases"),
            "notices": reverse("notice-list"),
        },
        "openStatuses": list(Case.OPEN_STATUSES),
        "statusLabels": {value: str(label) for value, label in Case.Status.choices},
        "actions": {action: str(ACTION_LABELS.get(action, RULES[action].label)) for action in WORKER_ACTIONS},
        "texts": _texts(),
    }
    context = {"worker": worker, "grids": grids, "basemap": basemap_name(), "config": config,
               "actions": WORKER_ACTIONS}
    return render(request, "map_ui/worker.html", context)


@never_cache
def service_worker(request):
    """The offline shell's service worker, served under /m/ so that its scope is the page."""
    path = finders.find("map_ui/js/worker_sw.js")
    if path is None:
        raise Http404
    response = FileResponse(open(path, "rb"), content_type="text/javascript")  # noqa: SIM115 - FileResponse closes it
    response["Service-Worker-Allowed"] = reverse("map_ui:worker")
    return response
