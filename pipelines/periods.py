"""Index periods as Dagster partitions, in plain Python (no Dagster here; ``pipelines/partitions.py``
builds the partition definitions from these names).

The index and report assets come in two families, one per grain: years (partition key ``2025``)
and quarters (partition key ``2025-04-01``, the quarter's first day: a time-window key, so that
Dagster's built-in time-window mapping, which the UI and the automation daemon understand, maps the
monthly clean partitions onto them). A month belongs to exactly one year and one quarter: May 2025
-> ``2025`` and ``2025Q2``. Half-years (``2025H1``) are no partition: ``cei index`` and ``cei report``
compute them on demand.
"""
from __future__ import annotations

import re

GRAINS = ("year", "quarter")
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_QUARTER_KEY = re.compile(r"^(\d{4})-(01|04|07|10)-01$")


def grain_of(period: str) -> str:
    """``year`` for ``2025``, ``quarter`` for ``2025Q2``; ValueError for anything else (2025H1 too)."""
    if _YEAR.match(period):
        return "year"
    if _QUARTER.match(period):
        return "quarter"
    raise ValueError(f"period {period!r} is not an index partition: a year (2025) or a quarter (2025Q2)")


def partition_period_key(period: str) -> str:
    """The period dimension's key: ``2025`` -> ``2025``, ``2025Q2`` -> ``2025-04-01``."""
    if grain_of(period) == "year":
        return period
    year, q = _QUARTER.match(period).groups()
    return f"{year}-{3 * (int(q) - 1) + 1:02d}-01"


def period_of_key(key: str) -> str:
    """Back from a period dimension key: ``2025`` -> ``2025``, ``2025-04-01`` -> ``2025Q2``."""
    if _YEAR.match(key):
        return key
    m = _QUARTER_KEY.match(key)
    if not m:
        raise ValueError(f"{key!r} is no year or quarter partition key")
    return f"{m.group(1)}Q{(int(m.group(2)) - 1) // 3 + 1}"


def periods_of_month(month: str) -> list[str]:
    """The index periods a month belongs to: ``2025-05`` -> ``['2025', '2025Q2']``."""
    year, mon = month[:4], int(month[5:7])
    return [year, f"{year}Q{(mon - 1) // 3 + 1}"]


def report_folder_name(scope: str, period: str, lang: str = "zh") -> str:
    """``32_2025`` (``32_2025_en`` in English): the folder `cei report` and `cei run` write."""
    return f"{scope}_{period}" if lang == "zh" else f"{scope}_{period}_{lang}"

