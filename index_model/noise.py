"""Noise of indicator values and of their changes between periods (issue 9 point 4: "noise is measured,
not ranked"). Pure numpy/pandas/scipy, no Dagster.

Every rate is a count over a denominator, so its sampling noise follows from the counts stored beside
it (``mart.indicator_values``: numerator, denominator):

* ``binomial`` — a share ``k / n`` (pass rate, closure rate, label-failure share …): the Wilson score
  interval of ``k`` successes in ``n`` trials (``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``;
  Wilson 1927), times the indicator's scale.
* ``poisson`` — an incidence rate ``count x scale / exposure`` (complaints per 10k residents, accidents
  per 10k special-equipment units …): the exact (Garwood 1936) interval of a Poisson count,
  ``chi2.ppf(a/2, 2k)/2 … chi2.ppf(1-a/2, 2k+2)/2`` (``scipy.stats.chi2``), scaled by ``scale / exposure``.
* ``none`` — no sampling model (money ratio, median days, census-type yearbook figures): no interval;
  a change of such an indicator is reported as it is ("not measured"), never as noise.

A change between two periods is judged with the MOVER interval of the difference (method of variance
estimates recovery: Newcombe 1998, method 10, for two proportions; Zou & Donner 2008 in general): with
``d = v1 - v0`` and each period's interval ``[l, u]``::

    lower = d - sqrt((v1 - l1)^2 + (u0 - v0)^2)
    upper = d + sqrt((u1 - v1)^2 + (v0 - l0)^2)

The change **exceeds the indicator's noise** when this interval excludes 0; otherwise it is "within
noise" and is not attributed to the indicator (:func:`attribute_change`). Intervals use the raw counts
of each period (before any small-count shrinkage), so a city whose only change is a few more accidents
is told that its change is within noise.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chi2

__all__ = [
    "NOISE_MODELS", "DEFAULT_MODEL_BY_KIND", "wilson_interval", "poisson_interval", "value_interval",
    "change_interval", "noise_models", "noise_table", "attribute_change", "change_verdicts",
]

NOISE_MODELS = ("binomial", "poisson", "none")
# the sampling model of an indicator by the kind of its formula (indicators.definitions @kind); the spec's
# methods.noise.by_kind and an indicator's own ``noise`` override it
DEFAULT_MODEL_BY_KIND = {"share": "binomial", "per10k": "poisson", "ratio": "none", "median": "none",
                         "profile": "none"}
DEFAULT_LEVEL = 0.95


def _integral(x: float) -> int | None:
    """x as a non-negative int when it is one (to 1e-6), else None."""
    if x is None or not np.isfinite(x) or x < 0:
        return None
    r = round(float(x))
    return int(r) if abs(x - r) <= 1e-6 else None


def wilson_interval(successes, trials, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / trials`` (arrays; NaN where the counts are not whole
    numbers, ``trials`` is 0 or ``successes > trials``)."""
    k = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    lo = np.full(k.shape, np.nan)
    hi = np.full(k.shape, np.nan)
    for i, (a, b) in enumerate(zip(k, n)):
        ki, ni = _integral(a), _integral(b)
        if ki is None or ni is None or ni == 0 or ki > ni:
            continue
        ci = binomtest(ki, ni).proportion_ci(confidence_level=level, method="wilson")
        lo[i], hi[i] = float(ci.low), float(ci.high)
    return lo, hi


def poisson_interval(count, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson mean given the observed ``count`` (arrays; NaN for a
    count that is not a whole number >= 0). The lower limit of 0 events is 0."""
    c = np.atleast_1d(np.asarray(count, dtype=float))
    ok = np.array([_integral(x) is not None for x in c], dtype=bool)
    a = 1.0 - level
    cc = np.where(ok, np.round(c), 0.0)
    with np.errstate(invalid="ignore"):
        lo = np.where(cc > 0, chi2.ppf(a / 2, 2 * cc) / 2, 0.0)
        hi = chi2.ppf(1 - a / 2, 2 * cc + 2) / 2
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def value_interval(model: str, numerator, denominator, scale: float = 1.0,
                   level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``numerator / denominator x scale`` under ``model`` (see module doc)."""
    num = np.atleast_1d(np.asarray(numerator, dtype=float))
    den = np.atleast_1d(np.asarray(denominator, dtype=float))
    if model == "binomial":
        lo, hi = wilson_interval(num, den, level)
        return lo * scale, hi * scale
    if model == "poisson":
        lo, hi = poisson_interval(num, level)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(den > 0, scale / den, np.nan)
        return lo * f, hi * f
    if model == "none":
        return np.full(num.shape, np.nan), np.full(num.shape, np.nan)
    raise ValueError(f"unknown noise model {model!r} (one of {', '.join(NOISE_MODELS)})")


def change_interval(v0, lo0, hi0, v1, lo1, hi1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MOVER interval of ``v1 - v0`` from the two periods' intervals: (delta, lower, upper)."""
    v0, lo0, hi0, v1, lo1, hi1 = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (v0, lo0, hi0, v1, lo1, hi1))
    d = v1 - v0
    lower = d - np.sqrt((v1 - lo1) ** 2 + (hi0 - v0) ** 2)
    upper = d + np.sqrt((hi1 - v1) ** 2 + (v0 - lo0) ** 2)
    return d, lower, upper


def noise_models(spec: Any, kinds: Mapping[str, str]) -> dict[str, str]:
    """indicator id -> noise model: the indicator's own ``noise`` in the spec, else the spec's
    ``methods.noise.by_kind`` for its kind, else :data:`DEFAULT_MODEL_BY_KIND` (``none`` if the kind is unknown)."""
    by_kind = {**DEFAULT_MODEL_BY_KIND, **dict((getattr(spec.methods, "noise", None) or {}).get("by_kind") or {})}
    out = {}
    for ind in spec.indicators:
        own = getattr(ind, "noise", None)
        out[ind.id] = own if own else by_kind.get(kinds.get(ind.id, ""), "none")
    return out


def _interval_frame(frame: pd.DataFrame, models: Mapping[str, str], scales: Mapping[str, float],
                    level: float) -> pd.DataFrame:
    out = frame[["region_code", "indicator_id"]].copy()
    num = pd.to_numeric(frame["numerator"], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(frame["denominator"], errors="coerce").to_numpy(dtype=float)
    val = pd.to_numeric(frame["raw_value"] if "raw_value" in frame else frame["value"],
                        errors="coerce").to_numpy(dtype=float)
    lo = np.full(len(frame), np.nan)
    hi = np.full(len(frame), np.nan)
    ids = frame["indicator_id"].to_numpy()
    for iid in pd.unique(ids):
        m = ids == iid
        lo[m], hi[m] = value_interval(models.get(iid, "none"), num[m], den[m], float(scales.get(iid, 1.0)), level)
    out["value"], out["low"], out["high"] = val, lo, hi
    out["numerator"], out["denominator"] = num, den
    return out


def noise_table(before: pd.DataFrame, after: pd.DataFrame, models: Mapping[str, str],
                scales: Mapping[str, float] | None = None, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Per region and indicator: each period's value and interval and the change with its MOVER interval.

    ``before`` / ``after``: long frames with region_code, indicator_id, numerator, denominator and
    raw_value (or value) — rows of ``mart.indicator_values``. ``scales``: indicator id -> the factor of
    ``numerator / denominator`` (10000 for per-10k rates; default 1).

    Columns: region_code, indicator_id, model, value_before, low_before, high_before, numerator_before,
    denominator_before, value_after, low_after, high_after, numerator_after, denominator_after, delta,
    delta_low, delta_high, beyond_noise (True / False; <NA> when the indicator has no interval or a
    period lacks a value).
    """
    scales = dict(scales or {})
    a = _interval_frame(after, models, scales, level)
    b = _interval_frame(before, models, scales, level)
    t = a.merge(b, on=["region_code", "indicator_id"], how="left", suffixes=("_after", "_before"))
    d, lo, hi = change_interval(t["value_before"], t["low_before"], t["high_before"],
                                t["value_after"], t["low_after"], t["high_after"])
    t["delta"], t["delta_low"], t["delta_high"] = d, lo, hi
    measured = ~np.isnan(lo) & ~np.isnan(hi)
    beyond = pd.array([bool(x) if m else pd.NA for x, m in zip((lo > 0) | (hi < 0), measured)], dtype="boolean")
    t["beyond_noise"] = beyond
    t["model"] = t["indicator_id"].map(lambda i: models.get(i, "none"))
    cols = ["region_code", "indicator_id", "model"] + [f"{c}_{p}" for p in ("before", "after")
                                                       for c in ("value", "low", "high", "numerator", "denominator")]
    return t[cols + ["delta", "delta_low", "delta_high", "beyond_noise"]].reset_index(drop=True)


def attribute_change(effects: pd.DataFrame, noise: pd.DataFrame) -> pd.DataFrame:
    """The indicator effects of :func:`index_model.explain_change` with the noise verdict of their change.

    Adds ``beyond_noise`` (as in :func:`noise_table`) and ``attributed``: an indicator effect is attributed
    to the indicator unless its change is within noise (``beyond_noise`` False). Effects of other kinds
    (weight, coverage) and indicators without an interval stay attributed."""
    e = effects.copy()
    nz = noise[["region_code", "indicator_id", "beyond_noise"]].rename(
        columns={"region_code": "unit", "indicator_id": "component_id"})
    e = e.merge(nz, on=["unit", "component_id"], how="left")
    is_ind = e["kind"].eq("indicator")
    e["beyond_noise"] = e["beyond_noise"].astype("boolean").where(is_ind, pd.NA)
    e["attributed"] = ~(is_ind & e["beyond_noise"].eq(False).fillna(False))
    return e


def change_verdicts(summary: pd.DataFrame, attributed: pd.DataFrame, n_drivers: int = 2) -> pd.DataFrame:
    """Per unit: the score change, the part carried by changes beyond noise (``signal``) and within noise
    (``noise``), the largest attributed drivers, and the verdict ``within_noise`` (no effect is attributed:
    every indicator that moved moved within its noise), ``attributed`` or ``unchanged`` (nothing moved).

    ``summary`` / ``attributed``: :func:`index_model.explain_change` summary and :func:`attribute_change`
    effects. Columns: unit, delta, signal, noise, verdict, drivers (list of (component_id, effect))."""
    rows = []
    for r in summary.itertuples():
        e = attributed[attributed["unit"] == r.unit]
        if pd.isna(r.delta):
            rows.append({"unit": r.unit, "delta": np.nan, "signal": np.nan, "noise": np.nan, "verdict": None,
                         "drivers": []})
            continue
        sig = e[e["attributed"]]
        top = sig.reindex(sig["effect"].abs().sort_values(ascending=False).index)
        top = top[top["effect"].abs() > 0].head(n_drivers)
        rows.append({
            "unit": r.unit, "delta": float(r.delta), "signal": float(sig["effect"].sum()),
            "noise": float(e.loc[~e["attributed"], "effect"].sum()),
            "verdict": "attributed" if len(top) else ("unchanged" if r.delta == 0 and not len(e[e["effect"] != 0])
                                                      else "within_noise"),
            "drivers": [(c, float(v)) for c, v in zip(top["component_id"], top["effect"])],
        })
    return pd.DataFrame(rows, columns=["unit", "delta", "signal", "noise", "verdict", "drivers"])
