"""The limits the pipeline judges each month by, in one place, and the one decision that uses them.

A month (partition) is judged on its own numbers, never on a run's total: one month with 30%
untypeable records fails even when eleven clean months share the run. A share equal to the limit
passes; anything above it fails.

No Dagster and no database here: the staging and quality assets, the gate's durable record
(``dq.month_checks``) and the publishing guard all call :func:`months_over`.
"""
from __future__ import annotations

from typing import Mapping

# staging: records that could not be typed ÷ (staged + those records), per month (拒收率)
MAX_REJECT_SHARE = 0.05
# quality gate: quarantined rows ÷ staged rows, per month (错误率)
MAX_ERROR_SHARE = 0.10

# check name -> its default limit; the names are the Dagster asset-check names too
LIMITS = {"reject_share": MAX_REJECT_SHARE, "error_share": MAX_ERROR_SHARE}


def share(part: int, whole: int) -> float:
    """part ÷ whole, 0.0 for an empty month (nothing delivered is nothing wrong)."""
    return part / whole if whole else 0.0


def months_over(shares: Mapping[str, float], limit: float) -> list[str]:
    """The months whose share is above ``limit``, sorted."""
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"a share limit lies between 0 and 1, got {limit!r}")
    return sorted(m for m, s in shares.items() if s > limit)


def over_detail(shares: Mapping[str, float], limit: float) -> list[dict]:
    """The months over ``limit`` with their shares, for check metadata and messages."""
    return [{"month": m, "share": round(shares[m], 6), "limit": limit} for m in months_over(shares, limit)]
