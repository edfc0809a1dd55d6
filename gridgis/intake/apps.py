from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "gridgis.intake"
    verbose_name = _("受理渠道")
