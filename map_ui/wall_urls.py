"""The command centre's wall map (/wall/)."""

from django.urls import path

from . import wall_views

urlpatterns = [
    path("", wall_views.wall, name="wall"),
]
