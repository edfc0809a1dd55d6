from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from gridgis.cases.apidocs import SCHEMA_SETTINGS, ApiDocs

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/territory/", include("gridgis.territory.api_urls")),
    path("api/v1/stats/", include("gridgis.stats.api_urls")),
    path("api/v1/live/", include("gridgis.live.urls")),
    path("api/v1/wall/", include("gridgis.stats.wall_urls")),
    path("api/v1/patrols/", include("gridgis.workforce.patrol_urls")),
    path("api/v1/communities/", include("gridgis.territory.planning.urls")),
    path("api/v1/notices/", include("gridgis.territory.notice_urls")),
    path("api/v1/", include("gridgis.cases.api_urls")),  # cases (intake POST included), actions, categories
    path("api/schema/", SpectacularAPIView.as_view(custom_settings=SCHEMA_SETTINGS), name="api-schema"),
    path("api/docs/", ApiDocs.as_view(), name="api-docs"),
    path("open311/v2/", include("gridgis.intake.open311.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("map_ui.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
