"""Patrols API (/api/v1/patrols/)."""

urlpatterns: list = []
