"""Quality stage (数据质量): staging -> dq.rule_results, dq.quarantine, clean — per month.

Thin wrappers around ``data_quality.gate`` (the rulebook as DuckDB SQL: whole-table and heavy rules
such as duplicates, deadlines and checksums at scale) and ``data_quality.gx_suite`` (the
column-level rules as a Great Expectations suite, built in code with an ephemeral context and run
on each month's bounded pandas sample in turn (``gx_suite.GX_BATCH_NOTE``, stated in the check's
metadata: memory does not grow with the data) — GX's SQL path on DuckDB is broken in 1.24.1, so GX
never touches DuckDB directly). Both become asset checks on the partition(s) of the run; they block
later stages when a partition's error share passes the configured threshold.
"""
import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.ingest import staging_complaints, staging_hotline_stats, staging_region_profiles, staging_sampling_results
from data_quality import gate
from data_quality.thresholds import MAX_ERROR_SHARE, months_over, over_detail
from pipelines.partitions import monthly_partitions
from assets.checks import month_check_spec, month_results
from pipelines.resources import DUCKDB_POOL, retry_when_busy


class QualityConfig(dg.Config):
    """Error share (quarantined ÷ staged rows) above which a month is held back (data_quality.thresholds)."""

    max_error_share: float = MAX_ERROR_SHARE


def _quality_asset(table: str, zh: str, upstream, partitioned: bool):
    key = dg.AssetKey(["clean", table])
    checks = [
        dg.AssetCheckSpec("error_share", asset=key, blocking=True,
                          description="share of quarantined rows per partition stays under max_error_share"),
        dg.AssetCheckSpec("reconciled", asset=key, blocking=True,
                          description="staging = clean + quarantine, per partition"),
        dg.AssetCheckSpec("gx_column_expectations", asset=key, blocking=True,
                          description="column-level expectations (GX suite from the rulebook) on the partition batch"),
    ]
    if partitioned:  # the gate's verdict kept per month, also for the months of a range run
        checks.append(month_check_spec("month_gate", key, "this month passes the gate: error share under "
                                                          "max_error_share, reconciled, column expectations"))

    @dg.asset(name=table, key_prefix="clean", group_name="quality", pool=DUCKDB_POOL, deps=[upstream],
              check_specs=checks, kinds={"duckdb"}, partitions_def=monthly_partitions if partitioned else None,
              backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
              description=f"{zh}: staging rows that passed every error rule (clean.{table}); "
                          "failures in dq.quarantine with their rule ids, every violation in dq.rule_results.")
    def _asset(context: dg.AssetExecutionContext, config: QualityConfig, duckdb: DuckDBResource):
        # GX import costs ~2.5 s: only when running
        from data_quality.gx_suite import GX_BATCH_NOTE, validate_partitions

        with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
            gate.ensure_tables(con)
            partitions = ([k[:7] for k in context.partition_keys] if partitioned
                          else gate.staged_partitions(con, table))
            # GX on each month's bounded sample in turn, before the gate rebuilds clean (staging as
            # delivered); only the counts are kept, never a whole month
            gx = validate_partitions(con, table, partitions, _rule_ids("error"))
            result = gate.run_gate(con, table, partitions, limits={"error_share": config.max_error_share})
        gx_share = gx.share

        worst = max(result.partitions, key=lambda p: p.error_share, default=None)
        shares = {p.partition: p.error_share for p in result.partitions}
        over = months_over(shares, config.max_error_share)
        staged = sum(p.rows_staged for p in result.partitions)
        yield dg.MaterializeResult(metadata={
            "partitions": len(partitions), "rows_staged": staged,
            "rows_clean": sum(p.rows_clean for p in result.partitions),
            "rows_quarantined": sum(p.rows_quarantined for p in result.partitions),
            "rows_flagged": sum(p.rows_flagged for p in result.partitions),
            "run_id": result.run_id, "seconds": round(result.seconds, 2),
        })
        yield dg.AssetCheckResult(
            check_name="error_share", passed=not over, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"max_error_share": config.max_error_share,
                      "worst_partition": worst.partition if worst else "",
                      "worst_error_share": worst.error_share if worst else 0.0,
                      "partitions_over_threshold": dg.MetadataValue.json(over_detail(shares, config.max_error_share)),
                      "error_share_by_partition": dg.MetadataValue.json({k: round(v, 6) for k, v in sorted(shares.items())})})
        yield dg.AssetCheckResult(
            check_name="reconciled", passed=all(p.reconciled for p in result.partitions),
            metadata={"partitions": len(result.partitions)})
        gx_over = months_over({str(p): float(v) for p, v in gx_share.items()}, config.max_error_share)
        yield dg.AssetCheckResult(
            check_name="gx_column_expectations", passed=not gx_over,
            metadata={"unexpected_by_rule": dg.MetadataValue.json(dict(sorted(gx.unexpected_by_rule.items()))),
                      "rows_failing_error_rules": int(sum(gx.rows_failing.values())),
                      "partitions_over_threshold": dg.MetadataValue.json(gx_over),
                      "batch": GX_BATCH_NOTE,
                      "rows_validated": dg.MetadataValue.json(dict(sorted(gx.rows_validated.items())))})
        if partitioned:
            gx_by_month = {str(p): float(v) for p, v in gx_share.items()}
            months = {}
            for p in result.partitions:
                failed = ([f"error_share {p.error_share:.4f} > {config.max_error_share}"]
                          if months_over({p.partition: p.error_share}, config.max_error_share) else [])
                failed += [] if p.reconciled else ["not reconciled"]
                failed += [f"gx_column_expectations {gx_by_month[p.partition]:.4f}"] if p.partition in gx_over else []
                if p.held_back and not failed:  # the gate's own verdict (dq.month_checks), e.g. the reject share
                    failed.append(f"held back by the gate: {p.rows_rejected} record(s) could not be typed")
                months[p.partition] = (not failed, {"failed": dg.MetadataValue.json(failed),
                                                    "error_share": round(p.error_share, 6),
                                                    "rows_staged": p.rows_staged, "rows_quarantined": p.rows_quarantined})
            yield from month_results(context, key, "month_gate", months)

    return _asset


def _rule_ids(severity: str) -> list[str]:
    from data_quality.rulebook import load_rulebook

    return [r.id for r in load_rulebook() if r.severity == severity]


clean_complaints = _quality_asset("complaints", "12315投诉举报咨询", staging_complaints, partitioned=True)
clean_sampling_results = _quality_asset("sampling_results", "商品质量抽检结果", staging_sampling_results, partitioned=True)
clean_hotline_stats = _quality_asset("hotline_stats", "12315热线话务统计", staging_hotline_stats, partitioned=True)
clean_region_profiles = _quality_asset("region_profiles", "地区基础概况", staging_region_profiles, partitioned=False)

quality_assets = [clean_complaints, clean_sampling_results, clean_hotline_stats, clean_region_profiles]
monthly_quality_assets = [clean_complaints, clean_sampling_results, clean_hotline_stats]
