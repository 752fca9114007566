"""Report rendering (DESIGN §5): offline HTML reports written into one output folder.

Public API::

    build_reports(con, scope, period, out_dir, lang="zh") -> Path      # the three reports + index.html
    build_complaints_analysis(con, scope, period, out_dir, lang="zh") -> Path   # §5.4
    build_kpi_scorecard(con, scope, period, out_dir, lang="zh") -> Path         # §5.5
    build_sampling_report(con, scope, period, out_dir, lang="zh") -> Path       # §5.6
    render.write_index(out_dir, scope_label=..., period_label=..., lang=...)    # refresh the index

``con`` is a DuckDB connection with ``clean.complaints``, ``clean.sampling_results``,
``clean.hotline_stats`` (optional: without it the answer rate shows "no data") and
``clean.region_profiles``; read-only connections work. ``scope`` = ``"CN"`` | ``"32"`` | ``"3204"``;
``period`` = ``"2025"`` | ``"2025H1"`` | ``"2025Q3"`` | ``"2025-03"``. One language per folder.

Layout: ``render`` (Jinja2 env, plotly.js once per folder, index page and report slots),
``labels`` (zh/en), ``periods``, ``scope`` (units of a scope), ``queries`` (SQL in sql/reports/),
pure logic in ``surges``, ``kpi``, ``figures``; one module per report.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports import labels, render
from reports.complaints_analysis import build_complaints_analysis
from reports.kpi_scorecard import build_kpi_scorecard
from reports.periods import Period, parse_period
from reports.sampling_report import build_sampling_report
from reports.scope import Scope, as_scope

__all__ = ["build_reports", "build_complaints_analysis", "build_kpi_scorecard", "build_sampling_report",
           "parse_period", "Period", "Scope"]


def build_reports(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                  generated_at: dt.datetime | None = None, sampling_as_of: dt.date | None = None) -> Path:
    """Build the 12315 analysis, the KPI scorecard and the sampling report into ``out_dir`` and write
    its ``index.html`` (which also links any other report already in the folder). Returns the index path."""
    labels.check_lang(lang)
    scope, period = as_scope(scope), parse_period(period)
    out_dir = Path(out_dir)
    generated_at = generated_at or dt.datetime.now()
    build_complaints_analysis(con, scope, period, out_dir, lang, generated_at=generated_at)
    build_kpi_scorecard(con, scope, period, out_dir, lang, generated_at=generated_at)
    build_sampling_report(con, scope, period, out_dir, lang, as_of=sampling_as_of, generated_at=generated_at)
    return render.write_index(out_dir, scope_label=scope.label(lang), period_label=period.label(lang), lang=lang,
                              generated_at=generated_at)
