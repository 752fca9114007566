"""Reports stage (报告): the output folder a bureau or policymaker opens — index page, ranked index
report (HTML + XLSX), drill-down, dashboard, 12315 analysis, KPI scorecard, sampling and
data-quality reports. Thin wrapper around ``reports.build_reports``; one folder per partition
(period × scope, a year or a quarter: ``pipelines/partitions.py``).

Folders, next to the warehouse by default (``data/reports``):

* ``<scope>_<period>/`` — the latest (what `cei report` and `cei run` write, `make demo` prints);
* ``history/<scope>_<period>/<run date and time>_<run id>/`` — a copy of every materialisation, never
  overwritten, so last quarter's published report can be opened as it was (``cei report`` keeps its
  copy the same way, through ``reports.editions.keep_edition``).
"""
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.index import OWNERS, SUFFIX, IndexConfig, guard_periods, partition_target, quarterly_index_assets, \
    yearly_index_assets
from pipelines.automation import index_due
from pipelines.partitions import index_partitions
from pipelines.periods import report_folder_name
from pipelines.resources import DUCKDB_POOL, retry_when_busy


class ReportConfig(IndexConfig):
    out_dir: str = ""  # empty: reports/ next to the warehouse file (data/reports by default), as `cei run`
    lang: str = "zh"  # zh | en
    export: bool = True  # PDF (needs Chromium) and Word copies of the ranked report and the analysis
    # editions kept per folder under history/ (the newest; 0 = $CEI_KEEP_EDITIONS, unset: every one)
    keep_editions: int = 0


def report_folder(out_dir: str | Path, scope: str, period: str, lang: str) -> Path:
    """``<out_dir>/<scope>_<period>`` (``_en`` appended for English)."""
    return Path(out_dir) / report_folder_name(scope, period, lang)


def _report_asset(grain: str, index_scores):
    @dg.asset(name=f"report_folders{SUFFIX[grain]}", key_prefix="reports", group_name="reports", pool=DUCKDB_POOL,
              deps=[index_scores], partitions_def=index_partitions[grain], automation_condition=index_due,
              kinds={"html", "xlsx"}, owners=OWNERS,
              description=f"The offline report folder of one {grain} and scope (index.html links every report), "
                          "and its copy under history/ (one per materialisation).")
    def report_folders(context: dg.AssetExecutionContext, config: ReportConfig, duckdb: DuckDBResource):
        from reports import build_reports, render

        scope, period = partition_target(context)
        out_dir = config.out_dir or str(Path(duckdb.database).parent / "reports")
        folder = report_folder(out_dir, scope, period, config.lang)
        with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
            verdict = guard_periods(context, con, scope, [period], config.provisional)[period]
            # a period with stale or held-back months gets here only when provisional: say so on every page
            with render.provisional(verdict.banner(config.lang)):
                page = build_reports(con, scope, period, folder, config.lang)
        # PDF and Word copies (reports/export_files.py), outside the connection: Chromium needs no warehouse.
        # Without Chromium the PDFs are missing and the metadata says so; the run still succeeds.
        exports = {}
        if config.export:
            from reports.export_files import export_report_folder

            with render.provisional(verdict.banner(config.lang)):
                done = export_report_folder(folder, scope, period, config.lang)
            exports = done.metadata()
            for problem in done.problems:
                context.log.warning(f"{period}: {problem}")
        # history: a copy (not hard links: `cei report --out` rewrites the latest folder's files in place),
        # laid out by reports.editions (the folder's index page lists the earlier editions)
        from reports.editions import edition_stamp, keep_edition

        from pipelines.settings import keep_editions

        kept = keep_edition(folder, edition_stamp(run_id=context.run_id),
                            keep=keep_editions(config.keep_editions or None))
        return dg.MaterializeResult(metadata={
            "scope": scope, "period": period, "index_pages": dg.MetadataValue.json({period: str(page)}),
            "folder": dg.MetadataValue.path(str(folder)), "history": dg.MetadataValue.path(str(kept)),
            "exports": dg.MetadataValue.json({period: exports} if exports else {}),
            "pdf_written": bool(exports.get("pdf_pages")) if exports else False,
            "provisional": verdict.banner("en") or "no"})

    return report_folders


report_folders = _report_asset("year", yearly_index_assets[1])
report_folders_quarterly = _report_asset("quarter", quarterly_index_assets[1])
report_assets = [report_folders, report_folders_quarterly]
