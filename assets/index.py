"""Index stage (指数): clean.* -> mart.indicator_values -> mart.index_scores, per scope and period.

Thin wrappers: ``indicators.run_indicators`` (the SQL in sql/indicators/) and
``indicators.scores`` (index_model on the stored values, Monte-Carlo rank intervals).
The scope (``32`` a province's prefectures, ``3204`` a prefecture's counties, ``CN`` the
provinces) and periods (``2025``, ``2025H1``, ``2025Q3``) come from run config; by default the
scope is the one province the data covers (CN if several) and the periods every year in it.

Nothing is published from a month the gate held back or has not judged on its current staging
rows (``data_quality.publishability``): the step fails naming the months and their failed checks,
unless ``provisional`` is set (the reports then carry a "provisional" banner on every page and sheet).
"""
import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.quality import quality_assets
from pipelines.resources import DUCKDB_POOL


class IndexConfig(dg.Config):
    scope: str = ""  # empty: derived from the data
    periods: list[str] = []  # empty: every calendar year present in clean.complaints
    spec_path: str = ""  # empty: the shipped default spec (index_model/specs/default_v2.yaml)
    provisional: bool = False  # publish periods with stale or held-back months anyway, marked provisional


def resolve_targets(con, config: IndexConfig) -> tuple[str, list[str]]:
    from indicators.scopes import canonical_scope

    scope = config.scope
    if not scope:
        provinces = [r[0] for r in con.execute(
            "SELECT DISTINCT substr(handling_region_code, 1, 2) FROM clean.complaints "
            "WHERE handling_region_code IS NOT NULL").fetchall()]
        scope = provinces[0] if len(provinces) == 1 else "CN"
    periods = list(config.periods) or [r[0] for r in con.execute(
        "SELECT DISTINCT CAST(year(received_at) AS VARCHAR) FROM clean.complaints ORDER BY 1").fetchall()]
    return canonical_scope(scope), periods


def guard_periods(context, con, scope: str, periods: list[str], provisional: bool) -> dict:
    """The gate's verdict per period (``data_quality.publishability.Verdict``; its ``banner`` is
    empty when publishable); raises ``dg.Failure`` naming the stale / held-back months and failed
    checks unless ``provisional``."""
    from data_quality.publishability import check_period

    verdicts = {p: check_period(con, scope, p) for p in periods}
    refused = [v for v in verdicts.values() if not v.publishable]
    if refused and not provisional:
        raise dg.Failure(description=" ".join(v.message() for v in refused), allow_retries=False,
                         metadata={"months": dg.MetadataValue.json({v.period: v.months for v in refused})})
    for v in refused:
        context.log.warning(v.banner("en"))
    return verdicts


@dg.asset(key_prefix="mart", group_name="index", pool=DUCKDB_POOL, deps=quality_assets,
          description="L3 indicators per region and period with numerator, denominator and record count "
                      "(mart.indicator_values; definitions in sql/indicators/METHODOLOGY.md).")
def indicator_values(context: dg.AssetExecutionContext, config: IndexConfig, duckdb: DuckDBResource):
    from indicators import run_indicators

    with duckdb.get_connection() as con:
        scope, periods = resolve_targets(con, config)
        verdicts = guard_periods(context, con, scope, periods, config.provisional)
        written = {p: int(len(run_indicators(con, scope, p, config.spec_path or None))) for p in periods}
    return dg.MaterializeResult(metadata={"scope": scope, "periods": dg.MetadataValue.json(written),
                                          "provisional": dg.MetadataValue.json({p: v.banner("en") for p, v in verdicts.items()
                                                                          if not v.publishable})})


@dg.asset(key_prefix="mart", group_name="index", pool=DUCKDB_POOL, deps=[indicator_values],
          description="Every node's score, rank and Monte-Carlo 5–95% rank interval per region (mart.index_scores).")
def index_scores(context: dg.AssetExecutionContext, config: IndexConfig, duckdb: DuckDBResource):
    from indicators.scores import index_for, ranking_table, write_index_scores

    summary = {}
    with duckdb.get_connection() as con:
        scope, periods = resolve_targets(con, config)
        guard_periods(context, con, scope, periods, config.provisional)
        for p in periods:
            run = index_for(con, scope, p, config.spec_path or None)
            if run is None:
                context.log.warning(f"no indicator values for scope {scope}, period {p}")
                continue
            write_index_scores(con, run)
            top = ranking_table(con, scope, p).head(3)
            summary[p] = {"spec_version": run.spec.spec_version,
                          "top3": [f"{r.region} {r.score}" for r in top.itertuples()]}
    return dg.MaterializeResult(metadata={"scope": scope, "periods": dg.MetadataValue.json(summary)})


index_assets = [indicator_values, index_scores]
