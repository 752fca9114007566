"""Index runs: mart.indicator_values -> index_model -> mart.index_scores (per scope and period).

The indicator layer has already applied the spec's small-count treatment to ``value``, so the
model is given values only (no record counts): passing counts as well would shrink twice.
Monte-Carlo rank intervals use the spec's uncertainty settings (runs, seed).

Goalposts (``default_v2``): goalposts written as multiples of a base value are resolved with the
scope's pooled values (``scope_value``) of the spec's ``base_period`` stored in
``mart.indicator_values`` (else the earliest stored year of the scope, else the period itself — the
run's ``notes`` say which), and goalposts of counts per period are scaled by the period's share of a
year (:func:`index_model.resolve_goalposts`). The same spec and base therefore give every period of
a scope the same goalposts: scores, grades and year-on-year changes are on one scale. Rank changes
in :func:`ranking_table` are only shown against a previous period stored with the same spec version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from index_model import compute_index, resolve_goalposts, run_uncertainty
from index_model.spec import IndexSpec, relative_goalposts
from indicators.compute import resolve_spec
from indicators.periods import parse_period
from indicators.sqlfiles import replace_rows, run


@dataclass
class IndexRun:
    scope: str
    period: str
    spec: IndexSpec
    result: object  # index_model.IndexResult
    uncertainty: object | None  # index_model UncertaintyResult
    values: pd.DataFrame  # the unit x indicator table that went in
    notes: tuple[str, ...] = ()  # how the goalposts were resolved (base period used, fallbacks)

    def mart_rows(self) -> pd.DataFrame:
        rows = self.result.to_mart(self.scope, self.period, self.uncertainty)
        long = self.result.long(self.uncertainty).rename(columns={"unit": "region_code"})
        extra = long[["region_code", "node_id", "level", "grade"] + (["median_rank"] if "median_rank" in long else [])]
        rows = rows.merge(extra, on=["region_code", "node_id"], how="left")
        rows["rank_median"] = rows.pop("median_rank") if "median_rank" in rows else rows["rank"].astype(float)
        rows["computed_at"] = datetime.now().replace(microsecond=0)
        return rows


def previous_period(period: str) -> str:
    """The period a change is measured against: 2025 -> 2024, 2025H1 -> 2024H2, 2025Q1 -> 2024Q4."""
    p = parse_period(period)
    year = int(p.label[:4])
    if p.kind == "year":
        return str(year - 1)
    if p.kind == "half":
        return f"{year - 1}H2" if p.label.endswith("H1") else f"{year}H1"
    if p.kind == "quarter":
        q = int(p.label[-1])
        return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"
    month = int(p.label[5:])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def indicator_table(con, scope: str, period: str) -> pd.DataFrame:
    """mart.indicator_values of a scope and period as a unit x indicator table (region_code column)."""
    long = run(con, "index_input.sql", {"scope": scope, "period": period}).df()
    if long.empty:
        return long
    return long.pivot(index="region_code", columns="indicator_id", values="value").reset_index()


PERIOD_FRACTION = {"year": 1.0, "half": 0.5, "quarter": 0.25, "month": 1.0 / 12.0}


def goalpost_base(con, scope: str, period: str, spec: IndexSpec) -> tuple[dict[str, float], list[str]]:
    """Base values (pooled scope values of the base period) for the spec's base-relative goalposts."""
    rel = relative_goalposts(spec)
    if not rel:
        return {}, []
    stated = str(spec.methods.normalisation.get("base_period") or "")
    years = [p for p in run(con, "stored_periods.sql", {"scope": scope}).df()["period"].astype(str)
             if parse_period(p).kind == "year"]
    notes = []
    if stated and stated in years:
        base_period = stated
    elif years:
        base_period = years[0]
        notes.append(f"base period {stated or '(none stated)'} not stored for scope {scope}: goalposts relative to "
                     f"the earliest stored year {base_period}")
    else:
        base_period = period
        notes.append(f"no year stored for scope {scope}: base-relative goalposts use period {period} itself "
                     "(not comparable with other periods)")
    df = run(con, "base_values.sql", {"scope": scope, "period": base_period}).df()
    base = {r.indicator_id: float(r.base_value) for r in df.itertuples() if pd.notna(r.base_value)}
    missing = [i for i in rel if not (base.get(i, 0) > 0)]
    if missing and base_period != period:
        cur = run(con, "base_values.sql", {"scope": scope, "period": period}).df()
        for r in cur.itertuples():
            if r.indicator_id in missing and pd.notna(r.base_value) and r.base_value > 0:
                base[r.indicator_id] = float(r.base_value)
        notes.append(f"no base value in {base_period} for {', '.join(missing)}: period {period} used for them")
    notes.insert(0, f"goalposts: base period {base_period}")
    unbased = [i for i in rel if not (base.get(i, 0) > 0)]
    if unbased:
        # nothing to scale the goalposts by (no events in the base period nor in this one): the
        # indicator cannot be scored, so it is left out rather than the whole index refused
        notes.append(f"not scored (no base value in {base_period} or {period}): {', '.join(unbased)}")
    return base, notes


def unbased_indicators(spec: IndexSpec, base: dict[str, float]) -> list[str]:
    """Base-relative indicators without a usable (> 0) base value: they cannot be scored."""
    return [i for i in relative_goalposts(spec) if not (base.get(i, 0) > 0)]


def resolved_spec(con, scope: str, period: str, spec=None) -> tuple[IndexSpec, list[str], list[str]]:
    """The spec with numeric goalposts for ``scope`` and ``period`` (see module doc), the notes, and
    the base-relative indicators that cannot be scored (no base value)."""
    spec = resolve_spec(spec)
    base, notes = goalpost_base(con, scope, period, spec)
    fraction = PERIOD_FRACTION[parse_period(period).kind]
    if not relative_goalposts(spec) and fraction == 1.0:
        return spec, notes, []
    # unscored indicators get a placeholder base; index_for blanks their values
    unscored = unbased_indicators(spec, base)
    base = {**base, **{i: 1.0 for i in unscored}}
    return resolve_goalposts(spec, base, period_fraction=fraction), notes, unscored


def index_for(con, scope: str, period: str, spec=None, *, runs: int | None = None,
              seed: int | None = None) -> IndexRun | None:
    """Compute the index from stored indicator values (None when there are none for the period)."""
    spec = resolve_spec(spec)
    values = indicator_table(con, scope, period)
    if values.empty:
        return None
    spec, notes, unscored = resolved_spec(con, scope, period, spec)
    for ind in unscored:
        values[ind] = float("nan")
    for ind in spec.indicator_ids:  # an indicator no unit has a value for stays a (missing) column
        if ind not in values:
            values[ind] = float("nan")
    result = compute_index(values, spec, unit_col="region_code")
    result.notes.extend(notes)
    unc = run_uncertainty(result, runs=runs, seed=seed) if (runs is None or runs > 0) else None
    return IndexRun(scope, period, spec, result, unc, values, tuple(notes))


def write_index_scores(con, run_: IndexRun) -> int:
    """Replace (scope, period) in ``mart.index_scores`` in one transaction (joins the caller's if open)."""
    run(con, "index_scores_ddl.sql")
    rows = run_.mart_rows()
    replace_rows(con, "index_rows_frame", rows, "delete_index_scores.sql",
                 {"scope": run_.scope, "period": run_.period}, "insert_index_scores.sql")
    return len(rows)


def ranking_table(con, scope: str, period: str, lang: str = "zh") -> pd.DataFrame:
    """The ranking a bureau reads: region, composite score and rank, 5–95% rank interval, grade,
    dimension scores, and the rank change against the previous period (positive = moved up)."""
    from reference import admin_divisions

    scores = run(con, "index_scores_two_periods.sql",
                 {"scope": scope, "period": period, "previous": previous_period(period)}).df()
    cur = scores[scores.period == period]
    if cur.empty:
        return cur
    level1 = sorted(cur.loc[cur.level == 1, "node_id"].unique())
    top = cur[cur.level == 0].set_index("region_code")
    table = pd.DataFrame({
        "region_code": top.index,
        "score": top["score"].round(2),
        "rank": top["rank"],
        "rank_interval": [f"{int(lo)}–{int(hi)}" if pd.notna(lo) else "" for lo, hi in zip(top.rank_low, top.rank_high)],
        "grade": top["grade"],
    }).set_index("region_code")
    for node in level1:
        table[node] = cur[cur.node_id == node].set_index("region_code")["score"].round(2)
    # a rank change is only meaningful on one scale: the previous period must carry the same spec version
    same = scores.spec_version.isin(set(cur.spec_version.dropna()))
    prev = scores[(scores.period != period) & (scores.level == 0) & same].set_index("region_code")["rank"]
    table["rank_change"] = (prev.reindex(table.index) - table["rank"]).astype("Int64")
    names = admin_divisions().set_index("code")["name"]
    table.insert(0, "region", names.reindex(table.index).fillna(table.index.to_series()))
    return table.sort_values(["rank", "score"], ascending=[True, False]).reset_index()


def indicator_noise(spec: IndexSpec, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """:func:`index_model.noise_table` for two periods' ``mart.indicator_values`` rows of one scope: each
    indicator's noise model from the spec (``noise``, ``methods.noise.by_kind``) and its @kind, the scale of
    its formula from ``indicators.definitions`` (10000 for per-10k rates), the spec's interval level.
    Empty when either period has no rows."""
    from index_model import noise_models, noise_table

    from .definitions import definitions

    cols = ["region_code", "indicator_id", "numerator", "denominator", "raw_value"]
    if before is None or after is None or before.empty or after.empty:
        return pd.DataFrame()
    defs = definitions()
    models = noise_models(spec, {k: d.kind for k, d in defs.items()})
    level = float((getattr(spec.methods, "noise", None) or {}).get("level", 0.95))
    fix = (lambda f: f.assign(region_code=f["region_code"].astype(str))[cols])
    return noise_table(fix(before), fix(after), models, {k: d.scale for k, d in defs.items()}, level)
