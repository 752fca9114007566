"""KPI scorecard per bureau (DESIGN §5.5): the 12315 KPIs of the source documents against their targets.

Definitions, targets and the quoted source text: :mod:`reports.kpi` (the one place). Counts:
sql/reports/kpi_*.sql. The complaint-based counts are summed from the per-record flags of
sql/indicators/complaints_records.sql (the index indicators' own rules: 办结率 over complaints whose
handling period has ended by the data cut-off, …), with the report's bureaus as units
(sql/reports/kpi_units.sql). Units are the scope's bureaus (reports/scope.py); a "total" row sums
the counts of the scope.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from indicators import sqlfiles as indicator_sql
from indicators.compute import LIMITS, install_reference_tables
from reports import figures, labels, render
from reports.kpi import COUNT_COLUMNS, EXTRA_COUNT_COLUMNS, INFO, KPIS, NONE, scorecard
from reports.periods import Period, parse_period
from reports.queries import report_sql, run, table_exists
from reports.render import fmt_int, fmt_num, fmt_pct, table
from reports.scope import Scope, as_scope, registered_unit_map, unit_names
from reports.shared_results import shared

SLOT = render.SLOTS["kpi_scorecard"]
TOTAL = "TOTAL"


def data_cutoff(con) -> dt.date | None:
    """The day of the latest event in clean.complaints (sql/indicators/as_of_complaints.sql): the date
    at which 在办 / 已届满 is judged."""
    row = indicator_sql.run(con, "as_of_complaints.sql").fetchall()
    return None if not row or row[0][0] is None else pd.Timestamp(row[0][0]).date()


@shared  # also the narrative's KPI sentences (reports.narrative.gather.kpi_facts)
def collect(con, scope: Scope, period: Period, as_of: dt.date | None = None) -> tuple[pd.DataFrame, bool, dt.date | None]:
    """Counts per unit (complaints, hotline and profiles merged); hotline data present; the cut-off used.

    ``as_of``: the data cut-off (default: :func:`data_cutoff`)."""
    install_reference_tables(con, scope.key)  # calendar_days (working days) for complaints_records.sql
    parts = []
    # the work tables go when the counts are read: left behind, ind_complaint_records (every record of the
    # period, 11.5 GB spilled at 44M) was still there when the drill-down built its own, and DuckDB ran out of
    # its 1.2 GB replacing it (the national-year run, BENCHMARKS.md)
    with registered_unit_map(con, scope):
        try:
            con.execute(report_sql("kpi_units"))  # ind_region_units := the report's bureaus
            if table_exists(con, "clean", "complaints"):
                as_of = as_of or data_cutoff(con)
                indicator_sql.run(con, "complaints_records.sql", {
                    "period_start": period.start, "period_end": period.last_day, "as_of": as_of, **LIMITS})
                parts.append(run(con, "kpi_complaint_counts"))
            hot = (run(con, "kpi_hotline_counts", prefix=scope.prefix, start=period.start, end=period.end)
                   if table_exists(con, "clean", "hotline_stats") else pd.DataFrame(columns=["unit_code"]))
            parts.append(hot)
            if table_exists(con, "clean", "region_profiles"):
                indicator_sql.run(con, "profile_rows.sql", {"year": period.start.year})
                indicator_sql.run(con, "profile_units.sql")
                parts.append(run(con, "kpi_profile_counts"))
        finally:
            indicator_sql.run(con, "drop_work_tables.sql")
    counts = pd.DataFrame(columns=["unit_code"])
    for part in parts:
        counts = counts.merge(part, on="unit_code", how="outer")
    for c in COUNT_COLUMNS + EXTRA_COUNT_COLUMNS:
        if c not in counts:
            counts[c] = 0
    num = [c for c in counts.columns if c != "unit_code"]
    counts[num] = counts[num].fillna(0).astype("int64")
    return counts.sort_values("unit_code").reset_index(drop=True), len(hot) > 0, as_of


def with_total(counts: pd.DataFrame) -> pd.DataFrame:
    num = [c for c in counts.columns if c != "unit_code"]
    total = pd.DataFrame([{"unit_code": TOTAL, **{c: int(counts[c].sum()) for c in num}}])
    return pd.concat([counts, total], ignore_index=True)


def _rate_text(k, rate: float) -> str:
    return fmt_pct(rate) if k.scale == 1 else fmt_num(rate, 2)


def _target_text(k) -> str:
    return "" if k.target is None else "≥ " + fmt_pct(k.target_float, 0)


def prepare(counts: pd.DataFrame, hotline_present: bool, scope: Scope, lang: str = "zh",
            as_of: dt.date | None = None) -> dict:
    t = labels.translator(lang)
    full = with_total(counts)
    sc = scorecard(full)
    names = unit_names(scope, [c for c in full["unit_code"] if c != TOTAL], lang)
    names[TOTAL] = t("common.total")
    sc["unit_name"] = [names[c] for c in sc["unit_code"]]
    in_progress = dict(zip(full["unit_code"], full["in_progress"]))
    rows = []
    for code in full["unit_code"]:
        s = sc[sc["unit_code"] == code].set_index("kpi_id")
        cells = []
        for k in KPIS:
            r = s.loc[k.id]
            note = t("kpi.in_progress", n=fmt_int(in_progress[code])) if k.id == "closure_rate" else ""
            cells.append({"kpi": k.id, "status": r["status"], "rate": _rate_text(k, r["rate"]),
                          "counts": f"{fmt_int(r['numerator'])}/{fmt_int(r['denominator'])}",
                          "few": bool(r["few_records"]), "note": note})
        met = sum(c["status"] == "green" for c in cells)
        judged = sum(c["status"] not in (NONE, INFO) for c in cells)
        rows.append({"unit_code": "" if code == TOTAL else code, "unit_name": names[code], "cells": cells,
                     "met": f"{met}/{judged}", "is_total": code == TOTAL})
    heads = [{"id": k.id, "name": k.zh if lang == "zh" else k.en, "target": _target_text(k) or t("kpi.no_target")}
             for k in KPIS]
    figs = {}
    units_only = sc[sc["unit_code"] != TOTAL]
    for k, h in zip(KPIS, heads):
        d = units_only[(units_only["kpi_id"] == k.id) & (units_only["status"] != NONE)]
        title = t("kpi.fig", kpi=h["name"], target=h["target"]) if k.judged else h["name"]
        if not len(d):
            fig = figures.empty_figure(title, t("common.no_data"))
        elif k.scale == 1:
            fig = figures.kpi_bars(d, title, k.target_float, t("kpi.target_line", target=h["target"]), t)
        else:
            fig = figures.kpi_bars(d, title, None, "", t, pct=False)
        figs[k.id] = render.figure_html(fig, f"fig-kpi-{k.id.replace('_', '-')}")
    defs = pd.DataFrame([{
        "name": k.zh if lang == "zh" else k.en, "definition": k.definition_zh if lang == "zh" else k.definition_en,
        "quote": k.quote_zh, "target": _target_text(k) or t("kpi.no_target"), "min_denominator": k.min_denominator,
        "basis": k.basis,
    } for k in KPIS])
    definitions = table("tbl-kpi-definitions", [
        ("name", t("col.kpi")), ("definition", t("col.definition")), ("quote", t("col.source_text")),
        ("target", t("col.target")), ("min_denominator", t("col.min_denominator"), "int"), ("basis", t("col.basis"))],
        defs)
    return {"heads": heads, "rows": rows, "figs": figs, "kpi_ids": [k.id for k in KPIS], "definitions": definitions,
            "hotline_present": hotline_present, "as_of": "" if as_of is None else as_of.isoformat(), "scorecard": sc}


def build_kpi_scorecard(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                        generated_at: dt.datetime | None = None) -> Path:
    """Write ``kpi_scorecard.html`` (and plotly.min.js) into ``out_dir``; returns the page path."""
    scope, period = as_scope(scope), parse_period(period)
    counts, hotline_present, as_of = collect(con, scope, period)
    ctx = prepare(counts, hotline_present, scope, lang, as_of)
    ctx.pop("scorecard")
    t = labels.translator(lang)
    return render.render_page(Path(out_dir), SLOT.filename, "kpi_scorecard.html.j2", lang=lang, report_key=SLOT.key,
                              title=t(SLOT.label), scope_label=scope.label(lang), period_label=period.label(lang),
                              generated_at=generated_at, **ctx)
