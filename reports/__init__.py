"""Report rendering (DESIGN §5): offline HTML reports written into one output folder.

Public API::

    build_reports(con, scope, period, out_dir, lang="zh") -> Path      # every report + index.html
    build_complaints_analysis(con, scope, period, out_dir, lang="zh") -> Path   # §5.4
    build_kpi_scorecard(con, scope, period, out_dir, lang="zh") -> Path         # §5.5
    build_sampling_report(con, scope, period, out_dir, lang="zh") -> Path       # §5.6
    build_drilldown(con, scope, period, out_dir, lang="zh", *, spec=None) -> Path    # §5.2 drilldown/index.html
    build_index_report(con, scope, period, out_dir, lang="zh", *, spec=None) -> Path # §5.1 .html + .xlsx
    build_dashboard(con, scope, period, out_dir, lang="zh", *, spec=None) -> Path    # §5.3 dashboard.html
    load_index_data(con, scope, period, lang="zh", *, spec=None) -> IndexData        # shared by the three
    narrative.build_analysis(con, scope, period, out_dir, lang="zh", *, data=None) -> Path  # analysis.html (words)
    render.write_index(out_dir, scope_label=..., period_label=..., lang=...)    # refresh the index

``con`` is a DuckDB connection with ``clean.complaints``, ``clean.sampling_results``,
``clean.hotline_stats`` (optional: without it the answer rate shows "no data") and
``clean.region_profiles``; read-only connections work. The index outputs (§5.1–5.3) also need
``mart.index_scores`` and ``mart.indicator_values`` for the scope and period (the index stage);
``build_reports`` builds them only when ``mart.index_scores`` holds that scope and period. ``scope`` = ``"CN"`` | ``"32"`` | ``"3204"``;
``period`` = ``"2025"`` | ``"2025H1"`` | ``"2025Q3"`` | ``"2025-03"``. One language per folder.

Layout: ``render`` (Jinja2 env, plotly.js once per folder, index page and report slots),
``labels`` (zh/en), ``periods``, ``scope`` (units of a scope), ``queries`` (SQL in sql/reports/),
pure logic in ``surges``, ``kpi``, ``figures``; one module per report.
"""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

from ingestion.sqlfiles import table_exists
from reports import editions, labels, render
from reports.complaints_analysis import build_complaints_analysis
from reports.dashboard import build_dashboard
from reports.dq_report import build_dq_report
from reports.drilldown import build_drilldown
from reports.index_report import IndexData, SpecNotFound, build_index_report, index_available, load_index_data
from reports.key_categories import build_key_categories
from reports.kpi_scorecard import build_kpi_scorecard
from reports.narrative import build_analysis, narrative
from reports.periods import Period, parse_period
from reports.sampling_report import build_sampling_report
from reports.scope import Scope, as_scope
from reports.shared_results import sharing

__all__ = ["build_reports", "build_dq_report", "build_complaints_analysis", "build_kpi_scorecard", "build_sampling_report",
           "build_index_report", "build_drilldown", "build_dashboard", "build_index_outputs", "load_index_data",
           "index_available", "IndexData", "SpecNotFound", "parse_period", "Period", "Scope"]


def build_reports(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                  generated_at: dt.datetime | None = None, sampling_as_of: dt.date | None = None) -> Path:
    """Build the 12315 analysis, the KPI scorecard and the sampling report into ``out_dir`` — and, when
    ``mart.index_scores`` holds the scope and period, the drill-down, the ranked index report (HTML +
    XLSX) and the dashboard; when the data-quality gate has run, the data-quality report — then write
    its ``index.html`` (which also links any other report already
    in the folder). Returns the index path.

    The index outputs use the spec whose ``spec_version`` the stored scores carry (the shipped specs in
    index_model/specs/); a spec that is not shipped cannot be found here: a warning is issued and the
    index outputs are skipped (call :func:`build_index_outputs` with ``spec=``)."""
    labels.check_lang(lang)
    scope, period = as_scope(scope), parse_period(period)
    out_dir = Path(out_dir)
    generated_at = generated_at or dt.datetime.now()
    with sharing():  # the KPI counts and sampling breakdown are read by two reports each (shared_results)
        build_complaints_analysis(con, scope, period, out_dir, lang, generated_at=generated_at)
        build_kpi_scorecard(con, scope, period, out_dir, lang, generated_at=generated_at)
        build_sampling_report(con, scope, period, out_dir, lang, as_of=sampling_as_of, generated_at=generated_at)
        build_key_categories(con, scope, period, out_dir, lang, generated_at=generated_at)
        built_index = False
        if index_available(con, scope, period):
            try:
                build_index_outputs(con, scope, period, out_dir, lang, generated_at=generated_at)
                built_index = True
            except SpecNotFound as exc:
                warnings.warn(f"index outputs skipped for scope {scope.key}, period {period.key}: {exc}", stacklevel=2)
        if not built_index:  # the narrative analysis without the index sections (build_index_outputs writes it otherwise)
            build_analysis(con, scope, period, out_dir, lang, generated_at=generated_at)
        if _gate_has_run(con):
            build_dq_report(con, out_dir, scope, period, lang, generated_at=generated_at, write_index=False)
        # this run's record (deliveries, rules, spec) for the editions list (reports.editions)
        editions.write_record(out_dir, editions.edition_record(con, scope, period, lang, generated_at))
    return render.write_index(out_dir, scope_label=scope.label(lang), period_label=period.label(lang), lang=lang,
                              generated_at=generated_at)


def _gate_has_run(con) -> bool:
    return table_exists(con, "dq", "runs")


def build_index_outputs(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                        spec=None, generated_at: dt.datetime | None = None) -> dict[str, Path]:
    """The three index outputs from one load of the stored index (``drilldown/``, ``index_report.html`` +
    ``.xlsx``, ``dashboard.html``), linking each other, and the narrative analysis (``analysis.html``, whose
    opening sections also open the ranked report and the dashboard). Does not write the folder's
    ``index.html`` (``build_reports`` does)."""
    labels.check_lang(lang)
    scope, period = as_scope(scope), parse_period(period)
    data = load_index_data(con, scope, period, lang, spec=spec)
    out_dir = Path(out_dir)
    links = ("drilldown", "index_report", "dashboard", "analysis")
    sections = narrative(con, scope, period, lang, data=data)
    out = {
        "drilldown": build_drilldown(con, scope, period, out_dir, lang, generated_at=generated_at, data=data),
        "index_report": build_index_report(con, scope, period, out_dir, lang, generated_at=generated_at, data=data,
                                           links=links, narrative=sections),
        "dashboard": build_dashboard(con, scope, period, out_dir, lang, generated_at=generated_at, data=data,
                                     links=links, narrative=sections),
    }
    out["analysis"] = build_analysis(con, scope, period, out_dir, lang, data=data, sections=sections,
                                     generated_at=generated_at)
    return out
