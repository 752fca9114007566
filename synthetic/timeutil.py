"""Vectorised date arithmetic on the Chinese working-day calendar (工作日, with 调休).

Statutory 12315 limits count working days (Order No. 20: acceptance 7, mediation 45, report check
15); the generator places every clean record's decision and closure a whole number of working days
after its start with :meth:`Workdays.add`, using the same ordinal table as
``reference.calendar.WorkdayCalendar.workdays_between`` — so "working days between" measured by the
pipeline is exactly the number the generator chose.
"""
from __future__ import annotations

import numpy as np

from reference.calendar import WorkdayCalendar

DAY = np.timedelta64(1, "D")
SEC_PER_DAY = 86400


class Workdays:
    def __init__(self, cal: WorkdayCalendar | None = None):
        cal = cal or WorkdayCalendar.default()
        self.days = cal.days  # datetime64[D]
        self.ordinal = cal.ordinal
        self.is_work = cal.is_workday_arr
        self.epoch = cal.days[0]

    def _idx(self, d: np.ndarray) -> np.ndarray:
        i = (np.asarray(d, dtype="datetime64[D]") - self.epoch).astype(np.int64)
        if i.size and (i.min() < 0 or i.max() >= len(self.days)):
            raise ValueError("date outside the working-day calendar (2004–2035)")
        return i

    def add(self, d, k) -> np.ndarray:
        """The day ``k`` working days after ``d`` (``k`` = 0 gives ``d`` itself)."""
        d = np.asarray(d, dtype="datetime64[D]")
        k = np.asarray(k, dtype=np.int64)
        target = self.ordinal[self._idx(d)] + k
        j = np.searchsorted(self.ordinal, target, side="left")
        return np.where(k == 0, d, self.days[np.minimum(j, len(self.days) - 1)])

    def between(self, a, b) -> np.ndarray:
        """Working days after ``a`` up to and including ``b`` (as WorkdayCalendar.workdays_between)."""
        return self.ordinal[self._idx(b)] - self.ordinal[self._idx(a)]

    def is_workday(self, d) -> np.ndarray:
        return self.is_work[self._idx(d)]


def year_days(year: int) -> np.ndarray:
    return np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"), dtype="datetime64[D]")


def month_of(d: np.ndarray) -> np.ndarray:
    """1–12 for datetime64 values."""
    return d.astype("datetime64[M]").astype(np.int64) % 12 + 1


def at(day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """datetime64[s] = day + seconds after midnight."""
    return day.astype("datetime64[s]") + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")


def office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """A time in office hours (08:30–17:30), as seconds after midnight."""
    return rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n)
