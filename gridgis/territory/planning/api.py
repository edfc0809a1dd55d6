"""The planner's API, /api/v1/communities/{code}/… (planner role or superuser; communities outside the
planner's scope are 404):

GET  plan/      the community, its grids (code, seq, name, households, population, workers, open_cases), its
                buildings (id, grid_code; 6 decimals), the version and target range
POST preview/   {version, edit} → {version, grids_after, impact, repairs, warnings}; nothing written
                (edit {op: restore, to_version} previews a restore)
POST commit/    {version, edit, reason} → 201 {version: new, …as preview}
POST restore/   {version, to_version, reason} → 201 like commit (undo = restore an earlier version)
GET  versions/  newest first: {version, effective_from, created_by, reason, summary, grids, is_current}

edit: {op: reshape, grid, geometry, give_to?} | {op: split, grid, line} | {op: merge, grids} |
      {op: create, geometry} | {op: partition, n | households_per_grid}   (GeoJSON in WGS84)
Errors: 400 {field: [reason]} (plus `spot`, a GeoJSON Point, where a self-intersection is) and nothing
changed; 409 {detail, current_version, changes} when the version is stale.
"""

from __future__ import annotations

import json

import shapely
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from geodata.gridedit import EditError

from . import selectors, services


def _planner(request) -> None:
    if not selectors.is_planner(request.user):
        raise PermissionDenied(_("需要网格规划员权限"))


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise EditError("edit", "请求体必须是 JSON 对象")
    return request.data


def _reason(body: dict) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise EditError("reason", "请填写修改原因")
    if len(reason) > 1000:
        raise EditError("reason", "不超过 1000 字")
    return reason.strip()


def _answer(run, *, created: bool = False) -> Response:
    try:
        result = run()
    except EditError as exc:
        body = {exc.field: [exc.message]}
        if exc.spot is not None:
            body["spot"] = json.loads(shapely.to_geojson(exc.spot))
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    except services.Stale as exc:
        return Response({"detail": _("网格已被他人修改，请刷新后重新编辑"), "current_version": exc.current,
                         "changes": exc.changes}, status=status.HTTP_409_CONFLICT)
    return Response(result, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PlanView(APIView):
    def get(self, request, code: str):
        _planner(request)
        # JSON text assembled by PostGIS and json.dumps (see selectors.plan), sent as is.
        return HttpResponse(selectors.plan(selectors.community_for(request.user, code)),
                            content_type="application/json")


class PreviewView(APIView):
    def post(self, request, code: str):
        _planner(request)
        community = selectors.community_for(request.user, code)  # 404 before looking at the body
        return _answer(lambda: services.preview(user=request.user, code=code, version=_body(request).get("version"),
                                                edit=_body(request).get("edit"), community=community))


class CommitView(APIView):
    def post(self, request, code: str):
        _planner(request)
        selectors.community_for(request.user, code)

        def run():
            body = _body(request)
            reason = _reason(body)
            return services.commit(user=request.user, code=code, version=body.get("version"), edit=body.get("edit"),
                                   reason=reason)
        return _answer(run, created=True)


class RestoreView(APIView):
    def post(self, request, code: str):
        _planner(request)
        selectors.community_for(request.user, code)

        def run():
            body = _body(request)
            reason = _reason(body)
            return services.restore_version(user=request.user, code=code, version=body.get("version"),
                                            to_version=body.get("to_version"), reason=reason)
        return _answer(run, created=True)


class VersionsView(APIView):
    def get(self, request, code: str):
        _planner(request)
        return Response(selectors.versions(selectors.community_for(request.user, code)))
