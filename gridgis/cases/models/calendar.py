"""Official calendar overrides: days whose working status the chinese_calendar package does not know (a
year it has no data for yet) or gets wrong. A row wins over the package."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDayManager(models.Manager):
    def get_by_natural_key(self, date):
        return self.get(date=date)


class CalendarDay(models.Model):
    """One day of the official schedule: a holiday on a weekday, or an adjusted working day (调休) on a
    weekend. Loaded from fixtures/calendar/<year>.json with `manage.py loaddata` (by date, so loading a
    file twice updates rather than duplicates)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=50, blank=True)

    objects = CalendarDayManager()

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_workday else '休'} {self.note}".strip()

    def natural_key(self):
        return (self.date.isoformat(),)
