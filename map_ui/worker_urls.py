"""The grid worker's phone page (/m/)."""

urlpatterns: list = []
