"""Monte-Carlo uncertainty analysis of ranks (OECD/JRC Handbook 2008 step 7; COINr ``get_sensitivity(type = "UA")``).

Each run draws, independently and from a seeded ``numpy.random.Generator``:

* weights: every aggregate's nominal local weights are perturbed —
  ``uniform``: ``w_i x U(1 - spread, 1 + spread)`` then renormalised (COINr ``get_noisy_weights``;
  default spread 0.25 = ±25 %), or ``dirichlet``: ``Dirichlet(concentration x w)`` (mean = nominal
  weights; higher concentration = less noise), or ``none``;
* a normalisation from ``normalisations`` (applies to indicators without their own override);
* an aggregation from ``aggregations`` (applies to aggregates without their own method). A
  geometric run needs positive values: indicators whose normalised values are not all > 0 in that
  run are rescaled onto [1, 100] (min-max) first.

Data preparation (imputation, treatment, small counts) is held fixed. For each unit and node the
result gives the nominal rank, the median and mean rank, the 5th and 95th percentile ranks
(``numpy.quantile`` "linear" = R type 7) and the mean absolute rank shift against the nominal
ranking (COINr's sensitivity target); per node the average of that shift over units.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .aggregate import rank_matrix
from .model import IndexResult, evaluate_tree, normalise_matrix
from .normalise import minmax
from .spec import IndexSpec, Indicator, _check_normalisation

__all__ = ["UncertaintyResult", "run_uncertainty", "perturb_weights"]


@dataclass
class UncertaintyResult:
    summary: pd.DataFrame  # unit, node_id, nominal_rank, median_rank, mean_rank, rank_low, rank_high, mean_abs_rank_shift
    node_shift: pd.DataFrame  # node_id, mean_abs_rank_shift
    runs: pd.DataFrame  # run, normalisation, aggregation
    settings: dict[str, Any]
    rank_samples: np.ndarray | None = field(default=None, repr=False)  # runs x units x nodes
    units: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)

    def for_node(self, node_id: str) -> pd.DataFrame:
        return self.summary[self.summary["node_id"] == node_id].set_index("unit")


def perturb_weights(w: np.ndarray, rng: np.random.Generator, method: str = "uniform", *, spread: float = 0.25,
                    concentration: float = 100.0) -> np.ndarray:
    """One random draw of a node's local weights (sum 1)."""
    w = np.asarray(w, dtype=float)
    if w.size <= 1 or method == "none":
        return w.copy()
    if method == "uniform":
        out = w * rng.uniform(1.0 - spread, 1.0 + spread, size=w.size)
    elif method == "dirichlet":
        alpha = concentration * w / w.sum()
        alpha = np.where(alpha > 0, alpha, 1e-9)
        out = rng.dirichlet(alpha)
    else:
        raise ValueError(f"unknown weight perturbation {method!r} (uniform, dirichlet, none)")
    s = out.sum()
    return out / s if s > 0 else w.copy()


def _positive(N: np.ndarray) -> np.ndarray:
    out = N.copy()
    for j in range(N.shape[1]):
        col = N[:, j]
        if np.any(col[~np.isnan(col)] <= 0):
            out[:, j] = minmax(col, 1, low=1.0, high=100.0)
    return out


def _label(params: Mapping[str, Any] | str) -> str:
    if isinstance(params, str):
        return params
    return ",".join(f"{k}={v}" for k, v in params.items())


def run_uncertainty(result: IndexResult, *, runs: int | None = None, seed: int | None = None,
                    weights: Mapping[str, Any] | str | None = None,
                    normalisations: Sequence[Mapping[str, Any] | str] | None = None,
                    aggregations: Sequence[str] | None = None, quantiles: tuple[float, float] = (0.05, 0.95),
                    keep_samples: bool = True) -> UncertaintyResult:
    """Monte-Carlo rank distributions for every unit and node of ``result``.

    Arguments default to the spec's ``methods.uncertainty`` block (runs 1000, seed 0, uniform ±25 %
    weights, the nominal normalisation and aggregation only).
    """
    spec: IndexSpec = result.spec
    cfg = dict(spec.methods.uncertainty)
    runs = int(runs if runs is not None else cfg.get("runs", 1000))
    seed = int(seed if seed is not None else cfg.get("seed", 0))
    wcfg = weights if weights is not None else cfg.get("weights", {"method": "uniform", "spread": 0.25})
    if isinstance(wcfg, str):
        wcfg = {"method": wcfg}
    wmethod = wcfg.get("method", "uniform")
    spread = float(wcfg.get("spread", 0.25))
    conc = float(wcfg.get("concentration", 100.0))
    norms = list(normalisations if normalisations is not None else cfg.get("normalisations") or [spec.methods.normalisation])
    problems: list[str] = []
    norms = [_check_normalisation(n, f"normalisations[{k}]", problems) for k, n in enumerate(norms)]
    if problems:
        raise ValueError("; ".join(problems))
    aggs = list(aggregations if aggregations is not None else cfg.get("aggregations") or [spec.methods.aggregation])
    for a in aggs:
        if a not in ("arithmetic", "geometric"):
            raise ValueError(f"unknown aggregation alternative {a!r}")
    if runs < 1:
        raise ValueError("runs must be >= 1")

    units = list(result.scores.index)
    nodes = list(spec.preorder)
    prepared = result.prepared.to_numpy(dtype=float)
    nominal_w = {a: result.weights[a].to_numpy() for a in spec.aggregate_ids}
    decimals = spec.methods.ranking.get("decimals")
    rng = np.random.default_rng(seed)
    cache: dict[tuple[int, bool], np.ndarray] = {}
    samples = np.full((runs, len(units), len(nodes)), np.nan, dtype=np.float32)
    run_rows = []
    for r in range(runs):
        ni = int(rng.integers(len(norms))) if len(norms) > 1 else 0
        ai = int(rng.integers(len(aggs))) if len(aggs) > 1 else 0
        w = {a: perturb_weights(nominal_w[a], rng, wmethod, spread=spread, concentration=conc)
             for a in spec.aggregate_ids}
        geo = aggs[ai] == "geometric"
        key = (ni, geo)
        if key not in cache:
            N = normalise_matrix(prepared, spec, global_params=norms[ni], reference=result.normalisation_reference)
            cache[key] = _positive(N) if geo else N
        V, _, _ = evaluate_tree(cache[key], spec, units, weights=w, aggregation=aggs[ai])
        samples[r] = rank_matrix(V, decimals)
        run_rows.append({"run": r, "normalisation": _label(norms[ni]), "aggregation": aggs[ai]})

    nominal = result.ranks[nodes].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"), _quiet():
        srt = np.sort(samples.astype(float), axis=0)  # NaN last
        med = _sorted_quantile(srt, 0.5)
        lo = _sorted_quantile(srt, quantiles[0])
        hi = _sorted_quantile(srt, quantiles[1])
        mean = np.nanmean(samples, axis=0)
        shift = np.nanmean(np.abs(samples - nominal[None, :, :]), axis=0)
    summary = pd.DataFrame({
        "unit": np.repeat(units, len(nodes)),
        "node_id": np.tile(nodes, len(units)),
        "nominal_rank": nominal.ravel(),
        "median_rank": med.ravel(),
        "mean_rank": mean.ravel(),
        "rank_low": lo.ravel(),
        "rank_high": hi.ravel(),
        "mean_abs_rank_shift": shift.ravel(),
    })
    order = {n: k for k, n in enumerate(nodes)}
    summary = summary.sort_values(["node_id", "unit"], key=lambda s: s.map(order) if s.name == "node_id" else s,
                                  kind="stable").reset_index(drop=True)
    with _quiet():
        node_shift = pd.DataFrame({"node_id": nodes, "mean_abs_rank_shift": np.nanmean(shift, axis=0)})
    node_shift["is_indicator"] = [isinstance(spec.nodes[n], Indicator) for n in nodes]
    settings = {
        "runs": runs, "seed": seed, "weights": dict(wcfg), "normalisations": [_label(n) for n in norms],
        "aggregations": aggs, "quantiles": list(quantiles), "quantile_method": "linear (R type 7)",
        "held fixed": "data preparation (imputation, outlier treatment, small counts)",
    }
    return UncertaintyResult(summary=summary, node_shift=node_shift, runs=pd.DataFrame(run_rows), settings=settings,
                             rank_samples=samples if keep_samples else None, units=units, nodes=nodes)


def _sorted_quantile(srt: np.ndarray, q: float) -> np.ndarray:
    """Quantile along axis 0 of an ascending-sorted array with NaN last ("linear", R type 7), ignoring NaN."""
    cnt = (~np.isnan(srt)).sum(axis=0)
    pos = q * np.maximum(cnt - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(cnt - 1, 0))
    a = np.take_along_axis(srt, lo[None], axis=0)[0]
    b = np.take_along_axis(srt, hi[None], axis=0)[0]
    out = a + (pos - lo) * (b - a)
    out[cnt == 0] = np.nan
    return out


class _quiet:
    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)
