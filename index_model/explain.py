"""Explaining results: strengths and weaknesses, contributions, attribution of changes between periods.

* :func:`strengths_weaknesses` — per unit the indicators (or nodes of a level) where it stands best
  and worst against its peers, by rank among units (COINr ``get_str_weak``) or by normalised score
  (OECD/JRC Handbook step 9 "back to the data"; 对标找差、补齐短板).
* :func:`contributions` — per unit and indicator the effective weight (product of the unit's
  renormalised local weights along the path, so missing siblings are accounted for) and, for
  arithmetic aggregation, the contribution ``effective weight x normalised value``; contributions
  sum to the composite.
* :func:`explain_change` — attribution of a node's score change between two results (periods) to
  the indicators, exact to rounding error:

  - arithmetic node ``y = sum_i w_i x_i``: ``Δ(w_i x_i) = w̄_i Δx_i + x̄_i Δw_i`` (bars = mean of
    the two periods). ``w̄_i Δx_i`` is passed down to the child's own children recursively; the
    term ``x̄_i Δw_i`` (weights changed, e.g. a sibling went missing or entropy weights moved) is
    reported as a ``weight`` effect of child i; a child present in one period only gives a
    ``coverage`` effect ``±w_i x_i``. With unchanged weights and no missing values each indicator's
    effect is exactly ``effective weight x Δ normalised value``.
  - geometric node ``y = exp(sum_i w_i ln x_i)``: log-mean Divisia (LMDI-I, Ang 2004):
    ``Δy = L(y1, y0) Δln y`` with ``L(a, b) = (a - b)/(ln a - ln b)``, and
    ``Δ(w_i ln x_i) = w̄_i Δx_i / L(x_i1, x_i0) + mean(ln x_i) Δw_i`` — again exact, so the child's
    change is passed down scaled by ``L(y1,y0) w̄_i / L(x_i1,x_i0)``.

  Normalised values are relative to each period's peers under min-max/z-score/percentile
  normalisation; to attribute changes of a unit's own performance compute both periods with a
  common ``normalisation_reference`` (see :func:`index_model.compute_index`) or fixed goalposts.
  Rank changes are reported next to the score attribution; a rank also moves when peers move.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .aggregate import renormalised_weights
from .spec import Aggregate, Indicator

__all__ = ["strengths_weaknesses", "contributions", "explain_change", "ChangeExplanation"]


def _candidates(spec: Any, level: str | int | Sequence[str]) -> list[str]:
    if level == "indicators":
        return spec.indicator_ids
    if isinstance(level, int):
        return [n for n in spec.preorder if spec.level[n] == level]
    return list(level)


def strengths_weaknesses(result: Any, n: int = 3, *, units: Iterable[str] | None = None,
                         level: str | int | Sequence[str] = "indicators", by: str = "rank") -> pd.DataFrame:
    """Top-``n`` strengths and bottom-``n`` weaknesses of each unit.

    ``by="rank"`` orders a unit's nodes by its rank among units (ties: higher normalised score
    first, then hierarchy order); ``by="score"`` by the normalised score itself. Weaknesses never
    repeat a strength.
    """
    if by not in ("rank", "score"):
        raise ValueError("by must be 'rank' or 'score'")
    spec = result.spec
    cand = _candidates(spec, level)
    order = {nid: k for k, nid in enumerate(spec.preorder)}
    want = list(result.scores.index) if units is None else [str(u) for u in units]
    l1 = {nid: (spec.path(nid)[1] if len(spec.path(nid)) > 1 else nid) for nid in cand}
    rows = []
    for u in want:
        sc = result.scores.loc[u, cand]
        rk = result.ranks.loc[u, cand]
        ok = [c for c in cand if pd.notna(sc[c])]
        if by == "rank":
            best = sorted(ok, key=lambda c: (rk[c], -sc[c], order[c]))
            worst = sorted(ok, key=lambda c: (-rk[c], sc[c], order[c]))
        else:
            best = sorted(ok, key=lambda c: (-sc[c], rk[c], order[c]))
            worst = sorted(ok, key=lambda c: (sc[c], -rk[c], order[c]))
        top = best[:n]
        bottom = [c for c in worst if c not in top][:n]
        for kind, picked in (("strength", top), ("weakness", bottom)):
            for k, c in enumerate(picked, start=1):
                node = spec.nodes[c]
                rows.append({
                    "unit": u, "kind": kind, "order": k, "node_id": c, "label_zh": node.label_zh,
                    "label_en": node.label_en, "parent_id": spec.parent.get(c), "dimension_id": l1[c],
                    "value": result.prepared.loc[u, c] if isinstance(node, Indicator) else np.nan,
                    "score": float(sc[c]), "rank": int(rk[c]), "n_ranked": int(result.scores[c].notna().sum()),
                })
    return pd.DataFrame(rows, columns=["unit", "kind", "order", "node_id", "label_zh", "label_en", "parent_id",
                                       "dimension_id", "value", "score", "rank", "n_ranked"])


def _unit_weight_tables(result: Any) -> dict[str, pd.DataFrame]:
    spec = result.spec
    out = {}
    for aid in spec.aggregate_ids:
        kids = list(spec.children(aid))
        W = renormalised_weights(result.scores[kids].to_numpy(dtype=float), result.weights[aid].to_numpy(),
                                 spec.min_coverage_of(aid))
        out[aid] = pd.DataFrame(W, index=result.scores.index, columns=kids)
    return out


def contributions(result: Any, node: str | None = None) -> pd.DataFrame:
    """Per unit and indicator below ``node`` (default: composite): effective weight and contribution.

    ``contribution`` is only defined when every aggregate on the path is arithmetic (else NaN);
    then ``sum(contribution) = score(node)`` for each unit.
    """
    spec = result.spec
    node = node or spec.root
    uw = _unit_weight_tables(result)
    rows = []
    for ind in spec.leaves(node):
        path = spec.path(ind)
        path = path[path.index(node):]
        ew = pd.Series(1.0, index=result.scores.index)
        arithmetic = True
        for parent, child in zip(path[:-1], path[1:]):
            ew = ew * uw[parent][child]
            arithmetic &= spec.aggregation_of(parent) == "arithmetic"
        x = result.scores[ind]
        contrib = (ew * x).where(ew != 0, 0.0) if arithmetic else pd.Series(np.nan, index=x.index)
        contrib[ew.isna()] = np.nan
        rows.append(pd.DataFrame({"unit": x.index, "node_id": node, "indicator": ind, "effective_weight": ew.to_numpy(),
                                  "normalised": x.to_numpy(), "contribution": contrib.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def _logmean(a: float, b: float) -> float:
    if a <= 0 or b <= 0:
        raise ValueError("log-mean needs positive values")
    if a == b:
        return a
    return (a - b) / (math.log(a) - math.log(b))


@dataclass
class ChangeExplanation:
    summary: pd.DataFrame  # one row per unit
    effects: pd.DataFrame  # one row per unit x component


def explain_change(before: Any, after: Any, node: str | None = None, *, units: Iterable[str] | None = None) -> ChangeExplanation:
    """Attribute each unit's change of ``node`` (default composite) from ``before`` to ``after``.

    Both results must use the same hierarchy. ``effects`` rows: unit, component_id, kind
    (``indicator`` | ``weight`` | ``coverage``), effect (points of ``node``'s score), share of the change.
    Effects of a unit sum to its score change (``summary.residual`` shows the rounding error).
    """
    spec = after.spec
    if tuple(before.spec.preorder) != tuple(spec.preorder):
        raise ValueError("the two results use different hierarchies; cannot attribute the change")
    node = node or spec.root
    common = [u for u in after.scores.index if u in before.scores.index]
    if units is not None:
        want = {str(u) for u in units}
        common = [u for u in common if u in want]
    uw0, uw1 = _unit_weight_tables(before), _unit_weight_tables(after)
    S0, S1 = before.scores, after.scores

    def decompose(nid: str, u: str) -> dict[tuple[str, str], float]:
        n = spec.nodes[nid]
        if isinstance(n, Indicator):
            return {(nid, "indicator"): float(S1.at[u, nid] - S0.at[u, nid])}
        assert isinstance(n, Aggregate)
        method = spec.aggregation_of(nid)
        if before.spec.aggregation_of(nid) != method:
            raise ValueError(f"node '{nid}' is aggregated differently in the two results")
        res: dict[tuple[str, str], float] = defaultdict(float)
        y0, y1 = float(S0.at[u, nid]), float(S1.at[u, nid])
        L = _logmean(y1, y0) if method == "geometric" else 1.0
        for c in n.children:
            w0, w1 = float(uw0[nid].at[u, c]), float(uw1[nid].at[u, c])
            x0, x1 = float(S0.at[u, c]), float(S1.at[u, c])
            p0 = w0 > 0 and not math.isnan(x0)
            p1 = w1 > 0 and not math.isnan(x1)
            if p0 and p1:
                wbar = (w0 + w1) / 2
                if method == "arithmetic":
                    scale = wbar
                    weight_effect = (x0 + x1) / 2 * (w1 - w0)
                else:
                    scale = L * wbar / _logmean(x1, x0)
                    weight_effect = L * (math.log(x0) + math.log(x1)) / 2 * (w1 - w0)
                for k, v in decompose(c, u).items():
                    res[k] += scale * v
                if w1 != w0:
                    res[(c, "weight")] += weight_effect
            elif p1 or p0:
                sign, w, x = (1.0, w1, x1) if p1 else (-1.0, w0, x0)
                res[(c, "coverage")] += sign * (w * x if method == "arithmetic" else L * w * math.log(x))
        return res

    srows, erows = [], []
    for u in common:
        y0, y1 = S0.at[u, node], S1.at[u, node]
        r0, r1 = before.ranks.at[u, node], after.ranks.at[u, node]
        row = {"unit": u, "node_id": node, "score_before": y0, "score_after": y1, "delta": y1 - y0,
               "rank_before": r0, "rank_after": r1,
               "rank_change": (r0 - r1) if pd.notna(r0) and pd.notna(r1) else np.nan,
               "sum_of_effects": np.nan, "residual": np.nan}
        if pd.notna(y0) and pd.notna(y1):
            eff = decompose(node, u)
            total = sum(eff.values())
            row["sum_of_effects"] = total
            row["residual"] = (y1 - y0) - total
            for (cid, kind), v in sorted(eff.items(), key=lambda kv: -abs(kv[1])):
                erows.append({"unit": u, "node_id": node, "component_id": cid, "kind": kind,
                              "label_zh": spec.nodes[cid].label_zh, "label_en": spec.nodes[cid].label_en,
                              "effect": v, "share_of_change": v / (y1 - y0) if y1 != y0 else np.nan})
        srows.append(row)
    summary = pd.DataFrame(srows)
    effects = pd.DataFrame(erows, columns=["unit", "node_id", "component_id", "kind", "label_zh", "label_en",
                                           "effect", "share_of_change"])
    return ChangeExplanation(summary=summary, effects=effects)
