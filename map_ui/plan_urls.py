"""The planner's grid editor (/plan/)."""

from django.urls import path

from . import plan_views

urlpatterns = [
    path("", plan_views.plan, name="plan"),
]
