from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeocodingConfig(AppConfig):
    name = "gridgis.geocoding"
    verbose_name = _("地址匹配")
