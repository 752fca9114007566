"""Statistical coherence and the methodology record (OECD/JRC Handbook 2008, step 4 and step 9).

* Cronbach's alpha (COINr ``get_cronbach``): ``alpha = k^2 * mean(off-diagonal covariances) /
  sum(all covariances)`` = ``k/(k-1) * (1 - sum var_i / var(sum))``, sample covariances from
  pairwise-complete observations. Computed for every aggregate over its direct children and over
  all indicators below it. Alpha < 0.6 (or negative) flags an incoherent group.
* Correlations (COINr ``get_corr``): Pearson and Spearman of every node with its parent and of
  every node with the composite, pairwise-complete. A negative correlation with the parent flags an
  indicator working against its dimension.
* :func:`methodology_table` lists every method choice actually used (including RI table, entropy
  variant, small-count rule, treatment, uncertainty settings) and the notes raised while computing.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .spec import Aggregate, Indicator

__all__ = ["cronbach_alpha", "pearson", "spearman", "coherence_report", "methodology_table", "weights_table"]

ALPHA_FLAG = 0.6


def cronbach_alpha(items: pd.DataFrame | np.ndarray) -> float:
    """Cronbach's alpha of the columns of ``items`` (pairwise-complete sample covariances)."""
    df = pd.DataFrame(items)
    k = df.shape[1]
    if k < 2:
        return float("nan")
    cov = df.cov().to_numpy()  # pandas: pairwise complete, ddof=1
    total = np.nansum(cov)
    if total == 0:
        return float("nan")
    offdiag_mean = (total - np.nansum(np.diag(cov))) / (k * (k - 1))
    return float(k * k * offdiag_mean / total)


def pearson(a: Any, b: Any) -> float:
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    ok = ~np.isnan(x) & ~np.isnan(y)
    if ok.sum() < 3:
        return float("nan")
    x, y = x[ok], y[ok]
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / den) if den > 0 else float("nan")


def _avg_rank(v: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank) of a NaN-free vector."""
    s = np.sort(v)
    return (np.searchsorted(s, v, side="left") + 1 + np.searchsorted(s, v, side="right")) / 2


def spearman(a: Any, b: Any) -> float:
    """Spearman's rho (Pearson of average ranks) over pairwise-complete observations."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    ok = ~np.isnan(x) & ~np.isnan(y)
    return pearson(_avg_rank(x[ok]), _avg_rank(y[ok]))


def coherence_report(result: Any) -> dict[str, pd.DataFrame]:
    """Alpha per aggregate, correlations with parent and composite, and flags."""
    spec = result.spec
    S = result.scores
    alpha_rows = []
    for aid in spec.aggregate_ids:
        kids = list(spec.children(aid))
        leaves = spec.leaves(aid)
        alpha_rows.append({"node_id": aid, "level": spec.level[aid], "items": "children", "k": len(kids),
                           "cronbach_alpha": cronbach_alpha(S[kids]) if len(kids) > 1 else np.nan})
        if leaves != kids:
            alpha_rows.append({"node_id": aid, "level": spec.level[aid], "items": "indicators", "k": len(leaves),
                               "cronbach_alpha": cronbach_alpha(S[leaves]) if len(leaves) > 1 else np.nan})
    alpha = pd.DataFrame(alpha_rows, columns=["node_id", "level", "items", "k", "cronbach_alpha"])
    corr_rows = []
    root = spec.root
    for nid in spec.preorder[1:]:
        p = spec.parent[nid]
        node_type = "indicator" if isinstance(spec.nodes[nid], Indicator) else "aggregate"
        corr_rows.append({"node_id": nid, "node_type": node_type, "other_id": p, "relation": "parent",
                          "pearson": pearson(S[nid], S[p]), "spearman": spearman(S[nid], S[p]),
                          "n": int((S[nid].notna() & S[p].notna()).sum())})
        if p != root:
            corr_rows.append({"node_id": nid, "node_type": node_type, "other_id": root, "relation": "composite",
                              "pearson": pearson(S[nid], S[root]), "spearman": spearman(S[nid], S[root]),
                              "n": int((S[nid].notna() & S[root].notna()).sum())})
    corr = pd.DataFrame(corr_rows, columns=["node_id", "node_type", "other_id", "relation", "pearson", "spearman", "n"])
    flags = []
    for _, r in alpha.iterrows():
        if pd.notna(r["cronbach_alpha"]) and r["cronbach_alpha"] < ALPHA_FLAG:
            flags.append({"node_id": r["node_id"], "check": "cronbach_alpha", "value": r["cronbach_alpha"],
                          "message": f"'{r['node_id']}': Cronbach's alpha over its {r['items']} is "
                                     f"{r['cronbach_alpha']:.3f} (< {ALPHA_FLAG}): weakly coherent group"})
    for _, r in corr[corr["relation"] == "parent"].iterrows():
        if pd.notna(r["pearson"]) and r["pearson"] < 0:
            flags.append({"node_id": r["node_id"], "check": "negative_correlation", "value": r["pearson"],
                          "message": f"'{r['node_id']}' correlates negatively with its parent '{r['other_id']}' "
                                     f"(r = {r['pearson']:.3f})"})
    return {"alpha": alpha, "correlations": corr,
            "flags": pd.DataFrame(flags, columns=["node_id", "check", "value", "message"])}


def weights_table(result: Any) -> pd.DataFrame:
    """Nominal local weight and structural effective weight of every node, with the weighting method."""
    spec = result.spec
    eff = result.effective_weights()
    rows = []
    for nid in spec.preorder:
        p = spec.parent.get(nid)
        info = result.weight_info.get(p, {}) if p else {}
        node = spec.nodes[nid]
        rows.append({
            "node_id": nid, "parent_id": p, "level": spec.level[nid],
            "node_type": "indicator" if isinstance(node, Indicator) else "aggregate",
            "label_zh": node.label_zh, "label_en": node.label_en,
            "direction": node.direction if isinstance(node, Indicator) else np.nan,
            "local_weight": float(result.weights[p][nid]) if p else 1.0,
            "effective_weight": float(eff[nid]),
            "weighting": info.get("method", "") if p else "",
            "aggregation": spec.aggregation_of(nid) if isinstance(node, Aggregate) else "",
            "normalisation": (dict(spec.normalisation_of(nid)).get("method") if isinstance(node, Indicator) else ""),
            "target": node.target if isinstance(node, Indicator) else np.nan,
            "min_records": spec.min_records_of(nid) if isinstance(node, Indicator) else np.nan,
            "source": node.source if isinstance(node, Indicator) else "",
        })
    return pd.DataFrame(rows)


def methodology_table(result: Any, uncertainty: Any = None) -> pd.DataFrame:
    """Every method setting actually used, as (section, item, value) rows, plus notes and weight details."""
    spec = result.spec
    m = spec.methods
    rows: list[tuple[str, str, str]] = [
        ("spec", "spec_version", spec.spec_version),
        ("spec", "name", f"{spec.name_zh} {spec.name_en}".strip()),
        ("spec", "source", str(spec.source or "")),
        ("data", "units ranked", str(len(result.units))),
        ("data", "units excluded", ", ".join(result.excluded_units) or "none"),
        ("data", "indicators", str(len(spec.indicator_ids))),
        ("data", "missing indicator values", str(int(result.prepared.isna().to_numpy().sum()))),
        ("normalisation", "method", _fmt(m.normalisation)),
        ("normalisation", "per-indicator overrides",
         ", ".join(f"{i.id}: {_fmt(i.normalisation)}" for i in spec.indicators if i.normalisation) or "none"),
        ("normalisation", "direction", "values multiplied by direction before normalising (higher = better)"),
        ("weighting", "method", _fmt(m.weighting)),
        ("aggregation", "method", m.aggregation),
        ("aggregation", "per-node overrides",
         ", ".join(f"{a}: {spec.nodes[a].aggregation}" for a in spec.aggregate_ids if spec.nodes[a].aggregation) or "none"),
        ("missing data", "rule", "missing children skipped, weights of the others renormalised"),
        ("missing data", "min_coverage", f"{m.min_coverage:g} (share of children present, else the parent is missing)"),
        ("small counts", "treatment", _fmt(m.small_count)),
        ("small counts", "shrinkage", "x' = Z x + (1-Z) p, Z = min(1, sqrt(n/min_records)), p = record-weighted mean"),
        ("small counts", "values flagged", str(len(result.small_count_flags))),
        ("imputation", "method", _fmt(m.imputation)),
        ("screening", "min_unit_coverage", f"{m.screening.get('min_unit_coverage', 0):g}"),
        ("outlier treatment", "method", _fmt(m.treatment)),
        ("ranking", "rule", "descending competition rank, ties share the best rank (1 = best)"
                            + (f"; scores rounded to {m.ranking['decimals']} decimals first" if m.ranking.get("decimals") is not None else "")),
        ("grades", "bands", ", ".join(f"{lab} >= {lo:g}" if lo is not None else f"{lab} otherwise" for lab, lo in m.grades) or "none"),
    ]
    for aid in spec.aggregate_ids:
        inf = result.weight_info.get(aid, {})
        if inf.get("method") == "ahp":
            rows.append(("weighting", f"AHP at {aid}",
                         f"estimator {inf['estimator']}, lambda_max {inf['lambda_max']:.4f}, CI {inf['ci']:.4f}, "
                         f"RI {inf['ri']} (table {inf['random_index_table']}), CR {inf['cr']:.4f}"))
        if inf.get("method") == "entropy":
            rows.append(("weighting", f"entropy at {aid}",
                         f"variant {inf['variant']}: " + ", ".join(f"{c}={w:.4f}" for c, w in result.weights[aid].items())))
    if uncertainty is not None:
        for k, v in uncertainty.settings.items():
            rows.append(("uncertainty", k, _fmt(v)))
    for note in result.notes:
        rows.append(("notes", "", note))
    return pd.DataFrame(rows, columns=["section", "item", "value"])


def _fmt(v: Any) -> str:
    if isinstance(v, dict) or hasattr(v, "items"):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in dict(v).items())
    if isinstance(v, (list, tuple)):
        return "[" + "; ".join(_fmt(x) for x in v) + "]"
    return str(v)
