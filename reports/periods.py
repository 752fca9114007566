"""Report periods: a year (``2025``), a half (``2025H1``), a quarter (``2025Q3``) or a month (``2025-03``).

A period is a half-open date range ``[start, end)``; SQL receives ``start``/``end`` as bound
parameters and filters ``x >= $start AND x < $end``, so no period value is ever spliced into SQL.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PATTERNS = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})H([12])$"), "half"),
    (re.compile(r"^(\d{4})Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-?(0[1-9]|1[0-2])$"), "month"),
)


def add_months(d: dt.date, n: int) -> dt.date:
    """First day of the month ``n`` months after (or before, n < 0) the month of ``d``."""
    k = d.year * 12 + (d.month - 1) + n
    return dt.date(k // 12, k % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    key: str  # canonical form: 2025 | 2025H1 | 2025Q3 | 2025-03
    kind: str  # year | half | quarter | month
    start: dt.date  # first day
    end: dt.date  # first day after the period (exclusive)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def months(self) -> list[dt.date]:
        """First day of every month in the period."""
        out, m = [], self.start
        while m < self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    @property
    def start_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    @property
    def end_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time())

    def label(self, lang: str = "zh") -> str:
        y = self.start.year
        if self.kind == "year":
            return f"{y}年" if lang == "zh" else str(y)
        if self.kind == "half":
            h = 1 if self.start.month == 1 else 2
            return (f"{y}年{'上' if h == 1 else '下'}半年") if lang == "zh" else f"{y} H{h}"
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return f"{y}年第{'一二三四'[q - 1]}季度" if lang == "zh" else f"{y} Q{q}"
        return f"{y}年{self.start.month}月" if lang == "zh" else self.start.strftime("%Y-%m")


def parse_period(period: str | Period) -> Period:
    """``2025`` / ``2025H1`` / ``2025Q3`` / ``2025-03`` (also ``202503``) -> :class:`Period`."""
    if isinstance(period, Period):
        return period
    s = str(period).strip().upper()
    for pattern, kind in _PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        y = int(m.group(1))
        if kind == "year":
            return Period(f"{y}", kind, dt.date(y, 1, 1), dt.date(y + 1, 1, 1))
        n = int(m.group(2))
        if kind == "half":
            start = dt.date(y, 1 + 6 * (n - 1), 1)
            return Period(f"{y}H{n}", kind, start, add_months(start, 6))
        if kind == "quarter":
            start = dt.date(y, 1 + 3 * (n - 1), 1)
            return Period(f"{y}Q{n}", kind, start, add_months(start, 3))
        start = dt.date(y, n, 1)
        return Period(f"{y}-{n:02d}", kind, start, add_months(start, 1))
    raise ValueError(f"period {period!r}: expected YYYY, YYYYH1/H2, YYYYQ1..Q4 or YYYY-MM")
