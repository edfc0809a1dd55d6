"""Routes of the territory API, mounted at /api/v1/territory/ (see gridgis/urls.py)."""

from rest_framework.routers import DefaultRouter

from . import api

app_name = "territory-api"

router = DefaultRouter()
router.register("districts", api.DistrictViewSet, basename="district")
router.register("streets", api.StreetViewSet, basename="street")
router.register("communities", api.CommunityViewSet, basename="community")
router.register("grids", api.GridViewSet, basename="grid")
router.register("buildings", api.BuildingViewSet, basename="building")

urlpatterns = router.urls
