"""Route of the indicators API, mounted at /api/v1/stats/ (see gridgis/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("", api.Indicators.as_view(), name="stats"),
]
