"""Index stage (指数): clean.* -> mart.indicator_values -> mart.index_scores, per scope and period.

Thin wrappers: ``indicators.run_indicators`` (the SQL in sql/indicators/) and
``indicators.scores`` (index_model on the stored values, Monte-Carlo rank intervals).
The scope (``32`` a province's prefectures, ``3204`` a prefecture's counties, ``CN`` the
provinces) and periods (``2025``, ``2025H1``, ``2025Q3``) come from run config; by default the
scope comes from the data (one prefecture -> its counties, one province -> its prefectures, several
provinces -> CN; ``pipelines.index_guards``) and the periods are every year in it.

``index_scores`` carries blocking checks (no NaN score, at least two regions, every region of the
scope present, weights summing to 1); a period failing one is not written, and the report folders
are held back.

Nothing is published from a month the gate held back or has not judged on its current staging
rows (``data_quality.publishability``): the step fails naming the months and their failed checks,
unless ``provisional`` is set (the reports then carry a "provisional" banner on every page and sheet).
"""
import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.quality import quality_assets
from pipelines.index_guards import INDEX_CHECKS
from pipelines.resources import DUCKDB_POOL, retry_when_busy


class IndexConfig(dg.Config):
    scope: str = ""  # empty: derived from the data
    periods: list[str] = []  # empty: every calendar year present in clean.complaints
    spec_path: str = ""  # empty: the shipped default spec (index_model/specs/default_v2.yaml)
    provisional: bool = False  # publish periods with stale or held-back months anyway, marked provisional


def resolve_targets(con, config: IndexConfig) -> tuple[str, list[str]]:
    from indicators.scopes import canonical_scope
    from ingestion.sqlfiles import sql_text
    from pipelines.index_guards import scope_from_regions

    scope = config.scope or scope_from_regions(con.execute(sql_text("pipelines/data_scope.sql")).fetchall())
    periods = list(config.periods) or [r[0] for r in con.execute(sql_text("pipelines/data_years.sql")).fetchall()]
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

    with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
        scope, periods = resolve_targets(con, config)
        verdicts = guard_periods(context, con, scope, periods, config.provisional)
        written = {p: int(len(run_indicators(con, scope, p, config.spec_path or None))) for p in periods}
    return dg.MaterializeResult(metadata={"scope": scope, "periods": dg.MetadataValue.json(written),
                                          "provisional": dg.MetadataValue.json({p: v.banner("en") for p, v in verdicts.items()
                                                                          if not v.publishable})})


@dg.asset(key_prefix="mart", group_name="index", pool=DUCKDB_POOL, deps=[indicator_values], kinds={"duckdb"},
          check_specs=[dg.AssetCheckSpec(name, asset=dg.AssetKey(["mart", "index_scores"]), blocking=True,
                                         description=text) for name, text in INDEX_CHECKS.items()],
          description="Every node's score, rank and Monte-Carlo 5–95% rank interval per region (mart.index_scores). "
                      "A period failing a check is not written; the report folders are held back.")
def index_scores(context: dg.AssetExecutionContext, config: IndexConfig, duckdb: DuckDBResource):
    from indicators.scopes import scope_units
    from indicators.scores import index_for, ranking_table, write_index_scores
    from pipelines.index_guards import index_problems, no_scores_problems

    summary, problems = {}, {name: [] for name in INDEX_CHECKS}
    with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
        scope, periods = resolve_targets(con, config)
        guard_periods(context, con, scope, periods, config.provisional)
        expected = scope_units(scope).unit_code.tolist()
        for p in periods:
            run = index_for(con, scope, p, config.spec_path or None)
            found = no_scores_problems(p) if run is None else index_problems(run, expected)
            if any(found.values()):
                for name, items in found.items():
                    problems[name] += [f"{p}: {i}" for i in items]
                context.log.error(f"scope {scope}, period {p} not written: "
                                  + "; ".join(f"{n}: {', '.join(i[:3])}" for n, i in found.items() if i))
                continue
            write_index_scores(con, run)
            top = ranking_table(con, scope, p).head(3)
            summary[p] = {"spec_version": run.spec.spec_version,
                          "top3": [f"{r.region} {r.score}" for r in top.itertuples()]}
    yield dg.MaterializeResult(metadata={"scope": scope, "periods": dg.MetadataValue.json(summary),
                                         "periods_not_written": dg.MetadataValue.json(
                                             sorted({i.split(":")[0] for v in problems.values() for i in v}))})
    for name, items in problems.items():
        yield dg.AssetCheckResult(check_name=name, passed=not items, severity=dg.AssetCheckSeverity.ERROR,
                                  metadata={"scope": scope, "problems": dg.MetadataValue.json(items[:50]),
                                            "count": len(items)})


index_assets = [indicator_values, index_scores]
