"""Working time on the official Chinese calendar: holidays and adjusted working days (调休) come from the
maintained `chinese_calendar` package; years it does not know yet can be added as CalendarDay rows (a
fixture per year), and without either a year falls back to Monday–Friday with a warning in the log.

Working hours are 08:30–12:00 and 13:30–18:00 (8 hours a day), Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORK_PERIODS = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(18, 0)))
HOURS_PER_DAY = 8
_warned_years: set[int] = set()


def is_workday(day: dt.date, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("no official holiday data for %s: counting Monday–Friday as working days", day.year)
        return day.weekday() < 5


def add_working_hours(start: dt.datetime, hours: float, overrides: Mapping[dt.date, bool] | None = None
                      ) -> dt.datetime:
    """The moment `hours` working hours after `start` (an aware datetime); returned in Asia/Shanghai."""
    remaining = dt.timedelta(hours=hours)
    moment = start.astimezone(SHANGHAI)
    for _ in range(3660):  # ten years of days: a bound, never reached with sane deadlines
        if is_workday(moment.date(), overrides):
            for begin, end in WORK_PERIODS:
                period_start = moment.replace(hour=begin.hour, minute=begin.minute, second=0, microsecond=0)
                period_end = moment.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
                if moment >= period_end:
                    continue
                moment = max(moment, period_start)
                available = period_end - moment
                if remaining <= available:
                    return moment + remaining
                remaining -= available
                moment = period_end
        next_day = moment.date() + dt.timedelta(days=1)
        moment = dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=SHANGHAI)
    raise ValueError(f"{hours} working hours is beyond any sane deadline")
