"""The grid worker's phone page (/m/) and its service worker (served here so that its scope covers /m/)."""

from django.urls import path

from . import worker_views

urlpatterns = [
    path("", worker_views.worker_page, name="worker"),
    path("sw.js", worker_views.service_worker, name="worker-sw"),
]
