"""Deadlines of cases, in working hours on the official calendar (worktime + CalendarDay overrides).

Handling time, counted from dispatch:

| priority | working hours                                                   |
|----------|-----------------------------------------------------------------|
| normal   | the category's deadline_hours (40 = 5 working days without one) |
| urgent   | a quarter of that, rounded up, at least 1 and at most 8 (1 day) |

The state shown to people: green, yellow once 80% of the time from dispatch to deadline is used, red once
the deadline has passed. While an extension request waits, the clock stands still at the moment it was asked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from .models import Case, Category
from .worktime import SHANGHAI, WORK_PERIODS, add_working_hours, is_workday

DEFAULT_HOURS = 40
URGENT_SHARE = 0.25
URGENT_MIN_HOURS, URGENT_MAX_HOURS = 1, 8
YELLOW_SHARE = 0.8
# 延期: at most 10 working days in all over a case's life.
MAX_EXTENSION_HOURS = 80
# 退回: a case that is not ours goes back within 2 working days of its dispatch.
RETURN_WINDOW_HOURS = 16

Overrides = Mapping[dt.date, bool] | None


def handling_hours(category: Category | None, priority: str) -> int:
    base = category.deadline_hours if category is not None else DEFAULT_HOURS
    if priority != Case.Priority.URGENT:
        return base
    return min(max(math.ceil(base * URGENT_SHARE), URGENT_MIN_HOURS), URGENT_MAX_HOURS, base)


def add_hours(start: dt.datetime, hours: float, overrides: Overrides = None) -> dt.datetime:
    return add_working_hours(start, hours, overrides)


def hours_between(start: dt.datetime, end: dt.datetime, overrides: Overrides = None) -> float:
    """Working hours from `start` to `end` (negative when `end` comes first)."""
    if end < start:
        return -hours_between(end, start, overrides)
    start, end = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    total = dt.timedelta()
    day = start.date()
    while day <= end.date():
        if is_workday(day, overrides):
            for begin, finish in WORK_PERIODS:
                lo = max(start, dt.datetime.combine(day, begin, tzinfo=SHANGHAI))
                hi = min(end, dt.datetime.combine(day, finish, tzinfo=SHANGHAI))
                if hi > lo:
                    total += hi - lo
        day += dt.timedelta(days=1)
    return total.total_seconds() / 3600


def deadline_state(case: Case, now: dt.datetime, overrides: Overrides = None) -> str | None:
    """green | yellow | red for a case on the clock; None when no clock runs (not dispatched, or finished)."""
    if case.deadline is None or case.status not in CLOCKED_STATUSES:
        return None
    clock = case.deadline_paused_at or now
    if case.overdue or clock > case.deadline:
        return "red"
    start = case.dispatched_at or case.received_at
    allowed = hours_between(start, case.deadline, overrides)
    if allowed > 0 and hours_between(start, clock, overrides) >= YELLOW_SHARE * allowed:
        return "yellow"
    return "green"


# The deadline runs from dispatch until the case is closed (closed_on_time compares the two).
CLOCKED_STATUSES = (Case.Status.DISPATCHED, Case.Status.ACCEPTED, Case.Status.IN_PROGRESS, Case.Status.HANDLED,
                    Case.Status.VERIFIED)
