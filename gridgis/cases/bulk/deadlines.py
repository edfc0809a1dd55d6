"""worktime.add_working_hours for a whole column of start times at once.

The working periods of every day in the range are laid end to end on a clock that runs only during work;
a start time is read on that clock, the hours are added, and the result is read back. Same answers as
add_working_hours to the microsecond (tests/cases/test_bulk.py compares them), same calendar (is_workday).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from gridgis.cases.worktime import SHANGHAI, WORK_PERIODS, is_workday

HOUR_US = 3_600_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def add_working_hours_us(start_us: np.ndarray, hours: np.ndarray,
                         overrides: Mapping[dt.date, bool] | None = None) -> np.ndarray:
    """Deadlines (int64 microseconds since 1970, UTC) `hours` working hours after each start."""
    start_us = np.asarray(start_us, dtype=np.int64)
    hours_us = np.rint(np.asarray(hours, dtype=np.float64) * HOUR_US).astype(np.int64)
    if not start_us.size:
        return start_us.copy()
    first = _local_date(int(start_us.min())) - dt.timedelta(days=1)
    days = int(hours_us.max() // (HOUR_US * 8)) * 3 + 60  # weekends and the longest holidays fit easily
    while True:
        last = _local_date(int(start_us.max())) + dt.timedelta(days=days)
        begin, end = _periods(first, last, overrides)
        done = np.cumsum(end - begin)  # working time at the end of each period
        before = done - (end - begin)
        period = np.searchsorted(end, start_us, side="right")  # the first period ending after the start
        if period.max() < begin.size:
            worked = before[period] + np.clip(start_us - begin[period], 0, None)
            target = worked + hours_us
            if target.max() <= done[-1]:
                break
        days *= 2
    reached = np.searchsorted(done, target, side="left")  # the first period by whose end the time is worked
    deadline = begin[reached] + (target - before[reached])
    # no hours: the start itself, or the next period's beginning (what add_working_hours does with 0)
    return np.where(hours_us == 0, np.maximum(start_us, begin[period]), deadline)


def _local_date(micros: int) -> dt.date:
    return (_EPOCH + dt.timedelta(microseconds=micros)).astimezone(SHANGHAI).date()


def _periods(first: dt.date, last: dt.date, overrides) -> tuple[np.ndarray, np.ndarray]:
    """Begin and end (microseconds since 1970) of every working period from `first` to `last`."""
    bounds = []
    day = first
    while day <= last:
        if is_workday(day, overrides):
            for opens, closes in WORK_PERIODS:
                bounds.append((_micros(day, opens), _micros(day, closes)))
        day += dt.timedelta(days=1)
    array = np.array(bounds, dtype=np.int64).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def _micros(day: dt.date, time: dt.time) -> int:
    moment = dt.datetime.combine(day, time, tzinfo=SHANGHAI) - _EPOCH
    return (moment.days * 86_400 + moment.seconds) * 1_000_000 + moment.microseconds
