"""KPI scorecard per bureau (DESIGN §5.5): 电话接通率, 调解成功率, 办结率, 满意率, 诉转案率 against targets.

Definitions and targets: :mod:`reports.kpi` (the one place). Counts: sql/reports/kpi_*.sql.
Units are the scope's bureaus (reports/scope.py); a "total" row sums the counts of the scope.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from reports import figures, labels, render
from reports.kpi import COUNT_COLUMNS, KPIS, NONE, scorecard
from reports.periods import Period, parse_period
from reports.queries import run, table_exists
from reports.render import fmt_int, fmt_pct, table
from reports.scope import Scope, as_scope, registered_unit_map, unit_names

SLOT = render.SLOTS["kpi_scorecard"]
TOTAL = "TOTAL"


def collect(con, scope: Scope, period: Period) -> tuple[pd.DataFrame, bool]:
    """Counts per unit (complaints and hotline merged); second value: hotline data present."""
    w = {"prefix": scope.prefix, "start": period.start_ts, "end": period.end_ts}
    with registered_unit_map(con, scope):
        comp = run(con, "kpi_complaint_counts", **w)
        hot = (run(con, "kpi_hotline_counts", prefix=scope.prefix, start=period.start, end=period.end)
               if table_exists(con, "clean", "hotline_stats") else pd.DataFrame(columns=["unit_code"]))
    counts = comp.merge(hot, on="unit_code", how="outer")
    for c in COUNT_COLUMNS:
        if c not in counts:
            counts[c] = 0
    num = [c for c in counts.columns if c != "unit_code"]
    counts[num] = counts[num].fillna(0).astype("int64")
    return counts.sort_values("unit_code").reset_index(drop=True), len(hot) > 0


def with_total(counts: pd.DataFrame) -> pd.DataFrame:
    num = [c for c in counts.columns if c != "unit_code"]
    total = pd.DataFrame([{"unit_code": TOTAL, **{c: int(counts[c].sum()) for c in num}}])
    return pd.concat([counts, total], ignore_index=True)


def prepare(counts: pd.DataFrame, hotline_present: bool, scope: Scope, lang: str = "zh") -> dict:
    t = labels.translator(lang)
    full = with_total(counts)
    sc = scorecard(full)
    names = unit_names(scope, [c for c in full["unit_code"] if c != TOTAL], lang)
    names[TOTAL] = t("common.total")
    sc["unit_name"] = [names[c] for c in sc["unit_code"]]
    rows = []
    for code in full["unit_code"]:
        s = sc[sc["unit_code"] == code].set_index("kpi_id")
        cells = []
        for k in KPIS:
            r = s.loc[k.id]
            cells.append({"kpi": k.id, "status": r["status"], "rate": fmt_pct(r["rate"]),
                          "counts": f"{fmt_int(r['numerator'])}/{fmt_int(r['denominator'])}",
                          "few": bool(r["few_records"])})
        met = sum(c["status"] == "green" for c in cells)
        judged = sum(c["status"] != NONE for c in cells)
        rows.append({"unit_code": "" if code == TOTAL else code, "unit_name": names[code], "cells": cells,
                     "met": f"{met}/{judged}", "is_total": code == TOTAL})
    heads = [{"id": k.id, "name": k.zh if lang == "zh" else k.en, "target": fmt_pct(k.target_float, 0)} for k in KPIS]
    figs = {}
    units_only = sc[sc["unit_code"] != TOTAL]
    for k, h in zip(KPIS, heads):
        d = units_only[(units_only["kpi_id"] == k.id) & (units_only["status"] != NONE)]
        title = t("kpi.fig", kpi=h["name"], target=h["target"])
        fig = (figures.kpi_bars(d, title, k.target_float, t("kpi.target_line", target=h["target"]), t) if len(d)
               else figures.empty_figure(title, t("common.no_data")))
        figs[k.id] = render.figure_html(fig, f"fig-kpi-{k.id.replace('_', '-')}")
    defs = pd.DataFrame([{
        "name": k.zh if lang == "zh" else k.en, "definition": k.definition_zh if lang == "zh" else k.definition_en,
        "target": "≥ " + fmt_pct(k.target_float, 0), "min_denominator": k.min_denominator, "basis": k.basis,
    } for k in KPIS])
    definitions = table("tbl-kpi-definitions", [
        ("name", t("col.kpi")), ("definition", t("col.definition")), ("target", t("col.target")),
        ("min_denominator", t("col.min_denominator"), "int"), ("basis", t("col.basis"))], defs)
    return {"heads": heads, "rows": rows, "figs": figs, "kpi_ids": [k.id for k in KPIS], "definitions": definitions,
            "hotline_present": hotline_present, "scorecard": sc}


def build_kpi_scorecard(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                        generated_at: dt.datetime | None = None) -> Path:
    """Write ``kpi_scorecard.html`` (and plotly.min.js) into ``out_dir``; returns the page path."""
    scope, period = as_scope(scope), parse_period(period)
    counts, hotline_present = collect(con, scope, period)
    ctx = prepare(counts, hotline_present, scope, lang)
    ctx.pop("scorecard")
    t = labels.translator(lang)
    return render.render_page(Path(out_dir), SLOT.filename, "kpi_scorecard.html.j2", lang=lang, report_key=SLOT.key,
                              title=t(SLOT.label), scope_label=scope.label(lang), period_label=period.label(lang),
                              generated_at=generated_at, **ctx)
