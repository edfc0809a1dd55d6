"""The intake views: POST /api/v1/cases/ and the categories; routed by gridgis.cases.api_urls, whose views
extend these with the case list and the workflow."""

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgis.cases.actors import actor_for
from gridgis.cases.models import Category
from gridgis.cases.selectors import case_detail

from .serializers import CaseReportSerializer, CaseSerializer, CategorySerializer
from .services import IdempotencyConflict, report_intake

MAX_IDEMPOTENCY_KEY = 200


class CaseListCreate(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            return Response({"Idempotency-Key": [_("最多 200 个字符")]}, status=400)
        report = CaseReportSerializer(data=_report_data(request))
        report.is_valid(raise_exception=True)
        # The caller's roles, read once: for filing an unplaced report, and for the case shape's masking and
        # allowed actions. (CaseList, the routed view, keeps them as self.actor.)
        actor = getattr(self, "actor", None) or actor_for(request.user)
        try:
            intake = report_intake(report=report.to_report(), by=request.user, idempotency_key=key,
                                   fingerprint=report.fingerprint() if key else "", actor=actor)
        except IdempotencyConflict:
            return Response({"Idempotency-Key": [_("此键已用于另一份不同的上报")]},
                            status=status.HTTP_409_CONFLICT)
        # A new case is the caller's own (cases_for shows a user what they took in) and comes back from
        # case_create with everything its shape shows: no need to read it again. A retry's earlier case is read.
        case = intake.case if intake.created else case_detail(request.user, intake.case.pk, actor)
        body = CaseSerializer(case, context={"request": request, "actor": actor}).data
        return Response(body, status=status.HTTP_201_CREATED if intake.created else status.HTTP_200_OK)


class CategoryList(APIView):
    """The categories a report may name (GB/T 30428.2), with their default deadline and handling tier."""

    def get(self, request):
        categories = Category.objects.filter(active=True).order_by("code")
        return Response(CategorySerializer(categories, many=True).data)


def _report_data(request):
    """JSON as it is; a multipart form as a plain dict with the photo files as a list."""
    if not hasattr(request.data, "getlist"):
        return request.data
    data = {key: request.data.get(key) for key in request.data if key != "photos"}
    data["photos"] = request.FILES.getlist("photos")
    return data
