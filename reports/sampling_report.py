"""Commodity sampling report (DESIGN §5.6): pass rates by product category, venue type and
online/offline, failed items (safety / labelling), and the disposal of failed batches under
Order No. 18 (correction within 60 days, re-inspection within 75 days of the result notice).

Deadline numbers come from ``data_quality.deadlines.DEADLINES`` (the DQ gate's version table), so the
report and the gate cannot disagree on them. SQL: sql/reports/sampling_*.sql.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from reports import figures, labels, render
from reports.periods import Period, parse_period
from reports.queries import run
from reports.render import fmt_int, fmt_pct, table
from reports.scope import Scope, as_scope, registered_unit_map, unit_names

SLOT = render.SLOTS["sampling_report"]
TOP_ITEMS = 20
OVERDUE_ROWS = 200
ITEM_SEPARATORS = re.compile(r"[、;；,，/|]+")
DISPOSAL_STATUSES = ("on_time", "overdue", "open", "open_overdue", "unknown")
OVERDUE = ("overdue", "open_overdue")
STATUS_COLOURS = {"on_time": figures.GREEN, "overdue": "#ef6c00", "open": "#90caf9", "open_overdue": figures.RED,
                  "unknown": figures.GREY}


def order18_limits() -> dict[str, int]:
    """Calendar-day limits of Order No. 18 from the DQ deadline table: {'correction': 60, 'reinspection': 75}."""
    from data_quality.deadlines import DEADLINES

    out = {}
    for d in DEADLINES:
        if d.table == "sampling_results" and d.limit_id in ("correction", "reinspection"):
            out[d.limit_id] = int(d.days)
    missing = {"correction", "reinspection"} - out.keys()
    if missing:
        raise RuntimeError(f"data_quality.deadlines.DEADLINES has no sampling limit {sorted(missing)}")
    return out


def collect(con, scope: Scope, period: Period, as_of: dt.date, limits: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    w = {"prefix": scope.prefix, "start": period.start, "end": period.end}
    with registered_unit_map(con, scope):
        breakdown = run(con, "sampling_breakdown", **w)
        failed = run(con, "sampling_failed_batches", as_of=as_of, correction_days=limits["correction"],
                     reinspection_days=limits["reinspection"], **w)
    return breakdown, failed


def split_items(text) -> list[str]:
    """Failed item names of one batch (joined with 、 by the deliverer; ; , / | tolerated)."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(x.strip() for x in ITEM_SEPARATORS.split(text) if x.strip()))


def item_counts(failed: pd.DataFrame) -> pd.DataFrame:
    """Batches per failed item, and how many of them carry the safety flag."""
    n, safety = Counter(), Counter()
    for items, s in zip(failed.get("failed_items", []), failed.get("failed_safety_item", [])):
        for it in split_items(items):
            n[it] += 1
            if s is True:
                safety[it] += 1
    rows = [{"item": k, "batches": c, "safety_batches": safety[k]} for k, c in n.items()]
    df = pd.DataFrame(rows, columns=["item", "batches", "safety_batches"])
    return df.sort_values(["batches", "item"], ascending=[False, True]).reset_index(drop=True)


def _dim(breakdown: pd.DataFrame, dim: str) -> pd.DataFrame:
    d = breakdown[breakdown["dimension"] == dim].copy()
    d["tested"] = d["passed"] + d["failed"]
    d["pass_rate"] = (d["passed"] / d["tested"]).where(d["tested"] > 0)
    return d.sort_values(["pass_rate", "tested"], ascending=[True, False], na_position="last")


def prepare(breakdown: pd.DataFrame, failed: pd.DataFrame, scope: Scope, period: Period, as_of: dt.date,
            limits: dict[str, int], lang: str = "zh") -> dict:
    t, v = labels.translator(lang), labels.value_translator(lang)
    figs, tables = {}, {}
    units = _dim(breakdown, "unit")
    tot = {c: int(units[c].sum()) if len(units) else 0
           for c in ("n", "passed", "failed", "failed_safety", "failed_label", "failed_both")}
    tested = tot["passed"] + tot["failed"]
    cols = [("label", t("col.category")), ("tested", t("col.tested"), "int"), ("passed", t("col.passed"), "int"),
            ("failed", t("col.failed"), "int"), ("pass_rate", t("col.pass_rate"), "pct"),
            ("failed_safety", t("col.failed_safety"), "int"), ("failed_label", t("col.failed_label"), "int")]
    for dim, sec, fig_id in (("product_category", "category", "fig-pass-category"), ("venue_type", "venue", "fig-pass-venue"),
                             ("channel", "channel", "fig-pass-channel"), ("unit", "units", "fig-pass-units")):
        d = _dim(breakdown, dim)
        if dim == "unit":
            names = unit_names(scope, d["value"], lang)
            d["label"] = [names[c] for c in d["value"]]
        elif dim == "channel":
            d["label"] = [t(f"channel.{x}") if isinstance(x, str) else t("common.not_given") for x in d["value"]]
        else:
            d["label"] = [v(x) for x in d["value"]]
        header = {"unit": t("col.unit"), "channel": t("col.channel"), "venue_type": t("col.venue")}.get(dim)
        c = [("label", header)] + cols[1:] if header else cols
        tables[sec] = table(f"tbl-pass-{sec}", c, d)
        title = t(f"sr.fig.{sec}")
        figs[sec] = render.figure_html(
            figures.pass_rates(d, "label", title, t, lambda x: x) if d["tested"].sum() > 0
            else figures.empty_figure(title, t("common.no_data")), fig_id)

    # safety / labelling split of failed batches
    split = pd.DataFrame({
        "kind": ["sr.split.safety_only", "sr.split.label_only", "sr.split.both", "sr.split.unspecified"],
        "n": [tot["failed_safety"] - tot["failed_both"], tot["failed_label"] - tot["failed_both"], tot["failed_both"],
              tot["failed"] - tot["failed_safety"] - tot["failed_label"] + tot["failed_both"]],
    })
    split["label"] = [t(k) for k in split["kind"]]
    split["share"] = (split["n"] / tot["failed"]) if tot["failed"] else float("nan")
    tables["split"] = table("tbl-failed-split", [("label", t("col.failure_kind")), ("n", t("col.batches"), "int"),
                                                  ("share", t("col.share"), "pct")], split)
    figs["split"] = render.figure_html(
        figures.hbar(split, "label", "n", t("sr.fig.split"), t("axis.batches"), lambda x: x,
                     colours=[figures.RED, "#ef6c00", "#6a1b9a", figures.GREY]) if tot["failed"]
        else figures.empty_figure(t("sr.fig.split"), t("common.no_data")), "fig-failed-split")
    items = item_counts(failed)
    title = t("sr.fig.items", n=TOP_ITEMS)
    figs["failed_items"] = render.figure_html(
        figures.hbar(items.head(TOP_ITEMS), "item", "batches", title, t("axis.batches"), lambda x: x) if len(items)
        else figures.empty_figure(title, t("common.no_data")), "fig-failed-items")
    tables["failed_items"] = table("tbl-failed-items", [("item", t("col.item")), ("batches", t("col.batches"), "int"),
                                                  ("safety_batches", t("sr.col.item_safety"), "int")],
                            items, limit=TOP_ITEMS, note=t("sr.items.note"))

    # disposal (Order 18)
    steps = [("correction_status", t("sr.step.correction", days=limits["correction"])),
             ("reinspection_status", t("sr.step.reinspection", days=limits["reinspection"]))]
    disp = []
    for col, step in steps:
        counts = failed[col].value_counts() if len(failed) else pd.Series(dtype=int)
        disp += [{"step": step, "status": s, "n": int(counts.get(s, 0))} for s in DISPOSAL_STATUSES]
    disp = pd.DataFrame(disp)
    wide = disp.pivot(index="step", columns="status", values="n").reindex([s for _, s in steps]).reset_index()
    tables["disposal"] = table("tbl-disposal-status", [("step", t("col.status"))] + [
        (s, t(f"status.{s}"), "int") for s in DISPOSAL_STATUSES], wide)
    figs["disposal"] = render.figure_html(
        figures.status_stack(disp, t("sr.fig.disposal", as_of=as_of.isoformat()), lambda s: t(f"status.{s}"),
                             t("axis.batches"), DISPOSAL_STATUSES, STATUS_COLOURS) if len(failed)
        else figures.empty_figure(t("sr.fig.disposal", as_of=as_of.isoformat()), t("common.no_data")),
        "fig-disposal-status")
    over = failed[failed["correction_status"].isin(OVERDUE) | failed["reinspection_status"].isin(OVERDUE)].copy() \
        if len(failed) else failed
    names = unit_names(scope, over["unit_code"].unique(), lang) if len(over) else {}
    if len(over):
        over["unit_name"] = [names[c] for c in over["unit_code"]]
        over["product"] = [" ".join(x for x in (v(c), p) if isinstance(x, str) and x)
                           for c, p in zip(over["product_category"], over["product_name"])]
    tables["overdue"] = table("tbl-overdue", [
        ("sample_id", t("col.sample_id")), ("unit_name", t("col.unit")), ("sampled_on", t("col.sampled_on"), "date"),
        ("product", t("col.product")), ("seller_name", t("col.seller")), ("failed_items", t("col.item")),
        ("notified_on", t("col.notified_on"), "date"),
        ("correction_deadline", t("col.correction_deadline", days=limits["correction"]), "date"),
        ("corrected_on", t("col.corrected_on"), "date"), ("correction_status", t("col.correction_status"), "dispo"),
        ("reinspection_deadline", t("col.reinspection_deadline", days=limits["reinspection"]), "date"),
        ("reinspected_on", t("col.reinspected_on"), "date"),
        ("reinspection_status", t("col.reinspection_status"), "dispo"),
        ("reinspection_result", t("col.reinspection_result"))], over, caption=t("sr.overdue.title"), limit=OVERDUE_ROWS)

    tiles = [
        (t("sr.tile.batches"), fmt_int(tot["n"])),
        (t("sr.tile.failed"), fmt_int(tot["failed"])),
        (t("sr.tile.pass_rate"), fmt_pct(tot["passed"] / tested if tested else None)),
        (t("sr.tile.safety"), fmt_int(tot["failed_safety"])),
        (t("sr.tile.label"), fmt_int(tot["failed_label"])),
        (t("sr.tile.overdue"), fmt_int(len(over))),
    ]
    return {"tiles": tiles, "figs": figs, "tables": tables,
            "disposal_note": t("sr.disposal.note", c=limits["correction"], r=limits["reinspection"],
                               as_of=as_of.isoformat()),
            "n_overdue": len(over)}


def build_sampling_report(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                          as_of: dt.date | None = None, generated_at: dt.datetime | None = None) -> Path:
    """Write ``sampling_report.html`` (and plotly.min.js) into ``out_dir``; returns the page path.

    ``as_of``: the day disposal deadlines are judged on (default: the period's last day).
    """
    scope, period = as_scope(scope), parse_period(period)
    as_of = as_of or period.last_day
    limits = order18_limits()
    breakdown, failed = collect(con, scope, period, as_of, limits)
    ctx = prepare(breakdown, failed, scope, period, as_of, limits, lang)
    t = labels.translator(lang)
    return render.render_page(Path(out_dir), SLOT.filename, "sampling_report.html.j2", lang=lang, report_key=SLOT.key,
                              title=t(SLOT.label), scope_label=scope.label(lang), period_label=period.label(lang),
                              generated_at=generated_at, **ctx)
