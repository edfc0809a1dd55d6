from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MapUiConfig(AppConfig):
    name = "map_ui"
    verbose_name = _("地图页面")
