"""Patrols API (/api/v1/patrols/): see patrol_api.py for the contract."""

from django.urls import path

from . import patrol_api as api

urlpatterns = [
    path("", api.PatrolList.as_view(), name="patrol-list"),
    path("active/", api.ActivePatrols.as_view(), name="patrol-active"),
    path("<int:pk>/", api.PatrolDetail.as_view(), name="patrol-detail"),
    path("<int:pk>/points/", api.PatrolPoints.as_view(), name="patrol-points"),
    path("<int:pk>/end/", api.PatrolEnd.as_view(), name="patrol-end"),
]
