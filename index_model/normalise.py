"""Normalisation of one indicator over the units (OECD/JRC Handbook 2008, step 5; COINr ``Normalise``).

Every function takes the raw values ``x`` of one indicator (1-D, ``NaN`` = missing, kept missing)
and its direction ``d`` (+1 / -1). Polarity is handled as in COINr: the values are multiplied
by ``d`` first, so after normalisation higher is always better.

=====================  ==================  =====================================================================
method                 COINr function      formula (``y = d*x``; statistics over non-missing units)
=====================  ==================  =====================================================================
``minmax``             ``n_minmax``        ``(y - min y) / (max y - min y) * (high - low) + low``
``zscore``             ``n_zscore``        ``(y - mean y) / sd(y) * sd_out + mean_out`` (sd with n-1)
``distance_to_target`` ``n_dist2targ``     ``(y - min y) / (d*target - min y)``, capped at 1 if ``cap``; then
                                           onto ``[low, high]``; ``reference`` = a number replaces ``min y``
                                           by a fixed lower reference (e.g. 0: fraction of target)
``percentile_rank``    ``n_prank``         ``(rank_asc(y, ties=min) - 1) / (n - 1)``, onto ``[low, high]``
``goalposts``          ``n_goalposts``     cap x to ``[lo, hi]`` (after ``ln`` if ``log``), then
                                           ``(x - lo)/(hi - lo)`` (or ``(hi - x)/(hi - lo)`` if d = -1) ``* scale``;
                                           fixed numbers from the spec: a unit's score depends on its
                                           own value only (the default spec, ``default_v2``)
=====================  ==================  =====================================================================

A ``reference`` array (e.g. the pooled values of several periods) may supply the statistics
(min/max, mean/sd, the distribution for percentile ranks) so that scores are comparable across
periods ("global normalisation" of COINr purses); by default the statistics come from ``x`` itself.

Constant indicators (max = min, or sd = 0) carry no information about the ordering of units: they
are returned as missing unless ``constant_value`` is given.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

__all__ = [
    "minmax",
    "zscore",
    "distance_to_target",
    "percentile_rank",
    "goalposts",
    "normalise",
    "rank_desc",
    "rank_asc_min",
]


def _arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _stats_source(y: np.ndarray, ref: np.ndarray | None) -> np.ndarray:
    src = y if ref is None else ref
    return src[~np.isnan(src)]


def _constant(y: np.ndarray, constant_value: float | None) -> np.ndarray:
    out = np.full_like(y, np.nan)
    if constant_value is not None:
        out[~np.isnan(y)] = constant_value
    return out


def minmax(x: Any, direction: int = 1, *, low: float = 0.0, high: float = 100.0, reference: Any = None,
           constant_value: float | None = None) -> np.ndarray:
    """Min-max onto ``[low, high]`` (COINr ``n_minmax(x, l_u = c(low, high))``)."""
    y = direction * _arr(x)
    src = _stats_source(y, None if reference is None else direction * _arr(reference))
    if src.size == 0:
        return np.full_like(y, np.nan)
    lo, hi = src.min(), src.max()
    if hi == lo:
        return _constant(y, constant_value)
    return (y - lo) / (hi - lo) * (high - low) + low


def zscore(x: Any, direction: int = 1, *, mean: float = 0.0, sd: float = 1.0, reference: Any = None,
           constant_value: float | None = None) -> np.ndarray:
    """Standardisation ``(y - mean)/sd * sd_out + mean_out`` (COINr ``n_zscore(x, m_sd = c(mean, sd))``)."""
    y = direction * _arr(x)
    src = _stats_source(y, None if reference is None else direction * _arr(reference))
    if src.size < 2:
        return np.full_like(y, np.nan)
    m = src.mean()
    s = src.std(ddof=1)
    if s == 0:
        return _constant(y, constant_value)
    return (y - m) / s * sd + mean


def distance_to_target(x: Any, target: float, direction: int = 1, *, low: float = 0.0, high: float = 100.0,
                       cap: bool = True, reference: Any = "min", data_reference: Any = None,
                       constant_value: float | None = None) -> np.ndarray:
    """Distance to a target (COINr ``n_dist2targ``), rescaled onto ``[low, high]``.

    ``y = (d*x - r) / (d*target - r)`` with ``r = min(d*x)`` (``reference="min"``) or ``r = d*reference``
    for a fixed numeric reference. Units at or beyond the target score ``high`` when ``cap``.
    If every unit meets the target (``d*target <= r``) all score ``high``.
    """
    y = direction * _arr(x)
    t = direction * float(target)
    if isinstance(reference, str):
        src = _stats_source(y, None if data_reference is None else direction * _arr(data_reference))
        if src.size == 0:
            return np.full_like(y, np.nan)
        r = src.min()
    else:
        r = direction * float(reference)
    out = np.full_like(y, np.nan)
    ok = ~np.isnan(y)
    if t <= r:  # every unit meets the target
        out[ok] = high
        return out
    z = (y - r) / (t - r)
    if cap:
        z = np.where(z > 1, 1.0, z)
    return z * (high - low) + low


def rank_asc_min(x: np.ndarray) -> np.ndarray:
    """Ascending competition rank (ties share the minimum), NaN kept: R ``rank(x, ties="min", na="keep")``."""
    x = _arr(x)
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    v = x[ok]
    s = np.sort(v)
    out[ok] = np.searchsorted(s, v, side="left") + 1
    return out


def rank_desc(x: Any, decimals: int | None = None) -> np.ndarray:
    """Descending competition rank, 1 = best, ties share the best (minimum) rank, NaN stays NaN.

    R ``rank(-x, ties.method = "min")``. With ``decimals`` the values are rounded first (the HDI
    ranks its published 3-decimal values).
    """
    v = _arr(x)
    if decimals is not None:
        v = np.round(v, decimals)
    return rank_asc_min(-v)


def percentile_rank(x: Any, direction: int = 1, *, low: float = 0.0, high: float = 1.0, reference: Any = None,
                    constant_value: float | None = None) -> np.ndarray:
    """Percentile rank ``(rank_asc(y, ties=min) - 1)/(n - 1)`` onto ``[low, high]`` (COINr ``n_prank``).

    With a ``reference`` distribution the rank of a value is ``#(reference < value)``.
    """
    y = direction * _arr(x)
    out = np.full_like(y, np.nan)
    ok = ~np.isnan(y)
    if reference is None:
        n = int(ok.sum())
        if n < 2:
            return out
        r = rank_asc_min(y)
        if np.nanmax(r) == 1:  # all tied
            return _constant(y, constant_value)
        z = (r - 1) / (n - 1)
    else:
        ref = direction * _arr(reference)
        ref = np.sort(ref[~np.isnan(ref)])
        n = ref.size
        if n < 2:
            return out
        z = np.full_like(y, np.nan)
        z[ok] = np.minimum(np.searchsorted(ref, y[ok], side="left") / (n - 1), 1.0)
    return z * (high - low) + low


def goalposts(x: Any, direction: int = 1, *, low: float, high: float, scale: float = 100.0, log: bool = False,
              constant_value: float | None = None) -> np.ndarray:
    """Fixed goalposts with capping (COINr ``n_goalposts``; UNDP HDI dimension indices)."""
    v = _arr(x)
    lo, hi = float(low), float(high)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(v)
        lo, hi = np.log(lo), np.log(hi)
    v = np.clip(v, lo, hi)
    z = (v - lo) / (hi - lo) if direction >= 0 else (hi - v) / (hi - lo)
    return z * scale


def normalise(x: Any, direction: int, params: Mapping[str, Any], *, target: float | None = None,
              reference: Any = None) -> np.ndarray:
    """Dispatch on ``params["method"]`` (a spec normalisation block)."""
    m = params.get("method", "minmax")
    cv = params.get("constant_value")
    if m == "minmax":
        return minmax(x, direction, low=params.get("low", 0.0), high=params.get("high", 100.0), reference=reference,
                      constant_value=cv)
    if m == "zscore":
        return zscore(x, direction, mean=params.get("mean", 0.0), sd=params.get("sd", 1.0), reference=reference,
                      constant_value=cv)
    if m == "percentile_rank":
        return percentile_rank(x, direction, low=params.get("low", 0.0), high=params.get("high", 1.0),
                               reference=reference, constant_value=cv)
    if m == "distance_to_target":
        if target is None:
            if params.get("fallback", "minmax") == "missing":
                return np.full(np.shape(x), np.nan)
            return minmax(x, direction, low=params.get("low", 0.0), high=params.get("high", 100.0),
                          reference=reference, constant_value=cv)
        return distance_to_target(x, target, direction, low=params.get("low", 0.0), high=params.get("high", 100.0),
                                  cap=params.get("cap", True), reference=params.get("reference", "min"),
                                  data_reference=reference, constant_value=cv)
    if m == "goalposts":
        if "low" not in params or "high" not in params:
            raise ValueError("goalposts normalisation needs 'low' and 'high' for each indicator")
        if params.get("relative_to"):
            raise ValueError("goalposts relative to a base value must be resolved to numbers first "
                             "(index_model.resolve_goalposts(spec, base))")
        return goalposts(x, direction, low=params["low"], high=params["high"], scale=params.get("scale", 100.0),
                         log=params.get("log", False), constant_value=cv)
    raise ValueError(f"unknown normalisation method {m!r}")
