"""The wall map's data API (/api/v1/wall/), see wall_api."""

from django.urls import path

from . import wall_api

urlpatterns = [
    path("cases/", wall_api.CasesInView.as_view(), name="wall-cases"),
    path("grids/", wall_api.GridLoads.as_view(), name="wall-grids"),
    path("summary/", wall_api.LiveCounts.as_view(), name="wall-summary"),
]
