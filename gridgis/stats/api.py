"""GET /api/v1/stats/: indicators — a thin view over gridgis.stats.selectors."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .serializers import IndicatorsSerializer, StatsQuerySerializer


class Indicators(APIView):
    """Indicators (统计指标) of a territory node, a department or a grid worker over a period.

    Parameters (all optional; at most one of node / department / worker):
    - `node`: a territory code of any level (district 6, street 9, community 12, grid 15 digits). Outside the
      caller's scope: 404. Without node/department/worker: the caller's own node (when they answer for
      several, name one: 400), or their department for a department handler.
    - `department`: a department code — the cases it leads or co-handles (主办/协办) within the caller's scope.
    - `worker`: a grid worker's worker_id — the cases assigned to them.
    - `start`, `end`: dates (YYYY-MM-DD, both included, Asia/Shanghai, 2000–2099); `start` defaults to the
      first and `end` to the last day of the current month.
    Bad parameters: 400 naming the field.

    A node's figures come with those of its children one level down (district → streets → communities →
    grids), each with its code and name; cases filed at the node itself (unplaced) form a row of kind
    "unplaced", so the children add up to the node. Departments, workers and grids have no children.

    Figures. "Closed" means: status closed now and closed_at in the period (a reopened case counts when
    closed again).
    - received 受理量: received in the period; registered 立案量: registered in the period; closed 结案量.
    - due_to_close 应结案数: not voided, and closed in the period, or fell due in the period (deadline in the
      period and already passed) without having been closed before the period.
    - closed_on_time 按期结案数: closed on time; reopened 返工数: closed with at least one reopening.
    - rated 评价数: rated in the period (满意/基本满意/不满意); satisfied 满意数: rated 满意.
    - closed_rate 办结率 = closed ÷ due_to_close; on_time_rate 按期结案率 = closed_on_time ÷ due_to_close;
      rework_rate 返工率 = reopened ÷ closed; satisfaction_rate 满意率 = satisfied ÷ rated.
      Rates: numbers with 4 decimals, null when the denominator is 0.
    - avg_handling_hours 平均处置时长: mean of closed_at − received_at of the closed cases, calendar hours.
    - open_now 在办数, overdue_now 超期数 (open, and flagged overdue or past the deadline — a clock paused for a
      pending extension only up to the pause): as of the request (`as_of`), whatever the period.
    """

    @extend_schema(summary="Indicators (统计指标)", tags=["stats"], parameters=[StatsQuerySerializer],
                   responses={200: IndicatorsSerializer})
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        subject = _subject(request.user, query.validated_data)
        if subject is None:
            raise Http404
        body = selectors.indicators(request.user, subject, query.validated_data["period"])
        return Response(IndicatorsSerializer(body).data)


def _subject(user, params: dict) -> selectors.Subject | None:
    if "node" in params:
        return selectors.node_subject(user, params["node"])
    if "department" in params:
        return selectors.department_subject(user, params["department"])
    if "worker" in params:
        return selectors.worker_subject(user, params["worker"])
    try:
        return selectors.home_subject(user)
    except selectors.SeveralHomes as several:
        message = _("您负责多个辖区，请指定其一：%(codes)s") % {"codes": "、".join(several.codes)}
        raise ValidationError({"node": [message]}) from None
