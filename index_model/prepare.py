"""Data preparation before normalisation: denominate, small counts, impute, screen, treat outliers.

Order (as in COINr's reference pipeline ``build_example_coin``): denominate -> small-count
treatment -> impute -> screen units -> treat outliers -> (normalise). Each step is optional and
driven by the spec's ``methods`` block; each returns new tables and a record of what changed.

* Denominate (COINr ``Denominate``): ``x / denominator`` for indicators naming a data column.
* Small counts (DESIGN.md §4 "small regions"): a value resting on fewer than ``min_records``
  records is ``shrink`` -ed toward the pooled value, set ``missing``, or only ``flag`` -ged.
  Shrinkage is limited-fluctuation credibility (Longley-Cook 1962, the actuarial "square-root
  rule"): ``x' = Z x + (1 - Z) p``, ``Z = min(1, sqrt(n / min_records))``, ``p`` = the
  record-weighted mean of the indicator over all units ``sum(n_i x_i)/sum(n_i)`` (for a rate with
  ``n`` = its denominator this is the pooled rate). ``Z`` reaches 1 at ``min_records``, so values
  with enough records are untouched and there is no jump at the threshold.
* Impute (COINr ``Impute``): ``mean`` / ``median`` of the indicator, or of the units of the same
  group (``group_mean`` / ``group_median``, COINr ``i_mean_grp``); missing values that remain
  (empty group) stay missing.
* Screen (COINr ``Screen``, ``dat_thresh``): units whose share of non-missing indicators is below
  ``min_unit_coverage`` are excluded from the index.
* Treat (COINr ``Treat`` defaults): an indicator passes if ``|skew| < 2`` OR ``kurtosis < 3.5``
  (sample skewness and excess kurtosis as Excel SKEW/KURT, e1071 type 2). A failing indicator is
  winsorised: while failing and fewer than ``max_points`` points are winsorised, the value(s) equal
  to the maximum (skew >= 0) are replaced by the largest remaining value (minimum/smallest when
  skew < 0); the count is the size of the last winsorised group (COINr ``winsorise``). If it
  still fails, the ORIGINAL column is log-transformed ``log(x - min + 0.01 (max - min))`` (COINr
  ``log_CT``) unless ``fallback: none``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "denominate",
    "small_counts",
    "impute",
    "screen_units",
    "skew",
    "kurt",
    "check_skew_kurt",
    "winsorise",
    "log_ct",
    "treat_outliers",
]


def denominate(values: pd.DataFrame, data: pd.DataFrame, denominators: Mapping[str, str]) -> pd.DataFrame:
    """Divide each indicator named in ``denominators`` by that data column (units aligned by index)."""
    out = values.copy()
    for ind, col in denominators.items():
        den = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = out[ind].to_numpy(dtype=float) / den
        v[~np.isfinite(v)] = np.nan
        out[ind] = v
    return out


def small_counts(values: pd.DataFrame, counts: pd.DataFrame | None, min_records: Mapping[str, int],
                 treatment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the small-count treatment. Returns (values, flags); flags list every value under its minimum."""
    cols = ["unit", "indicator", "record_count", "min_records", "treatment", "value_before", "value_after",
            "credibility", "pooled_value"]
    out = values.copy()
    rows: list[dict[str, Any]] = []
    if counts is None or treatment == "none":
        return out, pd.DataFrame(columns=cols)
    for ind, k in min_records.items():
        if k <= 0 or ind not in counts.columns:
            continue
        x = out[ind].to_numpy(dtype=float)
        n = pd.to_numeric(counts[ind], errors="coerce").reindex(out.index).to_numpy(dtype=float)
        have = ~np.isnan(x) & ~np.isnan(n)
        small = have & (n < k)
        if not small.any():
            continue
        wsum = np.nansum(np.where(have, n, 0.0))
        pooled = float(np.nansum(np.where(have, n * x, 0.0)) / wsum) if wsum > 0 else float(np.nanmean(x[have]))
        z = np.minimum(1.0, np.sqrt(np.clip(n, 0, None) / k))
        new = x.copy()
        if treatment == "shrink":
            new[small] = z[small] * x[small] + (1 - z[small]) * pooled
        elif treatment == "missing":
            new[small] = np.nan
        for i in np.where(small)[0]:
            rows.append({"unit": out.index[i], "indicator": ind, "record_count": n[i], "min_records": k,
                         "treatment": treatment, "value_before": x[i], "value_after": new[i],
                         "credibility": z[i] if treatment == "shrink" else np.nan,
                         "pooled_value": pooled if treatment == "shrink" else np.nan})
        out[ind] = new
    return out, pd.DataFrame(rows, columns=cols)


def impute(values: pd.DataFrame, method: str = "none", groups: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing values. Returns (values, mask of imputed cells)."""
    out = values.copy()
    before = out.isna()
    if method == "none":
        return out, before & False
    if method in ("mean", "median"):
        fill = out.mean() if method == "mean" else out.median()
        out = out.fillna(fill)
    elif method in ("group_mean", "group_median"):
        if groups is None:
            raise ValueError(f"imputation {method} needs a group column")
        g = groups.reindex(out.index)
        how = "mean" if method == "group_mean" else "median"
        fill = out.groupby(g, dropna=False).transform(how)
        out = out.where(~before, fill)
    else:
        raise ValueError(f"unknown imputation method {method!r}")
    return out, before & out.notna()


def screen_units(values: pd.DataFrame, min_unit_coverage: float) -> pd.Series:
    """Boolean Series: True = unit kept (share of non-missing indicators >= threshold)."""
    coverage = values.notna().mean(axis=1)
    return coverage >= min_unit_coverage - 1e-12


def skew(x: np.ndarray) -> float:
    """Sample-adjusted skewness (Excel SKEW, e1071 type 2, COINr ``skew``); NaN ignored."""
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 3:
        return float("nan")
    d = v - v.mean()
    m2 = np.sum(d ** 2)
    if m2 == 0:
        return 0.0
    y = np.sqrt(n) * np.sum(d ** 3) / m2 ** 1.5
    return float(y * np.sqrt(n * (n - 1)) / (n - 2))


def kurt(x: np.ndarray) -> float:
    """Sample excess kurtosis (Excel KURT, e1071 type 2, COINr ``kurt``); NaN ignored."""
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 4:
        return float("nan")
    d = v - v.mean()
    m2 = np.sum(d ** 2)
    if m2 == 0:
        return float("nan")
    r = n * np.sum(d ** 4) / m2 ** 2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def check_skew_kurt(x: np.ndarray, skew_threshold: float = 2.0, kurtosis_threshold: float = 3.5) -> tuple[bool, float, float]:
    """COINr ``check_SkewKurt``: passes if ``|skew| < skew_threshold`` OR ``kurt < kurtosis_threshold``."""
    s, k = skew(x), kurt(x)
    if np.isnan(s) or np.isnan(k):
        return True, s, k
    return bool(abs(s) < skew_threshold or k < kurtosis_threshold), s, k


def winsorise(x: np.ndarray, max_points: int = 5, skew_threshold: float = 2.0,
              kurtosis_threshold: float = 3.5) -> tuple[np.ndarray, int, np.ndarray]:
    """COINr ``winsorise``: returns (treated values, points winsorised, labels 'winhi'/'winlo'/'')."""
    v = np.asarray(x, dtype=float).copy()
    passing = check_skew_kurt(v, skew_threshold, kurtosis_threshold)[0]
    imax: np.ndarray = np.array([], dtype=int)
    imin: np.ndarray = np.array([], dtype=int)
    nwin = 0
    while not passing and nwin < max_points:
        ok = ~np.isnan(v)
        if skew(v) >= 0:
            mx = np.nanmax(v)
            imax = np.where(ok & (v == mx))[0]
            rest = v[ok & (v != mx)]
            if rest.size == 0:
                break
            v[imax] = rest.max()
        else:
            mn = np.nanmin(v)
            imin = np.where(ok & (v == mn))[0]
            rest = v[ok & (v != mn)]
            if rest.size == 0:
                break
            v[imin] = rest.min()
        nwin = int(imax.size + imin.size)
        passing = check_skew_kurt(v, skew_threshold, kurtosis_threshold)[0]
    labels = np.full(v.shape, "", dtype=object)
    labels[imax] = "winhi"
    labels[imin] = "winlo"
    return v, nwin, labels


def log_ct(x: np.ndarray) -> np.ndarray:
    """COIN Tool log transform ``log(x - min + 0.01 (max - min))`` (COINr ``log_CT``)."""
    v = np.asarray(x, dtype=float)
    lo, hi = np.nanmin(v), np.nanmax(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(v - lo + 0.01 * (hi - lo))


def treat_outliers(values: pd.DataFrame, params: Mapping[str, Any], exempt: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Skew/kurtosis-triggered winsorisation with log fallback, column by column.

    Returns (treated values, log with one row per indicator, labels of treated points).
    """
    st = float(params.get("skew_threshold", 2.0))
    kt = float(params.get("kurtosis_threshold", 3.5))
    wmax = int(params.get("max_points", 5))
    fallback = params.get("fallback", "log_ct")
    out = values.copy()
    points = pd.DataFrame("", index=values.index, columns=values.columns)
    rows = []
    for col in values.columns:
        x = values[col].to_numpy(dtype=float)
        row: dict[str, Any] = {"indicator": col}
        if col in exempt or np.sum(~np.isnan(x)) < 4:
            row.update(pass_before=True, skew_before=skew(x), kurt_before=kurt(x), treated="exempt" if col in exempt else "too few values")
            rows.append(row)
            continue
        ok0, s0, k0 = check_skew_kurt(x, st, kt)
        row.update(pass_before=ok0, skew_before=s0, kurt_before=k0)
        if ok0:
            row["treated"] = ""
            rows.append(row)
            continue
        xw, nwin, labels = winsorise(x, wmax, st, kt)
        ok1, s1, k1 = check_skew_kurt(xw, st, kt)
        row.update(n_winsorised=nwin, pass_after=ok1, skew_after=s1, kurt_after=k1, treated="winsorise")
        final = xw
        if not ok1 and fallback == "log_ct":
            final = log_ct(x)
            ok2, s2, k2 = check_skew_kurt(final, st, kt)
            row.update(treated="log_ct", pass_after_fallback=ok2, skew_after_fallback=s2, kurt_after_fallback=k2)
            labels = np.where(labels == "", "log_ct", labels + "+log_ct")
        out[col] = final
        points[col] = labels
        rows.append(row)
    log = pd.DataFrame(rows)
    for c in ("pass_before", "skew_before", "kurt_before", "n_winsorised", "pass_after", "skew_after", "kurt_after", "treated"):
        if c not in log.columns:
            log[c] = np.nan
    return out, log, points
