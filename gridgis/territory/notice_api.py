"""Grid change notices for the requesting grid worker, /api/v1/notices/ (a planner's commit writes them):

GET  /api/v1/notices/[?unread=1]  {unread, results: [{id, message, grids, version, community: {code, name},
                                   created_at, read, read_at}], grids: [{code, name}]} — newest first, the latest
                                   100; `grids` are the worker's grids now, for the phone to redraw
POST /api/v1/notices/<id>/read/   the notice, read (idempotent; another worker's notice is 404)
POST /api/v1/notices/read-all/    {marked, unread}

Times are ISO 8601 in Asia/Shanghai (+08:00), like the rest of the API. Someone who is not a grid worker gets
an empty list.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from . import notices
from .models import GridChangeNotice

_FLAGS = {"1": True, "true": True, "0": False, "false": False, "": False}


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _notice(n: GridChangeNotice) -> dict:
    community = n.version.community
    return {"id": n.id, "message": n.message, "grids": n.grids, "version": n.version.version,
            "community": {"code": community.code, "name": community.name},
            "created_at": _iso(n.created_at), "read": n.read_at is not None, "read_at": _iso(n.read_at)}


class NoticeListView(APIView):
    def get(self, request):
        flag = request.query_params.get("unread", "").strip().lower()
        if flag not in _FLAGS:
            raise ValidationError({"unread": [_("只能是 1 或 0")]})
        rows = notices.notices_for(request.user, unread_only=_FLAGS[flag])[: notices.LIST_LIMIT]
        return Response({"unread": notices.unread_count(request.user), "results": [_notice(n) for n in rows],
                         "grids": notices.current_grids(request.user)})


class NoticeReadView(APIView):
    def post(self, request, pk: int):
        notice = notices.mark_read(user=request.user, notice_id=pk)
        return Response({**_notice(notice), "unread": notices.unread_count(request.user)})


class NoticeReadAllView(APIView):
    def post(self, request):
        marked = notices.mark_all_read(user=request.user)
        return Response({"marked": marked, "unread": notices.unread_count(request.user)})
