"""The wall map's data API (/api/v1/wall/)."""

urlpatterns: list = []
