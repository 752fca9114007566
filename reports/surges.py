"""Surge (异常激增) detection on monthly complaint counts.

Two implementations of one method: :func:`detect_surges` (pandas, for the families whose size does not
grow with the records: categories, unit × category cells) and the respondent family, tested whole in
DuckDB (``sql/reports/complaints_respondent_surges.sql`` with :func:`binom_sf_udf`; issue 12: the
respondents with 10+ records in a month grow with N, so Python only receives the surges). The binomial
tail and Benjamini–Hochberg are scipy's (``scipy.stats.binom.sf``, ``false_discovery_control``).

Method (stated on the 12315 analysis page via :func:`describe`):

For one series (a category, a unit × category cell, a respondent) and a tested month *m*, let
``x`` be the count in *m* and ``S`` the sum over the ``k`` previous months (up to
``baseline_months`` = 12; months before the data begin are not counted, and a month is tested only
when ``k >= min_baseline_months``). If the monthly counts are Poisson with one common rate, then
conditionally on ``x + S`` the count ``x`` is Binomial(``x + S``, 1 / (k + 1)) — the exact
conditional test of a Poisson rate ratio. The one-sided p-value is ``P(X >= x)``; it needs no
estimated rate, so a series with an empty baseline (a new respondent) is handled exactly.

Within one family of series (all categories; all unit × category cells; all respondents) the
p-values of the cells tested are adjusted with Benjamini–Hochberg. A cell is a **surge** when

* BH-adjusted q <= ``fdr_q`` (0.01), and
* ``x >= min_count`` (10 records: a rate from a handful of records is noise), and
* ``x >= min_ratio`` × the baseline mean ``S / k`` (2×: effect size, guards against seasonal
  over-dispersion, e.g. the 3·15 and 双11 peaks, that a Poisson model understates).

BH's *m* is every series × tested month of the family with enough history (not only the cells
that pass the minimum count, which would make the selection itself look significant). Cells below
the minimum count cannot be flagged and enter the adjustment with p = 1 — conservative: giving them
their true, possibly smaller, p-values could only lower the others' q-values. Series the SQL did
not return (respondents never reaching the minimum count) are added to *m* the same way through
``extra_cells`` (in the SQL version: every respondent with a record in a tested month). Since the
padded cells all have p = 1, BH's q over the tested cells is ``min(1, min_{j >= i} p_(j) m / j)`` over
those cells alone — a window over the candidate cells in SQL, whatever *m* is.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class SurgeMethod:
    baseline_months: int = 12
    min_baseline_months: int = 6
    min_count: int = 10
    min_ratio: float = 2.0
    fdr_q: float = 0.01


DEFAULT_METHOD = SurgeMethod()


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): ``scipy.stats.binom.sf(k - 1, n, p)`` (what ``binomtest(k, n, p,
    alternative="greater")`` returns), accurate far into the tail."""
    return float(stats.binom.sf(int(k) - 1, int(n), float(p)))


def binom_sf_array(k, n, p) -> np.ndarray:
    """:func:`binom_sf` on arrays (one scipy call for a whole batch)."""
    return stats.binom.sf(np.asarray(k, dtype=np.int64) - 1, np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float))


def rate_ratio_pvalue(x: int, baseline: Sequence[int]) -> float:
    """One-sided exact p-value that ``x`` exceeds the common Poisson rate of ``baseline`` months."""
    k = len(baseline)
    if k == 0:
        return float("nan")
    s = int(sum(baseline))
    return binom_sf(int(x), int(x) + s, 1.0 / (k + 1))


def benjamini_hochberg(pvalues: Iterable[float]) -> np.ndarray:
    """BH-adjusted p-values (q-values, ``scipy.stats.false_discovery_control``), same order as the input;
    NaN stays NaN and is not counted in *m*."""
    p = np.asarray(list(pvalues), dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


UDF_NAME = "cei_binom_sf"


@contextmanager
def binom_sf_udf(con):
    """Register ``cei_binom_sf(k BIGINT, n BIGINT, p DOUBLE) -> DOUBLE`` (= :func:`binom_sf`) on ``con`` for the
    duration of the block: a vectorised Arrow UDF, so DuckDB hands scipy one batch (2,048 cells) at a time
    and the surge test runs in SQL whatever the number of cells (``sql/reports/complaints_respondent_surges.sql``)."""
    import pyarrow as pa
    from duckdb.sqltypes import BIGINT, DOUBLE

    def udf(k, n, p):
        return pa.array(binom_sf_array(k.to_numpy(), n.to_numpy(), p.to_numpy()), type=pa.float64())

    con.create_function(UDF_NAME, udf, [BIGINT, BIGINT, DOUBLE], DOUBLE, type="arrow", side_effects=False)
    try:
        yield con
    finally:
        con.remove_function(UDF_NAME)


def _month_no(d) -> int:
    ts = pd.Timestamp(d)
    return ts.year * 12 + ts.month - 1


def _month_date(no: int):
    return pd.Timestamp(year=no // 12, month=no % 12 + 1, day=1).date()


def months_with_history(test_months: Iterable, observed_from, method: SurgeMethod = DEFAULT_METHOD) -> list:
    """The months of ``test_months`` whose baseline has at least ``min_baseline_months`` observed months."""
    first = _month_no(observed_from) if observed_from is not None else None
    out = []
    for m in test_months:
        t = _month_no(m)
        k = sum(1 for b in range(t - method.baseline_months, t) if first is None or b >= first)
        if k >= method.min_baseline_months:
            out.append(m)
    return out


RESULT_COLUMNS = ["month", "count", "baseline_months", "baseline_sum", "expected", "ratio", "p_value", "q_value",
                  "surge"]


def detect_surges(counts: pd.DataFrame, keys: Sequence[str], test_months: Iterable, *,
                  observed_from=None, method: SurgeMethod = DEFAULT_METHOD, extra_cells: int = 0,
                  month_col: str = "month", count_col: str = "n") -> pd.DataFrame:
    """Test every series × month of ``test_months``; one row per cell with ``x >= min_count``, surges first.

    ``counts``: long frame (``keys`` + ``month_col`` + ``count_col``); months absent for a series
    are zero. ``observed_from``: first month the data cover (default: the earliest month in
    ``counts``); earlier months are not part of any baseline. ``extra_cells``: further cells of the
    family not in ``counts`` (they count in BH's *m* with p = 1). The frame's ``attrs`` carry
    ``tested`` (BH's *m*), ``untested_history`` (cells with x >= min_count but too little history)
    and ``method``.
    """
    keys = list(keys)
    tests = sorted({_month_no(m) for m in test_months})
    empty = pd.DataFrame(columns=keys + RESULT_COLUMNS)
    # no series above the minimum: the family is still every cell tested (those given as extra cells)
    empty.attrs.update(tested=int(extra_cells) if tests else 0, untested_history=0, method=method)
    if counts is None or counts.empty or not tests:
        return empty
    df = counts[keys + [month_col, count_col]].copy()
    df["_m"] = [_month_no(m) for m in df[month_col]]
    first = _month_no(observed_from) if observed_from is not None else int(df["_m"].min())
    lo = min(tests) - method.baseline_months
    hi = max(tests)
    df = df[(df["_m"] >= lo) & (df["_m"] <= hi)]
    if df.empty:
        return empty
    wide = df.pivot_table(index=keys, columns="_m", values=count_col, aggfunc="sum", fill_value=0)
    months = list(range(lo, hi + 1))
    wide = wide.reindex(columns=months, fill_value=0)
    mat = wide.to_numpy(dtype=np.int64)
    col = {m: i for i, m in enumerate(months)}
    rows = []
    untested = 0
    family = int(extra_cells)
    for t in tests:
        x = mat[:, col[t]]
        base_cols = [col[b] for b in range(t - method.baseline_months, t) if b >= first]
        k = len(base_cols)
        cand = x >= method.min_count
        if k < method.min_baseline_months:
            untested += int(cand.sum())
            continue
        family += len(x)
        s = mat[:, base_cols].sum(axis=1)
        for i in np.flatnonzero(cand):
            xi, si = int(x[i]), int(s[i])
            expected = si / k
            rows.append((i, t, xi, k, si, expected, (xi / expected) if expected > 0 else math.inf))
    if not rows:
        empty.attrs.update(tested=family, untested_history=untested)
        return empty
    res = pd.DataFrame(rows, columns=["_row", "_m", "count", "baseline_months", "baseline_sum", "expected", "ratio"])
    res["p_value"] = binom_sf_array(res["count"], res["count"] + res["baseline_sum"], 1.0 / (res["baseline_months"] + 1))
    padding = max(0, family - len(res))  # the family's other cells, p = 1
    res["q_value"] = benjamini_hochberg(np.concatenate([res["p_value"].to_numpy(), np.ones(padding)]))[:len(res)]
    res["surge"] = ((res["q_value"] <= method.fdr_q) & (res["count"] >= method.min_count)
                    & (res["count"] >= method.min_ratio * res["expected"]))
    idx = wide.index[res["_row"].to_numpy()]
    key_frame = idx.to_frame(index=False) if isinstance(idx, pd.MultiIndex) else pd.DataFrame({keys[0]: idx})
    out = pd.concat([key_frame.reset_index(drop=True), res.drop(columns=["_row"])], axis=1)
    out["month"] = [_month_date(m) for m in out["_m"]]
    out = out.drop(columns=["_m"])[keys + RESULT_COLUMNS]
    out = out.sort_values(["surge", "p_value", "count"], ascending=[False, True, False], kind="mergesort")
    out = out.reset_index(drop=True)
    out.attrs.update(tested=max(family, len(out)), untested_history=untested, method=method)
    return out


def surges_from_sql(frame: pd.DataFrame, keys: Sequence[str], method: SurgeMethod = DEFAULT_METHOD) -> pd.DataFrame:
    """The result of a family tested in SQL (``sql/reports/complaints_respondent_surges.sql``) in the shape
    :func:`detect_surges` returns, but holding the surges only (what the report shows): ``keys`` +
    ``RESULT_COLUMNS`` + the query's other columns, ``attrs`` ``tested`` / ``untested_history`` / ``method``
    from the query's count columns (a single row with NULL keys when nothing surged)."""
    keys = list(keys)
    tested = int(frame["tested"].iloc[0]) if len(frame) else 0
    untested = int(frame["untested_history"].iloc[0]) if len(frame) else 0
    out = frame[frame[keys[0]].notna()].drop(columns=["tested", "untested_history"]).reset_index(drop=True)
    out["month"] = [pd.Timestamp(m).date() for m in out["month"]]
    out["surge"] = True
    for c in ("count", "baseline_months", "baseline_sum"):
        out[c] = out[c].astype("int64")
    out = out[keys + RESULT_COLUMNS + [c for c in out.columns if c not in keys + RESULT_COLUMNS]]
    out.attrs.update(tested=tested, untested_history=untested, method=method)
    return out
