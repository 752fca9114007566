"""Index runs: mart.indicator_values -> index_model -> mart.index_scores (per scope and period).

The indicator layer has already applied the spec's small-count treatment to ``value``, so the
model is given values only (no record counts): passing counts as well would shrink twice.
Monte-Carlo rank intervals use the spec's uncertainty settings (runs, seed).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from index_model import compute_index, run_uncertainty
from index_model.spec import IndexSpec
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


def index_for(con, scope: str, period: str, spec=None, *, runs: int | None = None,
              seed: int | None = None) -> IndexRun | None:
    """Compute the index from stored indicator values (None when there are none for the period)."""
    spec = resolve_spec(spec)
    values = indicator_table(con, scope, period)
    if values.empty:
        return None
    for ind in spec.indicator_ids:  # an indicator no unit has a value for stays a (missing) column
        if ind not in values:
            values[ind] = float("nan")
    result = compute_index(values, spec, unit_col="region_code")
    unc = run_uncertainty(result, runs=runs, seed=seed) if (runs is None or runs > 0) else None
    return IndexRun(scope, period, spec, result, unc, values)


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
    prev = scores[(scores.period != period) & (scores.level == 0)].set_index("region_code")["rank"]
    table["rank_change"] = (prev.reindex(table.index) - table["rank"]).astype("Int64")
    names = admin_divisions().set_index("code")["name"]
    table.insert(0, "region", names.reindex(table.index).fillna(table.index.to_series()))
    return table.sort_values(["rank", "score"], ascending=[True, False]).reset_index()
