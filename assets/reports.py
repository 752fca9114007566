"""Reports stage (报告): the output folder a bureau or policymaker opens — index page, ranked index
report (HTML + XLSX), drill-down, dashboard, 12315 analysis, KPI scorecard, sampling and
data-quality reports. Thin wrapper around ``reports.build_reports``; one folder per scope and period.
"""
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.index import IndexConfig, guard_periods, index_scores, resolve_targets
from pipelines.resources import DUCKDB_POOL, retry_when_busy


class ReportConfig(IndexConfig):
    out_dir: str = ""  # empty: reports/ next to the warehouse file (data/reports by default), as `cei run`
    lang: str = "zh"  # zh | en
    export: bool = True  # PDF (needs Chromium) and Word copies of the ranked report and the analysis


def report_folder(out_dir: str | Path, scope: str, period: str, lang: str) -> Path:
    """``<out_dir>/<scope>_<period>`` (``_en`` appended for English)."""
    return Path(out_dir) / (f"{scope}_{period}" if lang == "zh" else f"{scope}_{period}_{lang}")


@dg.asset(key_prefix="reports", group_name="reports", pool=DUCKDB_POOL, deps=[index_scores], kinds={"html", "xlsx"},
          description="One offline report folder per scope and period (index.html links every report).")
def report_folders(context: dg.AssetExecutionContext, config: ReportConfig, duckdb: DuckDBResource):
    from reports import build_reports, render

    built = {}
    out_dir = config.out_dir or str(Path(duckdb.database).parent / "reports")
    with retry_when_busy(context, duckdb), duckdb.get_connection() as con:
        scope, periods = resolve_targets(con, config)
        verdicts = guard_periods(context, con, scope, periods, config.provisional)
        for p in periods:
            # a period with stale or held-back months gets here only when provisional: say so on every page
            with render.provisional(verdicts[p].banner(config.lang)):
                built[p] = str(build_reports(con, scope, p, report_folder(out_dir, scope, p, config.lang),
                                             config.lang))
    # PDF and Word copies (reports/export_files.py), outside the connection: Chromium needs no warehouse.
    # Without Chromium the PDFs are missing and the metadata says so; the run still succeeds.
    exports = {}
    if config.export:
        from reports.export_files import export_report_folder

        for p in periods:
            with render.provisional(verdicts[p].banner(config.lang)):
                done = export_report_folder(report_folder(out_dir, scope, p, config.lang), scope, p, config.lang)
            exports[p] = done.metadata()
            for problem in done.problems:
                context.log.warning(f"{p}: {problem}")
    return dg.MaterializeResult(metadata={
        "scope": scope, "index_pages": dg.MetadataValue.json(built),
        "exports": dg.MetadataValue.json(exports),
        "pdf_written": all(e["pdf_pages"] for e in exports.values()) if exports else False,
        **({"latest": dg.MetadataValue.path(built[max(built)])} if built else {})})


report_assets = [report_folders]
