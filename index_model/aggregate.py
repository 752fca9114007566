"""Aggregation, ranking and grade bands (OECD/JRC Handbook 2008, step 6-7; COINr ``Aggregate``).

* ``arithmetic`` — weighted arithmetic mean ``sum(w_i x_i) / sum(w_i)`` (COINr ``a_amean``), fully
  compensatory.
* ``geometric`` — weighted geometric mean ``exp(sum(w_i ln x_i) / sum(w_i))`` (COINr ``a_gmean``),
  partially compensatory; needs strictly positive values (normalise onto e.g. [1, 100]), otherwise
  :class:`AggregationError` names the node and units.

Missing children are skipped and the weights of the others renormalised (COINr's rule). A unit's
parent is missing when the share of its children that are present is below ``min_coverage``
(COINr ``dat_thresh``; count-based, 0 = any one child suffices).

Ranks: descending competition ranks, ties share the best rank (1, 2, 2, 4), missing stays missing.
Grades: the first band whose minimum the score reaches (bands ordered from best to worst).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .normalise import rank_desc

__all__ = ["AggregationError", "aggregate", "arithmetic_mean", "geometric_mean", "renormalised_weights",
           "rank_desc", "rank_matrix", "grade"]


class AggregationError(ValueError):
    """Aggregation impossible (e.g. geometric mean of a zero or negative value)."""


def renormalised_weights(values: np.ndarray, weights: Sequence[float], min_coverage: float = 0.0) -> np.ndarray:
    """Per-unit weights after dropping missing children: rows sum to 1, or are all NaN when the unit is missing.

    ``values`` is units x children. The returned matrix has the same shape.
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    present = ~np.isnan(x)
    wp = np.where(present, w[None, :], 0.0)
    tot = wp.sum(axis=1, keepdims=True)
    coverage = present.mean(axis=1) if x.shape[1] else np.zeros(x.shape[0])
    ok = (present.any(axis=1)) & (coverage >= min_coverage - 1e-12) & (tot[:, 0] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = wp / tot
    out[~ok, :] = np.nan
    return out


def arithmetic_mean(values: np.ndarray, weights: Sequence[float], min_coverage: float = 0.0) -> np.ndarray:
    """COINr ``a_amean`` with NA skipping and a data-availability threshold."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    present = ~np.isnan(x)
    num = np.where(present, x * w[None, :], 0.0).sum(axis=1)
    den = np.where(present, w[None, :], 0.0).sum(axis=1)
    coverage = present.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[(~present.any(axis=1)) | (coverage < min_coverage - 1e-12) | (den <= 0)] = np.nan
    return out


def geometric_mean(values: np.ndarray, weights: Sequence[float], min_coverage: float = 0.0, *,
                   node: str = "?", units: Sequence[str] | None = None) -> np.ndarray:
    """COINr ``a_gmean``: ``exp(sum(w ln x)/sum(w))`` over present children; values must be > 0."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    present = ~np.isnan(x)
    bad = present & (x <= 0)
    if bad.any():
        rows = np.where(bad.any(axis=1))[0]
        who = [str(units[r]) if units is not None else str(r) for r in rows[:5]]
        raise AggregationError(
            f"geometric mean of node '{node}' needs strictly positive values; unit(s) {', '.join(who)}"
            f"{' ...' if rows.size > 5 else ''} have a zero or negative child value "
            "(normalise onto a positive range, e.g. minmax low: 1, high: 100)"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(present, np.log(np.where(present, x, 1.0)) * w[None, :], 0.0).sum(axis=1)
    den = np.where(present, w[None, :], 0.0).sum(axis=1)
    coverage = present.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(logs / den)
    out[(~present.any(axis=1)) | (coverage < min_coverage - 1e-12) | (den <= 0)] = np.nan
    return out


def aggregate(values: np.ndarray, weights: Sequence[float], method: str = "arithmetic", min_coverage: float = 0.0,
              *, node: str = "?", units: Sequence[str] | None = None) -> np.ndarray:
    if method == "arithmetic":
        return arithmetic_mean(values, weights, min_coverage)
    if method == "geometric":
        return geometric_mean(values, weights, min_coverage, node=node, units=units)
    raise AggregationError(f"unknown aggregation method {method!r} at node '{node}'")


def rank_matrix(values: np.ndarray, decimals: int | None = None) -> np.ndarray:
    """Column-wise :func:`rank_desc` of a units x nodes matrix (vectorised; same result)."""
    v = np.asarray(values, dtype=float)
    if decimals is not None:
        v = np.round(v, decimals)
    if v.shape[0] == 0:
        return v.copy()
    neg = -v
    order = np.argsort(neg, axis=0, kind="stable")  # NaN sorts last
    s = np.take_along_axis(neg, order, axis=0)
    idx = np.arange(v.shape[0])[:, None]
    new_group = np.ones(s.shape, dtype=bool)
    new_group[1:] = s[1:] != s[:-1]
    start = np.maximum.accumulate(np.where(new_group, idx, 0), axis=0)
    out = np.empty(v.shape)
    np.put_along_axis(out, order, (start + 1).astype(float), axis=0)
    out[np.isnan(v)] = np.nan
    return out


def grade(scores: Sequence[float], bands: Sequence[tuple[str, float | None]]) -> list[str | None]:
    """Grade label per score: the first band (best first) with ``score >= min``; ``min=None`` catches the rest."""
    out: list[str | None] = []
    for s in scores:
        label = None
        if s is not None and not (isinstance(s, float) and np.isnan(s)):
            for lab, lo in bands:
                if lo is None or s >= lo:
                    label = lab
                    break
        out.append(label)
    return out
