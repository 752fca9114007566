"""Chinese working days (工作日) with 调休 make-up working days.

Statutory 12315 deadlines (Order No. 20 / No. 121) and sampling disposal limits count working days:
Monday–Friday, less public holidays, plus the weekend days the State Council turns into working
days (调休). Sources, in order of precedence:

1. a holiday table given by the operator (``CEI_HOLIDAYS`` file or ``extra_holidays=``), for years
   the packaged data does not cover yet (the State Council publishes each year's notice in autumn);
2. the official calendar shipped in ``reference/data/cn_holidays_2023_2026.csv``;
3. the ``chinese-calendar`` package for 2004–2022.

A year covered by none of them is counted as Monday–Friday working days, and the calendar says so
(``uncovered_years`` and a ``UncoveredYearWarning``) instead of crashing or counting silently wrong.

The vectorised form is an ordinal: ``workday_ordinal(d)`` = number of working days from the
calendar's epoch up to and including d, so "working days from a to b" is ``ord(b) - ord(a)`` for
whole columns at once (numpy here, the same table joined in DuckDB SQL).
"""
from __future__ import annotations

import datetime as dt
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from reference import official_holidays

EPOCH = dt.date(2004, 1, 1)
LAST_DAY = dt.date(2035, 12, 31)
CHINESE_CALENDAR_YEARS = range(2004, 2027)


class UncoveredYearWarning(UserWarning):
    """Working days were counted for a year with no holiday data (weekends only)."""


def _read_holiday_file(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str)
    missing = {"date", "kind"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: holiday table needs columns date,kind[,name]; missing {sorted(missing)}")
    bad = ~df["kind"].isin(["holiday", "workday"])
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise ValueError(f"{path}, line {row}, field kind: {df['kind'][bad].iloc[0]!r} is not holiday|workday")
    df["date"] = pd.to_datetime(df["date"], errors="raise").dt.date
    return df


@dataclass
class WorkdayCalendar:
    """A working-day calendar over 2004–2035 built once; all queries are array look-ups."""

    extra_holidays: pd.DataFrame | None = None
    days: np.ndarray = field(init=False, repr=False)  # datetime64[D] from EPOCH to LAST_DAY
    is_workday_arr: np.ndarray = field(init=False, repr=False)
    ordinal: np.ndarray = field(init=False, repr=False)
    covered_years: set[int] = field(init=False)

    def __post_init__(self) -> None:
        self.days = np.arange(np.datetime64(EPOCH), np.datetime64(LAST_DAY) + 1, dtype="datetime64[D]")
        weekday = (self.days.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        work = weekday < 5
        covered: set[int] = set()
        years = self.days.astype("datetime64[Y]").astype(int) + 1970

        import chinese_calendar  # the package's own table for 2004–2022

        for y in CHINESE_CALENDAR_YEARS:
            if y >= 2023:
                continue
            sel = np.flatnonzero(years == y)
            work[sel] = [chinese_calendar.is_workday(d) for d in self.days[sel].astype(dt.date)]
            covered.add(y)
        tables = [official_holidays()]
        if self.extra_holidays is not None:
            tables.append(self.extra_holidays)
        for table in tables:  # later tables win
            for d, kind in zip(table["date"], table["kind"]):
                i = (np.datetime64(d, "D") - np.datetime64(EPOCH)).astype(int)
                if 0 <= i < len(work):
                    work[i] = kind == "workday"
            covered.update(int(d.year) for d in table["date"])
        self.is_workday_arr = work
        self.ordinal = np.cumsum(work)
        self.covered_years = covered

    @classmethod
    def default(cls) -> "WorkdayCalendar":
        """The shipped calendar, plus the table named by ``CEI_HOLIDAYS`` when set."""
        return _default_calendar(os.environ.get("CEI_HOLIDAYS") or "")

    # -- queries --------------------------------------------------------------------------
    def _index(self, dates) -> np.ndarray:
        d = np.asarray(pd.to_datetime(dates).values.astype("datetime64[D]"))
        i = (d - np.datetime64(EPOCH)).astype("int64")
        if i.size and (i.min() < 0 or i.max() >= len(self.days)):
            raise ValueError(f"date outside the calendar's range {EPOCH}…{LAST_DAY}")
        return i

    def uncovered_years(self, dates) -> list[int]:
        years = pd.to_datetime(pd.Series(dates)).dropna().dt.year.unique()
        return sorted(int(y) for y in years if int(y) not in self.covered_years)

    def _warn_uncovered(self, dates) -> None:
        missing = self.uncovered_years(dates)
        if missing:
            warnings.warn(
                f"no holiday data for {missing}: working days counted as Monday–Friday. "
                "Give the State Council's calendar in a CSV (date,kind[,name]) via CEI_HOLIDAYS.",
                UncoveredYearWarning,
                stacklevel=3,
            )

    def is_workday(self, day: dt.date) -> bool:
        self._warn_uncovered([day])
        return bool(self.is_workday_arr[self._index([day])[0]])

    def workdays_between(self, start, end) -> np.ndarray:
        """Working days after ``start`` up to and including ``end`` (vectorised; NaT gives NaN).

        This is how a statutory limit of N working days "from receipt" is measured: the
        decision is on time when ``workdays_between(received, decided) <= N``.
        """
        s, e = pd.to_datetime(pd.Series(start)), pd.to_datetime(pd.Series(end))
        ok = (s.notna() & e.notna()).to_numpy()
        out = np.full(len(s), np.nan)
        if ok.any():
            self._warn_uncovered(pd.concat([s[ok], e[ok]]))
            out[ok] = self.ordinal[self._index(e[ok])] - self.ordinal[self._index(s[ok])]
        return out

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The date that is ``n`` working days after ``start`` (the last day of an N-working-day limit)."""
        self._warn_uncovered([start])
        if n <= 0:
            return start  # no days to add (counting backwards is not a statutory use)
        i = self._index([start])[0]
        target = self.ordinal[i] + n
        j = int(np.searchsorted(self.ordinal, target, side="left"))
        if j >= len(self.days):
            raise ValueError(f"{start} + {n} working days is past {LAST_DAY}")
        return self.days[j].astype(dt.date)

    def as_frame(self) -> pd.DataFrame:
        """day, is_workday, workday_ordinal — the table the SQL deadline rules join."""
        return pd.DataFrame(
            {"day": self.days.astype("datetime64[ns]"), "is_workday": self.is_workday_arr, "workday_ordinal": self.ordinal}
        )


@lru_cache(maxsize=4)
def _default_calendar(holiday_file: str) -> WorkdayCalendar:
    extra = _read_holiday_file(holiday_file) if holiday_file else None
    return WorkdayCalendar(extra_holidays=extra)
