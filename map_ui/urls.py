from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

app_name = "map_ui"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/", include("map_ui.worker_urls")),
    path("wall/", include("map_ui.wall_urls")),
    path("plan/", include("map_ui.plan_urls")),
    # Browsers ask for /favicon.ico whatever the page links; answer instead of logging a 404 each time.
    path("favicon.ico", RedirectView.as_view(url=static("map_ui/favicon.svg"), permanent=True)),
]
