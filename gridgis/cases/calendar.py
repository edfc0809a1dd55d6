"""The official calendar as the workflow uses it: the chinese_calendar package, overridden by CalendarDay
rows (years the package does not know yet, or corrections), loaded from fixtures/calendar/<year>.json:

    python manage.py loaddata fixtures/calendar/2027.json

A fixture lists only the exceptions to Monday–Friday: holidays on weekdays (is_workday false) and adjusted
working days on weekends (is_workday true). Rows are keyed by date, so loading a file again updates it.
"""

from __future__ import annotations

import datetime as dt

from .models import CalendarDay


def calendar_overrides() -> dict[dt.date, bool]:
    """Every override, as the mapping worktime takes. A few dozen rows a year: one small query per use,
    so an edit in the admin counts at once, with no cache to invalidate."""
    return dict(CalendarDay.objects.values_list("date", "is_workday"))
