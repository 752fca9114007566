"""Index stage (指数): clean.* -> mart.indicator_values -> mart.index_scores, per period and scope.

Thin wrappers: ``indicators.run_indicators`` (the SQL in sql/indicators/) and
``indicators.scores`` (index_model on the stored values, Monte-Carlo rank intervals).

Partitioned by period × scope (``pipelines/partitions.py``), in two families: years
(``mart/indicator_values``, ``mart/index_scores``) and quarters (``..._quarterly``); the monthly
clean partitions map onto them, so a changed May 2025 makes 2025 and 2025Q2 stale, and the
automation condition (``pipelines/automation.py``) runs them once the months passed the gate. The
scope partitions (``32`` a province's prefectures, ``3204`` a prefecture's counties, ``CN`` the
provinces) come from the data (one prefecture -> its counties; ``pipelines.index_guards``).

``index_scores`` carries blocking checks (no NaN score, at least two regions, every region of the
scope present, weights summing to 1), recorded per partition; a failing partition is not written,
and its report folder is held back.

Nothing is published from a month the gate held back or has not judged on its current staging
rows (``data_quality.publishability``): the step fails naming the months and their failed checks,
unless ``provisional`` is set (the reports then carry a "provisional" banner on every page and sheet).
"""
import warnings

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.quality import quality_assets
from pipelines.automation import index_due
from pipelines.index_guards import INDEX_CHECKS
from pipelines.partitions import from_months, index_partitions, period_and_scope
from pipelines.resources import DUCKDB_POOL, retry_when_busy

SUFFIX = {"year": "", "quarter": "_quarterly"}
OWNERS = ["team:cei-analysts"]


class IndexConfig(dg.Config):
    spec_path: str = ""  # empty: the shipped default spec (index_model/specs/default_v2.yaml)
    provisional: bool = False  # publish periods with stale or held-back months anyway, marked provisional


def resolve_targets(con, scope: str = "", periods=None) -> tuple[str, list[str]]:
    """The scope (given, else from the data) and periods (given, else every year in the data)."""
    from indicators.scopes import canonical_scope
    from ingestion.sqlfiles import sql_text
    from pipelines.index_guards import scope_from_regions

    scope = scope or scope_from_regions(con.execute(sql_text("pipelines/data_scope.sql")).fetchall())
    periods = list(periods or []) or [r[0] for r in con.execute(sql_text("pipelines/data_years.sql")).fetchall()]
    return canonical_scope(scope), periods


def partition_target(context: dg.AssetExecutionContext) -> tuple[str, str]:
    """(scope, period) of the run's partition: ``2025-04-01|3204`` -> ``("3204", "2025Q2")``."""
    from indicators.scopes import canonical_scope

    period, scope = period_and_scope(context.partition_key)
    return canonical_scope(scope), period


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


def _index_checks(key: dg.AssetKey, partitions_def) -> list[dg.AssetCheckSpec]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # partitions_def on a check spec is a preview feature in 1.13
        return [dg.AssetCheckSpec(name, asset=key, blocking=True, description=text, partitions_def=partitions_def)
                for name, text in INDEX_CHECKS.items()]


def _index_family(grain: str):
    suffix, partitions_def = SUFFIX[grain], index_partitions[grain]
    deps = [dg.AssetDep(a, partition_mapping=from_months) if a.partitions_def is not None else dg.AssetDep(a)
            for a in quality_assets]

    @dg.asset(name=f"indicator_values{suffix}", key_prefix="mart", group_name="index", pool=DUCKDB_POOL, deps=deps,
              partitions_def=partitions_def, automation_condition=index_due, kinds={"duckdb"}, owners=OWNERS,
              description=f"L3 indicators per region for one {grain} and scope, with numerator, denominator and "
                          "record count (mart.indicator_values; definitions in sql/indicators/METHODOLOGY.md).")
    def indicator_values(context: dg.AssetExecutionContext, config: IndexConfig, duckdb: DuckDBResource):
        from indicators import run_indicators

        scope, period = partition_target(context)
        with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
            verdicts = guard_periods(context, con, scope, [period], config.provisional)
            written = int(len(run_indicators(con, scope, period, config.spec_path or None)))
        return dg.MaterializeResult(metadata={
            "scope": scope, "period": period, "dagster/row_count": written,
            "provisional": verdicts[period].banner("en") or "no"})

    key = dg.AssetKey(["mart", f"index_scores{suffix}"])

    @dg.asset(name=f"index_scores{suffix}", key_prefix="mart", group_name="index", pool=DUCKDB_POOL,
              deps=[indicator_values], partitions_def=partitions_def, automation_condition=index_due,
              kinds={"duckdb"}, owners=OWNERS, check_specs=_index_checks(key, partitions_def),
              description=f"Every node's score, rank and Monte-Carlo 5–95% rank interval per region, for one {grain} "
                          "and scope (mart.index_scores). A partition failing a check is not written; its report "
                          "folder is held back.")
    def index_scores(context: dg.AssetExecutionContext, config: IndexConfig, duckdb: DuckDBResource):
        from indicators.scopes import scope_units
        from indicators.scores import index_for, ranking_table, write_index_scores
        from pipelines.index_guards import index_problems, no_scores_problems

        scope, period = partition_target(context)
        metadata = {"scope": scope, "period": period}
        with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
            guard_periods(context, con, scope, [period], config.provisional)
            expected = scope_units(scope).unit_code.tolist()
            run = index_for(con, scope, period, config.spec_path or None)
            problems = no_scores_problems(period) if run is None else index_problems(run, expected)
            if any(problems.values()):
                context.log.error(f"scope {scope}, period {period} not written: "
                                  + "; ".join(f"{n}: {', '.join(i[:3])}" for n, i in problems.items() if i))
            else:
                write_index_scores(con, run)
                top = ranking_table(con, scope, period)
                metadata.update({
                    "spec_version": run.spec.spec_version, "dagster/row_count": int(len(top)),
                    "top_of_ranking": dg.MetadataValue.md(_ranking_preview(top.head(5)))})
        metadata["written"] = not any(problems.values())
        yield dg.MaterializeResult(metadata=metadata)
        for name, items in problems.items():
            yield dg.AssetCheckResult(check_name=name, passed=not items, severity=dg.AssetCheckSeverity.ERROR,
                                      metadata={"scope": scope, "period": period,
                                                "problems": dg.MetadataValue.json(items[:50]), "count": len(items)})

    return [indicator_values, index_scores]


def _ranking_preview(top) -> str:
    """The top of the ranking as a markdown table (no tabulate needed)."""
    cols = [c for c in ("rank", "region", "score", "grade") if c in top.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(getattr(r, c)).replace("|", "/") for c in cols) + " |" for r in top.itertuples()]
    return "\n".join(lines)


yearly_index_assets = _index_family("year")
quarterly_index_assets = _index_family("quarter")
indicator_values, index_scores = yearly_index_assets
index_assets = [*yearly_index_assets, *quarterly_index_assets]
