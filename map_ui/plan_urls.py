"""The planner's grid editor (/plan/)."""

urlpatterns: list = []
