from django.urls import path

from . import views

app_name = "map_ui"

urlpatterns = [
    path("", views.home, name="home"),
]
