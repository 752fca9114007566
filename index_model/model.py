"""The index computation: unit x indicator table + spec -> normalised values, scores and ranks of every node.

Pipeline (OECD/JRC Handbook 2008 steps 3-7, in COINr's order): read and check the table ->
denominate -> small counts -> impute -> screen units -> treat outliers -> normalise (per
indicator, with direction) -> weight and aggregate level by level (post-order through the tree,
missing children skipped, weights renormalised, minimum coverage) -> rank every node (competition
ranks, 1 = best) -> grade bands. See :mod:`index_model.prepare`, :mod:`index_model.normalise`,
:mod:`index_model.weights`, :mod:`index_model.aggregate`.

:func:`compute_index` returns an :class:`IndexResult`; ``result.long()`` is the long table
(unit, node_id, level, score, rank, ...) and ``result.to_mart(scope, period, uncertainty)`` the
rows of ``mart.index_scores``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .aggregate import aggregate, grade, rank_matrix, renormalised_weights
from .normalise import normalise
from .prepare import denominate, impute, screen_units, small_counts, treat_outliers
from .spec import Aggregate, IndexSpec, Indicator, SpecError, load_spec, relative_goalposts, resolve_goalposts
from .weights import DEFAULT_RANDOM_INDEX, ahp_weights, entropy_weights, parse_pairwise_matrix

__all__ = ["IndexResult", "compute_index", "DataError", "resolve_unit_column"]


class DataError(ValueError):
    """The indicator table cannot be used (names the column, unit/row and value)."""


@dataclass
class IndexResult:
    """Everything computed for one table under one spec. Tables are indexed by unit id."""

    spec: IndexSpec
    unit_col: str
    raw: pd.DataFrame  # indicator values as delivered, all units
    stages: dict[str, pd.DataFrame]  # denominated, small_counts, imputed, screened, treated (when applied)
    prepared: pd.DataFrame  # kept units x indicators, input of normalisation
    normalised: pd.DataFrame  # kept units x indicators
    scores: pd.DataFrame  # kept units x every node (indicators: normalised value), pre-order columns
    ranks: pd.DataFrame  # kept units x every node
    weights: dict[str, pd.Series]  # aggregate -> nominal local weights of its children (sum 1)
    weight_info: dict[str, dict[str, Any]]  # aggregate -> method details (AHP CR, entropy values, ...)
    treatment_log: pd.DataFrame
    treated_points: pd.DataFrame
    imputed_cells: pd.DataFrame
    small_count_flags: pd.DataFrame
    counts: pd.DataFrame | None
    excluded_units: list[str]
    notes: list[str] = field(default_factory=list)
    normalisation_reference: np.ndarray | None = None  # reference values (rows x indicators) if given

    @property
    def units(self) -> list[str]:
        return list(self.scores.index)

    @property
    def composite(self) -> pd.Series:
        return self.scores[self.spec.root]

    def grades(self) -> pd.DataFrame:
        """Grade band of every unit x node (empty when the spec defines no bands)."""
        bands = self.spec.methods.grades
        return pd.DataFrame({c: grade(self.scores[c].tolist(), bands) for c in self.scores.columns},
                            index=self.scores.index)

    def effective_weights(self) -> pd.Series:
        """Structural effective weight of every node in the composite: product of nominal local weights
        along its path (COINr ``get_eff_weights``). Indicators' effective weights sum to 1."""
        out = {self.spec.root: 1.0}
        for nid in self.spec.preorder[1:]:
            p = self.spec.parent[nid]
            out[nid] = out[p] * float(self.weights[p][nid])
        return pd.Series(out, name="effective_weight")

    def long(self, uncertainty: Any = None) -> pd.DataFrame:
        """Long table: one row per unit x node (pre-order), with level, score, rank and grade.

        Columns: unit, node_id, node_type, level, parent_id, label_zh, label_en, raw_value (as
        delivered), value (after denominate/small counts/imputation/treatment, the input of
        normalisation; empty for aggregates), record_count, score, rank, grade, n_ranked; plus
        median_rank, rank_low, rank_high, mean_abs_rank_shift when an uncertainty result is given.
        """
        spec = self.spec
        grades = self.grades()
        frames = []
        for nid in spec.preorder:
            node = spec.nodes[nid]
            is_ind = isinstance(node, Indicator)
            f = pd.DataFrame({
                "unit": self.scores.index,
                "node_id": nid,
                "node_type": "indicator" if is_ind else ("composite" if nid == spec.root else "aggregate"),
                "level": spec.level[nid],
                "parent_id": spec.parent.get(nid),
                "label_zh": node.label_zh,
                "label_en": node.label_en,
                "raw_value": self.raw[nid].reindex(self.scores.index).to_numpy() if is_ind else np.nan,
                "value": self.prepared[nid].to_numpy() if is_ind else np.nan,
                "record_count": (self.counts[nid].reindex(self.scores.index).to_numpy(dtype=float)
                                 if is_ind and self.counts is not None and nid in self.counts.columns else np.nan),
                "score": self.scores[nid].to_numpy(),
                "rank": self.ranks[nid].to_numpy(),
                "grade": grades[nid].to_numpy(),
                "n_ranked": int(self.scores[nid].notna().sum()),
            })
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        out["rank"] = out["rank"].astype("Int64")
        if uncertainty is not None:
            s = uncertainty.summary[["unit", "node_id", "median_rank", "rank_low", "rank_high", "mean_abs_rank_shift"]]
            out = out.merge(s, on=["unit", "node_id"], how="left")
        return out

    def to_mart(self, scope: str, period: str, uncertainty: Any = None) -> pd.DataFrame:
        """Rows for ``mart.index_scores``: scope, period, region_code, node_id, score, rank, rank_low,
        rank_high, spec_version (rank_low/high = 5th/95th percentile MC ranks; the nominal rank when no
        uncertainty result is given)."""
        lg = self.long(uncertainty)
        if uncertainty is None:
            lg["rank_low"] = lg["rank"].astype(float)
            lg["rank_high"] = lg["rank"].astype(float)
        return pd.DataFrame({
            "scope": scope,
            "period": period,
            "region_code": lg["unit"].astype(str),
            "node_id": lg["node_id"],
            "score": lg["score"].astype(float),
            "rank": lg["rank"],
            "rank_low": lg["rank_low"].astype(float),
            "rank_high": lg["rank_high"].astype(float),
            "spec_version": self.spec.spec_version,
        })


# ------------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------------

def resolve_unit_column(data: pd.DataFrame, spec: IndexSpec, unit_col: str | None) -> str:
    col = unit_col or spec.unit_id
    if col is None:
        raise DataError("no unit id column: name it with unit_col=... or 'unit_id' in the spec "
                        f"(columns: {', '.join(map(str, data.columns))})")
    if col not in data.columns:
        if data.index.name == col:
            return col
        raise DataError(f"unit id column '{col}' not found (columns: {', '.join(map(str, data.columns))})")
    return col


def _unit_index(data: pd.DataFrame, col: str) -> pd.DataFrame:
    if col not in data.columns and data.index.name == col:
        data = data.reset_index()
    ids = data[col]
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        rows = [str(i + 2) for i in np.where(blank.to_numpy())[0][:5]]
        raise DataError(f"unit id column '{col}' is empty in row(s) {', '.join(rows)} (row 1 = header)")
    keys = ids.map(_unit_key)
    dup = keys[keys.duplicated()].unique().tolist()
    if dup:
        raise DataError(f"unit id column '{col}' has duplicate id(s): {', '.join(map(str, dup[:10]))}")
    out = data.copy()
    out.index = pd.Index(keys, name=col)
    return out


def _unit_key(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _numeric(df: pd.DataFrame, cols: Sequence[str], what: str) -> pd.DataFrame:
    out = {}
    for c in cols:
        s = df[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            blanks = {"", "NA", "NaN", "nan", "-"}
            stripped = s.map(lambda v: (np.nan if v.strip() in blanks else v.strip()) if isinstance(v, str) else v)
            num = pd.to_numeric(stripped, errors="coerce")
            bad = num.isna() & stripped.notna()
            if bad.any():
                unit = bad[bad].index[0]
                raise DataError(f"{what}: column '{c}' has a non-numeric value {s[unit]!r} for unit '{unit}'")
            out[c] = num.astype(float)
        elif pd.api.types.is_bool_dtype(s):
            out[c] = s.astype(float)
        else:
            out[c] = pd.to_numeric(s, errors="coerce").astype(float)
        inf = np.isinf(out[c].to_numpy())
        if inf.any():
            unit = df.index[np.where(inf)[0][0]]
            raise DataError(f"{what}: column '{c}' has an infinite value for unit '{unit}'")
    return pd.DataFrame(out, index=df.index)


# ------------------------------------------------------------------------------------------------
# numeric engine (shared with the Monte-Carlo)
# ------------------------------------------------------------------------------------------------

def normalise_matrix(prepared: np.ndarray, spec: IndexSpec, global_params: Mapping[str, Any] | None = None,
                     reference: np.ndarray | None = None) -> np.ndarray:
    """Normalise each indicator column (spec order). ``global_params`` replaces ``methods.normalisation``
    for indicators without their own override."""
    out = np.empty_like(prepared, dtype=float)
    gp = global_params or spec.methods.normalisation
    for j, iid in enumerate(spec.indicator_ids):
        node = spec.nodes[iid]
        assert isinstance(node, Indicator)
        params = node.normalisation or gp
        ref = None if reference is None else reference[:, j]
        out[:, j] = normalise(prepared[:, j], node.direction, params, target=node.target, reference=ref)
    return out


def resolve_weights(spec: IndexSpec, agg_id: str, child_values: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Nominal local weights of ``agg_id``'s children (sum 1) and a description of how they were obtained."""
    node = spec.nodes[agg_id]
    assert isinstance(node, Aggregate)
    kids = list(node.children)
    w = spec.weighting_of(agg_id)
    method = w.get("method", "equal")
    k = len(kids)
    if k == 1:
        return np.ones(1), {"method": method, "note": "single child"}
    if method == "equal":
        return np.full(k, 1.0 / k), {"method": "equal"}
    if method == "fixed":
        ws = np.array([float(spec.nodes[c].weight) for c in kids])  # type: ignore[arg-type]
        return ws / ws.sum(), {"method": "fixed"}
    if method == "ahp":
        items = list(w.get("items") or kids)
        res = ahp_weights(parse_pairwise_matrix(w["matrix"]), method=w.get("estimator", "eigenvector"),
                          random_index=w.get("random_index", DEFAULT_RANDOM_INDEX))
        by_item = dict(zip(items, res.weights))
        return np.array([by_item[c] for c in kids]), {
            "method": "ahp", "estimator": res.estimator, "random_index_table": res.random_index_table,
            "lambda_max": res.lambda_max, "ci": res.ci, "cr": res.cr, "ri": res.ri,
        }
    if method == "entropy":
        variant = w.get("variant", "minmax")
        res = entropy_weights(child_values, variant=variant, shift=float(w.get("shift", 0.01)))
        return res.weights, {"method": "entropy", "variant": variant,
                             "entropy": dict(zip(kids, np.round(res.entropy, 12).tolist()))}
    raise SpecError([f"aggregate '{agg_id}': unknown weighting method {method!r}"], spec.source)


def evaluate_tree(normalised: np.ndarray, spec: IndexSpec, units: Sequence[str], *,
                  weights: Mapping[str, np.ndarray] | None = None, aggregation: str | None = None,
                  ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Aggregate normalised indicators up the tree.

    Returns the units x nodes matrix (columns in ``spec.preorder``), the local weights used per
    aggregate and their descriptions. ``weights`` overrides the weights of some aggregates;
    ``aggregation`` replaces ``methods.aggregation`` for aggregates without their own method.
    """
    col = {nid: j for j, nid in enumerate(spec.preorder)}
    n = normalised.shape[0]
    V = np.full((n, len(spec.preorder)), np.nan)
    for j, iid in enumerate(spec.indicator_ids):
        V[:, col[iid]] = normalised[:, j]
    used: dict[str, np.ndarray] = {}
    info: dict[str, dict[str, Any]] = {}
    for aid in spec.postorder_aggregates:
        node = spec.nodes[aid]
        assert isinstance(node, Aggregate)
        idx = [col[c] for c in node.children]
        X = V[:, idx]
        if weights is not None and aid in weights:
            w = np.asarray(weights[aid], dtype=float)
            info[aid] = {"method": "given"}
        else:
            w, info[aid] = resolve_weights(spec, aid, X)
        used[aid] = w
        method = node.aggregation or aggregation or spec.methods.aggregation
        V[:, col[aid]] = aggregate(X, w, method, spec.min_coverage_of(aid), node=aid, units=units)
    return V, used, info


# ------------------------------------------------------------------------------------------------
# public entry point
# ------------------------------------------------------------------------------------------------

def compute_index(data: pd.DataFrame, spec: IndexSpec | str | Path | Mapping[str, Any], *,
                  unit_col: str | None = None, counts: pd.DataFrame | None = None,
                  normalisation_reference: pd.DataFrame | None = None,
                  goalpost_base: Mapping[str, float] | None = None) -> IndexResult:
    """Compute the index for a unit x indicator table.

    Parameters
    ----------
    data:
        One row per unit, a unit id column (``unit_col``, else the spec's ``unit_id``) and one numeric
        column per indicator id. Extra columns are allowed (denominators, groups for imputation).
        Record counts may ride along as columns ``<indicator_id><count_suffix>`` (default ``__n``).
    spec:
        An :class:`IndexSpec`, a YAML path or a mapping.
    counts:
        Optional unit x indicator record counts (index = unit id, or a ``unit_col`` column) for the
        small-count treatment.
    normalisation_reference:
        Optional table (same indicator columns, values already denominated) whose statistics set the
        normalisation, e.g. the pooled values of all periods so that scores compare across periods.
    goalpost_base:
        Base values for goalposts written as multiples of a base (``relative_to: base``, default_v2):
        indicator id -> the scope's pooled base-period value (``indicators.scores`` passes the stored
        ones). Without it such goalposts are based on the median of this table's units, with a note —
        then those indicators' scores depend on the other units and do not compare across tables.
    """
    if not isinstance(spec, IndexSpec):
        spec = load_spec(spec)
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame")
    ucol = resolve_unit_column(data, spec, unit_col)
    df = _unit_index(data, ucol)
    spec.check_data(df.columns)
    inds = spec.indicator_ids
    raw = _numeric(df, inds, "indicator table")
    notes: list[str] = []
    rel = relative_goalposts(spec)
    if rel:
        base = dict(goalpost_base or {})
        fallback = [i for i in rel if not (base.get(i) is not None and float(base[i]) > 0)]
        for i in fallback:
            med = float(raw[i].median()) if raw[i].notna().any() else float("nan")
            if med > 0:
                base[i] = med
        if fallback:
            notes.append(f"goalposts of {len(fallback)} indicator(s) relative to this table's median (no base value "
                         f"given): {', '.join(fallback)} — their scores depend on the other units")
        unbased = [i for i in rel if not (base.get(i, 0) > 0)]
        if unbased:  # no positive base at all (no events anywhere): not scored rather than refused
            notes.append(f"not scored (no positive base value): {', '.join(unbased)}")
            raw = raw.copy()
            raw[unbased] = float("nan")
            base.update({i: 1.0 for i in unbased})
        spec = resolve_goalposts(spec, base)
    extra = [c for c in df.columns if c not in inds and c != ucol
             and not (isinstance(c, str) and c.endswith(str(spec.methods.small_count.get("count_suffix", "__n")))
                      and c[: -len(str(spec.methods.small_count.get("count_suffix", "__n")))] in inds)]
    stages: dict[str, pd.DataFrame] = {}

    # record counts
    suffix = str(spec.methods.small_count.get("count_suffix", "__n"))
    if counts is None:
        ccols = [f"{i}{suffix}" for i in inds if f"{i}{suffix}" in df.columns]
        if ccols:
            counts = _numeric(df, ccols, "record counts").rename(columns=lambda c: c[: -len(suffix)])
    else:
        if ucol in counts.columns:
            counts = _unit_index(counts, ucol)
        else:
            counts = counts.copy()
            counts.index = counts.index.map(_unit_key)
        counts = _numeric(counts, [c for c in counts.columns if c in inds], "record counts")
        counts = counts.reindex(raw.index)

    values = raw.copy()
    # 1 denominate
    dens = {i.id: i.denominator for i in spec.indicators if i.denominator}
    if dens:
        values = denominate(values, df, dens)
        stages["denominated"] = values.copy()
    # 2 small counts
    sc = spec.methods.small_count
    treatment = sc.get("treatment", "none")
    min_rec = {i: spec.min_records_of(i) for i in inds}
    flags = pd.DataFrame()
    if treatment != "none" and any(v > 0 for v in min_rec.values()):
        if counts is None:
            notes.append(f"small-count treatment '{treatment}' not applied: no record counts supplied "
                         f"(columns <indicator>{suffix} or counts=...)")
        else:
            values, flags = small_counts(values, counts, min_rec, treatment)
            stages["small_counts"] = values.copy()
            if len(flags):
                notes.append(f"small counts: {len(flags)} value(s) rest on fewer records than min_records "
                             f"(treatment '{treatment}')")
    if flags.empty:
        flags = small_counts(values, None, {}, "none")[1]
    # 3 impute
    imp = spec.methods.imputation
    imputed_mask = values.isna() & False
    if imp.get("method", "none") != "none":
        groups = None
        if imp["method"].startswith("group"):
            gcol = imp["group_column"]
            if gcol not in df.columns:
                raise DataError(f"imputation group column '{gcol}' not in the table")
            groups = df[gcol]
        values, imputed_mask = impute(values, imp["method"], groups)
        stages["imputed"] = values.copy()
        if imputed_mask.to_numpy().any():
            notes.append(f"imputation ({imp['method']}): {int(imputed_mask.to_numpy().sum())} cell(s) filled")
    # 4 screen
    thr = float(spec.methods.screening.get("min_unit_coverage", 0.0))
    kept = screen_units(values, thr)
    if not kept.all():
        excluded = [str(u) for u in kept.index[~kept]]
        notes.append(f"screening: {len(excluded)} unit(s) below {thr:.0%} indicator coverage excluded: "
                     + ", ".join(excluded[:20]))
    else:
        excluded = []
    values = values.loc[kept]
    if thr > 0:
        stages["screened"] = values.copy()
    if len(values) == 0:
        raise DataError("no units left to rank")
    # 5 treat outliers
    tr = spec.methods.treatment
    tlog = pd.DataFrame()
    tpoints = pd.DataFrame("", index=values.index, columns=values.columns)
    if tr.get("method", "none") == "winsorise":
        exempt = [i.id for i in spec.indicators if i.treatment == "none"]
        values, tlog, tpoints = treat_outliers(values, tr, exempt)
        stages["treated"] = values.copy()
        n_tr = int((tlog["treated"].isin(["winsorise", "log_ct"])).sum()) if len(tlog) else 0
        notes.append(f"outlier treatment: {n_tr} indicator(s) treated")
    prepared = values
    # 6 normalise
    ref = None
    if normalisation_reference is not None:
        missing_ref = [i for i in inds if i not in normalisation_reference.columns]
        if missing_ref:
            raise DataError(f"normalisation reference lacks indicator(s) {', '.join(missing_ref)}")
        ref = _numeric(normalisation_reference.reset_index(drop=True), inds, "normalisation reference").to_numpy()
        notes.append(f"normalisation statistics taken from a reference table of {len(ref)} rows")
    units = list(prepared.index)
    N = normalise_matrix(prepared.to_numpy(dtype=float), spec, reference=ref)
    for j, iid in enumerate(inds):
        if np.all(np.isnan(N[:, j])) and prepared[iid].notna().any():
            notes.append(f"indicator '{iid}' is constant over the units (or lacks a target): no information, "
                         "treated as missing")
    normalised = pd.DataFrame(N, index=prepared.index, columns=inds)
    # 7 aggregate
    V, used, info = evaluate_tree(N, spec, units)
    for aid, inf in info.items():
        if inf.get("method") == "entropy":
            notes.append(f"entropy weights at '{aid}' (variant {inf['variant']}): "
                         + ", ".join(f"{c}={w:.4f}" for c, w in zip(spec.children(aid), used[aid])))
    scores = pd.DataFrame(V, index=prepared.index, columns=list(spec.preorder))
    ranks = pd.DataFrame(rank_matrix(V, spec.methods.ranking.get("decimals")), index=prepared.index,
                         columns=list(spec.preorder))
    weights = {aid: pd.Series(used[aid], index=list(spec.children(aid)), name=aid) for aid in spec.aggregate_ids}
    if extra:
        notes.append(f"columns not used as indicators: {', '.join(map(str, extra[:30]))}"
                     f"{' ...' if len(extra) > 30 else ''}")
    return IndexResult(
        spec=spec, unit_col=ucol, raw=raw, stages=stages, prepared=prepared, normalised=normalised,
        scores=scores, ranks=ranks, weights=weights, weight_info=info, treatment_log=tlog,
        treated_points=tpoints, imputed_cells=imputed_mask, small_count_flags=flags,
        counts=counts, excluded_units=excluded, notes=notes, normalisation_reference=ref,
    )


def unit_weights(result: IndexResult, agg_id: str) -> pd.DataFrame:
    """Per-unit local weights of ``agg_id``'s children after dropping missing children (rows sum to 1)."""
    spec = result.spec
    kids = list(spec.children(agg_id))
    X = result.scores[kids].to_numpy(dtype=float)
    W = renormalised_weights(X, result.weights[agg_id].to_numpy(), spec.min_coverage_of(agg_id))
    return pd.DataFrame(W, index=result.scores.index, columns=kids)
