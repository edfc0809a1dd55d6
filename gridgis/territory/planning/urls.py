"""The planner's API (/api/v1/communities/{code}/…)."""

urlpatterns: list = []
