"""The official calendar as the workflow uses it: the chinese_calendar package, overridden by CalendarDay
rows (years the package does not know yet, or corrections), loaded from fixtures/calendar/<year>.json:

    python manage.py loaddata fixtures/calendar/2027.json

A fixture lists only the exceptions to Monday–Friday: holidays on weekdays (is_workday false) and adjusted
working days on weekends (is_workday true). Rows are keyed by date, so loading a file again updates it.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db.models.signals import post_delete, post_save

from .models import CalendarDay

# Read at most once a minute per process: every deadline shown or set needs the overrides, and they change
# a few times a year. A change made in this process (admin, loaddata) counts at once (forget_overrides).
TTL_S = 60.0
_cache: dict[str, tuple[float, dict[dt.date, bool]]] = {}


def calendar_overrides() -> dict[dt.date, bool]:
    """Every override, as the mapping worktime takes."""
    cached = _cache.get("overrides")
    if cached is not None and time.monotonic() - cached[0] < TTL_S:
        return cached[1]
    overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))
    _cache["overrides"] = (time.monotonic(), overrides)
    return overrides


def forget_overrides(**_) -> None:
    _cache.clear()


post_save.connect(forget_overrides, sender=CalendarDay, dispatch_uid="calendar-overrides-save")
post_delete.connect(forget_overrides, sender=CalendarDay, dispatch_uid="calendar-overrides-delete")
