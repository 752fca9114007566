"""Ingest stage (接入): delivered files -> raw -> staging.

Thin Dagster wrappers around ``ingestion.loader``: ``landing_files`` loads every new file of the
landing folder into raw (skipping files already loaded, replacing re-delivered months); the
staging assets rebuild typed, de-identified rows per month from raw, and their checks report
the share of records that could not be typed.
"""

import warnings
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from data_quality.thresholds import MAX_REJECT_SHARE, months_over, over_detail, share
from ingestion import loader
from pipelines.partitions import monthly_partitions
from assets.checks import month_check_spec, month_results
from pipelines.resources import DUCKDB_POOL, LandingConfig, LandingFolder, retry_when_busy

# A month whose share of untypeable records passes MAX_REJECT_SHARE (data_quality.thresholds) is
# held back from later stages; each month is judged on its own, also inside a run over a range.


def _landing_files(context: dg.AssetExecutionContext, config: LandingConfig, duckdb: DuckDBResource,
                   landing: LandingFolder):
    folder = Path(config.landing_dir) if config.landing_dir else landing.path()
    profile = None
    if config.profile:
        from ingestion import profiles

        try:
            profile = profiles.load(config.profile)
        except profiles.ProfileError as e:
            raise dg.Failure(description=f"mapping profile: {e}", allow_retries=False) from None
    with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
        results = loader.ingest_paths(con, [folder], warehouse=Path(duckdb.database), source_id=config.source_id,
                                      stage=False, encoding=config.encoding, profile=profile)
    touched: dict[str, set[str]] = {}
    for r in results:
        if r.status == "failed":
            context.log.error(r.message)
        elif r.status == "ignored":
            context.log.info(f"not loaded: {r.file}: {r.message}")
        elif r.status == "loaded":
            # a re-delivery changes its own months and the superseded delivery's: all are restaged
            touched.setdefault(r.table, set()).update(r.touched_partitions or r.partitions)
    failed = [r for r in results if r.status == "failed"]
    listing = lambda rs: "\n".join(f"- {r.message}" if r.status == "failed" else  # noqa: E731 (names its file)
                                   f"- {Path(r.file).name}: {r.message}" for r in rs) or "none"
    # The loaded files are committed whatever happens next; the materialization records them and
    # starts their staging (sensor). Then a refused file fails the run: Dagster 1.13 keeps a
    # materialization yielded before a Failure, and shows the run failed (red).
    yield dg.MaterializeResult(metadata={
        "files_loaded": sum(r.status == "loaded" for r in results),
        "files_skipped": sum(r.status == "skipped" for r in results),
        "files_failed": len(failed),
        "files_ignored": sum(r.status == "ignored" for r in results),
        "rows_raw": sum(r.rows_raw for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
        "rows_replaced": sum(r.rows_replaced for r in results),
        "partitions": dg.MetadataValue.json({t: sorted(p) for t, p in touched.items()}),
        "failures": dg.MetadataValue.md(listing(failed)),
        # not deliveries (generator metadata, hidden, lock files) and superseded files; not the
        # files already loaded, which every later run finds again
        "not_loaded": dg.MetadataValue.md(listing([r for r in results if r.status == "ignored" or (
            r.status == "skipped" and not r.message.startswith("already loaded"))])),
    })
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} delivered file(s) refused; every other file was loaded: "
                        + "; ".join(Path(r.file).name for r in failed[:5]) + (" ..." if len(failed) > 5 else ""),
            metadata={"refused": dg.MetadataValue.md(listing(failed))},
            allow_retries=False)


# The landing folder is a resource (LandingFolder: CEI_LANDING, read when the run starts) carried by
# the asset itself, so every caller (the UI, sensors, schedules, `cei run`, tests) gets the same default.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # resource_defs on an asset
    landing_files = dg.asset(
        name="landing_files", group_name="ingest", key_prefix="raw", pool=DUCKDB_POOL,
        resource_defs={"landing": LandingFolder()}, kinds={"duckdb"},
        description="Every new delivered file in the landing folder (resource `landing`: CEI_LANDING, default "
                    "data/landing), loaded as text with lineage (raw.*). A refused file (unreadable, unsupported "
                    "type) fails the run after the rest loaded.")(_landing_files)


def _staging_asset(table: str, zh: str, partitioned: bool):
    # Not blocking: the staging assets run over a month range in one step, so a blocking failure would
    # stop the gate for every month of the range. The check still fails red; the gate records the
    # same per-month reject share in dq.month_checks and holds back exactly the months over the limit.
    check = dg.AssetCheckSpec("reject_share", asset=dg.AssetKey(["staging", table]), blocking=False,
                              description=f"share of records that could not be typed stays under {MAX_REJECT_SHARE:.0%}, "
                                          "in every month")
    key = dg.AssetKey(["staging", table])
    # and one result per month, kept per partition (a range run records each of its months)
    month_check = month_check_spec("month_reject_share", key, f"this month's share of records that could not be "
                                                              f"typed stays under {MAX_REJECT_SHARE:.0%}")

    @dg.asset(name=table, key_prefix="staging", group_name="ingest", pool=DUCKDB_POOL, kinds={"duckdb"},
              deps=[landing_files], check_specs=[check, month_check] if partitioned else [check],
              partitions_def=monthly_partitions if partitioned else None,
              backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
              description=f"{zh}: typed, normalised, de-identified rows (staging.{table}), rebuilt from raw per month.")
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        if partitioned:
            partitions = [k[:7] for k in context.partition_keys]  # 2025-03-01 -> 2025-03
        else:
            with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
                loader.open_warehouse(con)
                partitions = [r[0] for r in con.execute(f"SELECT DISTINCT partition_key FROM raw.{table}").fetchall()]
        with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
            staged, rejected = loader.restage(con, table, partitions, warehouse=Path(duckdb.database))
            # per month: staged rows and the rows rejected while placing or typing them
            from data_quality.gate import month_state

            counts = {p: (rows, rej) for p, rows, _fp, rej, _built in month_state(con, table, partitions)}
        shares = {p: share(rej, rows + rej) for p, (rows, rej) in counts.items()}
        over = months_over(shares, MAX_REJECT_SHARE)
        worst = max(shares, key=shares.get, default="")
        yield dg.MaterializeResult(metadata={"rows_staged": staged, "rows_rejected": rejected,
                                             "partitions": len(partitions)})
        yield dg.AssetCheckResult(
            check_name="reject_share", passed=not over, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"max_reject_share": MAX_REJECT_SHARE, "rows_rejected": rejected,
                      "reject_share": shares[worst] if worst else 0.0, "worst_partition": worst,
                      "partitions_over_threshold": dg.MetadataValue.json(over_detail(shares, MAX_REJECT_SHARE)),
                      "reject_share_by_partition": dg.MetadataValue.json({p: round(v, 6) for p, v in sorted(shares.items())})})
        if partitioned:
            yield from month_results(context, key, "month_reject_share", {
                p: (p not in months_over({p: v}, MAX_REJECT_SHARE),
                    {"reject_share": round(v, 6), "rows_rejected": counts[p][1], "rows": sum(counts[p]),
                     "max_reject_share": MAX_REJECT_SHARE})
                for p, v in shares.items()})

    return _asset


staging_complaints = _staging_asset("complaints", "12315投诉举报咨询", partitioned=True)
staging_sampling_results = _staging_asset("sampling_results", "商品质量抽检结果", partitioned=True)
staging_hotline_stats = _staging_asset("hotline_stats", "12315热线话务统计", partitioned=True)
staging_region_profiles = _staging_asset("region_profiles", "地区基础概况", partitioned=False)

ingest_assets = [landing_files, staging_complaints, staging_sampling_results, staging_hotline_stats, staging_region_profiles]
monthly_staging_assets = [staging_complaints, staging_sampling_results, staging_hotline_stats]
