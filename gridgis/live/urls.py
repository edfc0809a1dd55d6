from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("cases/", views.case_stream, name="cases"),
    path("status/", views.live_status, name="status"),
]
