"""Index periods: a year (``2025``), a half-year (``2025H1``), a quarter (``2025Q3``) or a month (``2025-03``).

A period is a closed date range ``[start, end]``; the SQL receives both ends as DATE parameters
(``$period_start``, ``$period_end``) and the period's calendar year (``$year``, for region profiles).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["Period", "parse_period"]

_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:[-_ ]?\s*(?:(H)([12])|(Q)([1-4])|(M?)(\d{1,2})))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    label: str  # canonical: 2025 | 2025H1 | 2025Q3 | 2025-03
    kind: str  # year | half | quarter | month
    year: int
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_period(period: str | int | Period) -> Period:
    """``2025`` / ``2025H1`` / ``2025Q3`` / ``2025-03`` -> :class:`Period` (ValueError otherwise)."""
    if isinstance(period, Period):
        return period
    text = str(period)
    m = _PATTERN.match(text)
    if not m:
        raise ValueError(f"period {text!r}: expected a year (2025), half-year (2025H1), quarter (2025Q3) or month (2025-03)")
    year = int(m.group(1))
    if not 1900 <= year <= 2100:
        raise ValueError(f"period {text!r}: year {year} out of range")
    if m.group(2):
        h = int(m.group(3))
        first = 1 + 6 * (h - 1)
        return Period(f"{year}H{h}", "half", year, dt.date(year, first, 1), _month_end(year, first + 5))
    if m.group(4):
        q = int(m.group(5))
        first = 1 + 3 * (q - 1)
        return Period(f"{year}Q{q}", "quarter", year, dt.date(year, first, 1), _month_end(year, first + 2))
    if m.group(7):
        month = int(m.group(7))
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r}: month {month} out of range")
        return Period(f"{year}-{month:02d}", "month", year, dt.date(year, month, 1), _month_end(year, month))
    return Period(str(year), "year", year, dt.date(year, 1, 1), dt.date(year, 12, 31))
