"""Routes of the workflow API, mounted at /api/v1/ before the intake routes (gridgis/urls.py): the case list
(GET here, POST handed to intake), the detail, the categories (the intake views, annotated for the OpenAPI
schema), each action, and the timeline."""

from django.urls import path

from . import api

urlpatterns = [
    path("cases/", api.CaseList.as_view(), name="case-list"),
    path("cases/<int:pk>/", api.CaseDetail.as_view(), name="case-detail"),
    path("categories/", api.Categories.as_view(), name="category-list"),
    path("cases/<int:pk>/timeline/", api.CaseTimeline.as_view(), name="case-timeline"),
    *[
        path(f"cases/<int:pk>/{action}/", view.as_view(), name=f"case-{action.replace('_', '-')}")
        for action, view in api.TRANSITION_VIEWS.items()
    ],
]
