"""The planner's API (/api/v1/communities/{code}/…); see api.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("<str:code>/plan/", api.PlanView.as_view(), name="plan"),
    path("<str:code>/plan/preview/", api.PreviewView.as_view(), name="plan-preview"),
    path("<str:code>/plan/commit/", api.CommitView.as_view(), name="plan-commit"),
    path("<str:code>/plan/restore/", api.RestoreView.as_view(), name="plan-restore"),
    path("<str:code>/versions/", api.VersionsView.as_view(), name="plan-versions"),
]
