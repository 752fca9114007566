"""Short boards and strengths (补齐短板 / 对标找差) with values (issue 9 point 5). Pure numpy/pandas.

For each unit, the weakest and the strongest indicators and sub-dimensions by their **gap to the target**,
or to the scope's median where no target exists, each with its value, target, median, gap, the value of
the previous period and the trend.

* Indicator level. Reference = the indicator's ``target`` (spec) if it has one, else the median of the
  values of the units in this result. ``gap = value - reference`` in the indicator's unit. Gaps in different
  units are compared on the indicator's own scoring scale: ``gap_points = direction x gap / (high - low) x 100``
  with the indicator's (resolved) goalposts — the score points the unit is above (+) or below (-) its
  reference, without the cap at the goalposts. Under other normalisations ``gap_points`` = the unit's
  normalised score minus the median normalised score.
* Sub-dimension level (L2, the parents of indicators): value = the node's score (0–100); no target, so
  reference = the median score; ``gap = gap_points = score - median``.
* Weakest = the ``n`` most negative ``gap_points`` (short boards, 短板), strongest = the ``n`` largest among
  the others; ties keep hierarchy order.
* Trend (``previous`` given): ``change = value - previous value``; for an indicator with a noise verdict
  (``noise``: :func:`index_model.noise.noise_table`) whose change is within noise the trend is
  ``within_noise``, else ``improved`` / ``worsened`` by the direction (``unchanged`` when equal). A
  sub-dimension is ``within_noise`` when every child that changed has a verdict and all are within noise.
* ``self_reported``: the indicator (or, for a sub-dimension, one of its children) rests on figures the
  bureaus report themselves (spec ``self_reported: true``): reports carry a caveat wherever it is shown.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from .spec import Indicator

__all__ = ["short_boards", "SHORT_BOARD_COLUMNS"]

SHORT_BOARD_COLUMNS = ["unit", "level", "kind", "order", "node_id", "label_zh", "label_en", "parent_id", "direction",
                       "value", "target", "median", "reference", "gap", "gap_points", "previous_value", "change",
                       "trend", "self_reported"]


def _gap_points(spec: Any, result: Any, iid: str, values: pd.Series, reference: float) -> pd.Series:
    node = spec.nodes[iid]
    p = spec.normalisation_of(iid)
    if p.get("method") == "goalposts" and "low" in p and "high" in p and float(p["high"]) != float(p["low"]) \
            and not p.get("log"):
        return node.direction * (values - reference) / (float(p["high"]) - float(p["low"])) * 100.0
    sc = result.scores[iid]
    return sc - float(sc.median())


def _trend(change: float, direction: int, within: bool | None) -> str | None:
    if change is None or pd.isna(change):
        return None
    if change == 0:
        return "unchanged"
    if within:
        return "within_noise"
    return "improved" if direction * change > 0 else "worsened"


def short_boards(result: Any, *, previous: Any = None, noise: pd.DataFrame | None = None, n_indicators: int = 3,
                 n_subdimensions: int = 2, units: Iterable[str] | None = None) -> pd.DataFrame:
    """Weakest and strongest indicators and sub-dimensions of every unit (see module doc).

    ``result`` / ``previous``: :class:`index_model.IndexResult` of this and the previous period (same
    hierarchy). ``noise``: :func:`index_model.noise.noise_table` rows (region_code, indicator_id,
    beyond_noise). Returns one row per unit x level x kind x order, columns :data:`SHORT_BOARD_COLUMNS`.
    """
    spec = result.spec
    order = {nid: k for k, nid in enumerate(spec.preorder)}
    want = list(result.scores.index) if units is None else [str(u) for u in units]
    verdict: dict[tuple[str, str], bool | None] = {}
    if noise is not None and len(noise):
        for r in noise[["region_code", "indicator_id", "beyond_noise"]].itertuples(index=False):
            verdict[(str(r.region_code), r.indicator_id)] = None if pd.isna(r.beyond_noise) else bool(r.beyond_noise)

    rows: list[dict] = []
    # ---- indicators: value, reference, gap in points
    ind_table: dict[str, pd.DataFrame] = {}
    for iid in spec.indicator_ids:
        node = spec.nodes[iid]
        assert isinstance(node, Indicator)
        v = result.prepared[iid].astype(float)
        med = float(v.median()) if v.notna().any() else np.nan
        ref, ref_kind = (float(node.target), "target") if node.target is not None else (med, "median")
        pts = _gap_points(spec, result, iid, v, ref) if not np.isnan(ref) else pd.Series(np.nan, index=v.index)
        prev = (previous.prepared[iid].astype(float).reindex(v.index) if previous is not None
                and iid in previous.prepared.columns else pd.Series(np.nan, index=v.index))
        ind_table[iid] = pd.DataFrame({"value": v, "median": med, "target": node.target if node.target is not None
                                       else np.nan, "reference": ref_kind, "gap": v - ref, "gap_points": pts,
                                       "previous_value": prev, "change": v - prev})
    # ---- sub-dimensions: the parents of indicators
    subdims = [a for a in spec.aggregate_ids if a != spec.root and any(spec.nodes[c].is_indicator for c in spec.children(a))]
    sub_table: dict[str, pd.DataFrame] = {}
    for aid in subdims:
        s = result.scores[aid].astype(float)
        med = float(s.median()) if s.notna().any() else np.nan
        prev = (previous.scores[aid].astype(float).reindex(s.index) if previous is not None
                and aid in previous.scores.columns else pd.Series(np.nan, index=s.index))
        sub_table[aid] = pd.DataFrame({"value": s, "median": med, "target": np.nan, "reference": "median",
                                       "gap": s - med, "gap_points": s - med, "previous_value": prev, "change": s - prev})

    def sub_within(u: str, aid: str) -> bool | None:
        moved = []
        for c in spec.leaves(aid):
            ch = ind_table[c].at[u, "change"]
            if pd.notna(ch) and ch != 0:
                moved.append(verdict.get((u, c)))
        if not moved:
            return None
        return all(m is False for m in moved)

    def self_rep(nid: str) -> bool:
        return any(bool(getattr(spec.nodes[c], "self_reported", False)) for c in spec.leaves(nid))

    for u in want:
        for level, table, n in (("indicator", ind_table, n_indicators), ("sub_dimension", sub_table, n_subdimensions)):
            cand = [(nid, t.loc[u]) for nid, t in table.items() if u in t.index and pd.notna(t.at[u, "gap_points"])]
            weakest = sorted(cand, key=lambda x: (x[1]["gap_points"], order[x[0]]))[:n]
            taken = {nid for nid, _ in weakest}
            strongest = sorted([c for c in cand if c[0] not in taken],
                               key=lambda x: (-x[1]["gap_points"], order[x[0]]))[:n]
            for kind, picked in (("weakest", weakest), ("strongest", strongest)):
                for k, (nid, r) in enumerate(picked, start=1):
                    node = spec.nodes[nid]
                    direction = int(node.direction) if node.is_indicator else 1
                    within = verdict.get((u, nid)) is False if node.is_indicator else bool(sub_within(u, nid))
                    rows.append({
                        "unit": u, "level": level, "kind": kind, "order": k, "node_id": nid,
                        "label_zh": node.label_zh, "label_en": node.label_en, "parent_id": spec.parent.get(nid),
                        "direction": direction, "value": float(r["value"]), "target": float(r["target"]),
                        "median": float(r["median"]), "reference": r["reference"], "gap": float(r["gap"]),
                        "gap_points": float(r["gap_points"]), "previous_value": float(r["previous_value"]),
                        "change": float(r["change"]), "trend": _trend(r["change"], direction, within),
                        "self_reported": self_rep(nid),
                    })
    return pd.DataFrame(rows, columns=SHORT_BOARD_COLUMNS)
