"""Data-quality report (DESIGN §5.7): rule results, quarantine reasons and the entry-unit scorecard.

``build_dq_report(con, out_dir, scope=None, period=None, lang="zh")`` writes ``dq_report.html`` and
``dq_report.xlsx`` into a report folder (the ``dq_report`` slot of :data:`reports.render.REPORT_SLOTS`)
and refreshes the folder's ``index.html``. Sections:

1. **Overview** — per table and month: rows checked, clean, quarantined (>= 1 error rule), flagged
   (>= 1 warning, still clean), violations; per delivered file: staged = clean + quarantined (and rows
   the loader rejected before staging).
2. **Rule results** — per GB/T 36344 dimension and per rule: the rule (its description in the page's
   language; the rule ids are in the workbook, where a bureau quotes them),
   basis, severity, rows reported and, for error rules, the quarantined rows they are a reason for.
3. **Entry-unit scorecard** (谁录入谁负责) — error rate per unit and month (heatmap), and for the last
   month of the period every unit's rank (1 = lowest error rate, ties share the best rank), error and
   warning rates, per-dimension error rates and the change against the month before.
4. **Per unit** — the rules failing most in the period, with example record ids.

Numbers come from :mod:`data_quality.scorecard` (definitions there). The page is offline (the
folder's one ``plotly.min.js``), every data string is escaped (Jinja autoescape; figure strings go
through :func:`reports.render.plot_text`), and names what it shows (units and regions by name, rules by
their description, deliveries by number and month): record ids are the only codes on the page. Rule ids,
unit ids and delivered file names are in the XLSX (full scorecard per table, overview, rules, unit rules,
files), never complainant data or free text.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from data_quality import scorecard as sc
from data_quality.rulebook import DIMENSIONS
from reports import figures, labels, render
from reports.periods import Period, parse_period
from reports.render import fmt_int, fmt_pct, plot_text, table
from reports.scope import Scope, as_scope, unit_names

SLOT = render.SLOTS["dq_report"]
XLSX_NAME = "dq_report.xlsx"
TABLES = sc.TABLES
REGION_UNIT_TABLES = {"sampling_results", "region_profiles"}  # the unit is a GB/T 2260 code: show its name
HEATMAP_UNITS = 40  # units shown in a heatmap (worst error rate over the period first)
UNIT_DETAIL_LIMIT = 100  # units listed with their failing rules in the HTML (all of them in the XLSX)
TOP_RULES = 3  # rules per unit
EXAMPLES = 3  # example record ids per rule
RULE_LABEL_CHARS = 24  # a rule's description shortened to this on the chart's axis (in full on hover)
MIN_ROWS = 20  # a unit with fewer rows in the month is marked "few records": its rate is noisy


# ------------------------------------------------------------------------------------------ inputs
def partitions_for(table: str, period: Period | None, checked: list[str]) -> list[str]:
    """The checked partitions of ``table`` inside ``period`` (all of them for ``None``): months
    ``YYYY-MM``, or years ``YYYY`` for region profiles."""
    if period is None:
        return list(checked)
    months = {m.strftime("%Y-%m") for m in period.months}
    years = {str(m.year) for m in period.months}
    return [p for p in checked if p in months or p in years]


def _pp(v: Any) -> str:
    """A rate difference in percentage points, signed ('–' if none)."""
    if v is None or pd.isna(v):
        return "–"
    x = float(v) * 100
    return "±0.00 pp" if abs(x) < 0.005 else f"{x:+.2f} pp"


def _rank_move(v: Any) -> str:
    if v is None or pd.isna(v):
        return "–"
    v = int(v)
    return "=" if v == 0 else (f"▲{v}" if v > 0 else f"▼{-v}")


def _unit_label(table: str, unit: Any, names: dict[str, str], t) -> str:
    if unit is None or (not isinstance(unit, str) and pd.isna(unit)):
        return t("dq.unit.none")
    unit = str(unit)
    return names.get(unit, unit)  # regions by name (with their city), entry / hotline units by name


def _region_names(codes: list[str], scope: Scope | None, lang: str, t) -> dict[str, str]:
    """A region's name for a reader: a county with its city (南京市鼓楼区 and 徐州市鼓楼区 differ), an
    abolished or unknown code said in words with the code it was given (a code of no region has no name)."""
    import reference

    cur = dict(zip(reference.admin_divisions().code, reference.admin_divisions().name))
    hist = reference.admin_divisions_history()
    gone = dict(zip(hist.code, hist.name))
    short = unit_names(scope or as_scope("CN"), codes, lang)
    out = {}
    for c in codes:
        if c in cur:
            name = short[c] if short[c] and c not in short[c] else cur[c]
            city = cur.get(c[:4] + "00") if c[4:] != "00" else None
            out[c] = city + name if city and not name.startswith(city) else name
        elif c in gone:
            out[c] = t("dq.region.abolished", name=gone[c], code=c)
        else:
            out[c] = t("dq.region.unknown", code=c)
    return out


def _names(table: str, units, scope: Scope | None, lang: str) -> dict[str, str]:
    if table not in REGION_UNIT_TABLES:
        from reports.units import unit_display_names

        return unit_display_names(units, lang)
    codes = [str(u) for u in units if isinstance(u, str)]
    return _region_names(codes, scope, lang, labels.translator(lang)) if codes else {}


def _dim_label(dim: str, lang: str, t) -> str:
    if dim == sc.ALL:
        return t("dq.dim.all")
    return DIMENSIONS.get(dim, dim) if lang == "zh" else t(f"dq.dim.{dim}") if f"dq.dim.{dim}" in labels.LABELS else dim


# ------------------------------------------------------------------------------------------ collect
def collect(con, scope: Scope | None, period: Period | None) -> dict:
    """Everything the page and the workbook show, per table (tables without checked partitions are
    left out of the page, but keep an (empty) sheet in the workbook)."""
    prefix = scope.prefix if scope is not None else ""
    out: dict[str, Any] = {"tables": {}}
    for tbl in TABLES:
        checked = sc.checked_partitions(con, tbl)
        parts = partitions_for(tbl, period, checked)
        if not parts:
            continue
        runs = sc.overview(con, [tbl], parts)
        card = sc.unit_scorecard(con, tbl, parts, region_prefix=prefix)
        rows_checked = int(runs["rows_staged"].sum()) if len(runs) else 0
        out["tables"][tbl] = {
            "partitions": parts,
            "runs": runs,
            "files": sc.file_reconciliation(con, tbl, parts),
            "rules": sc.rule_results(con, tbl, parts, rows_checked),
            "scorecard": card,
            "top_rules": sc.top_failing_rules_all(con, tbl, parts, TOP_RULES, examples=EXAMPLES, region_prefix=prefix),
            "stale": card.attrs.get("stale_months", []),
        }
    return out


def period_totals(card: pd.DataFrame) -> pd.DataFrame:
    """Per unit over the whole period (dimension 'all'): rows entered, error rows, warning rows, rates."""
    d = card[card["dimension"] == sc.ALL]
    if d.empty:
        return pd.DataFrame(columns=["unit_id", "rows_entered", "rows_error", "rows_warn", "error_rate", "warn_rate"])
    g = (d.assign(_u=d["unit_id"].fillna("\0"))
         .groupby("_u", sort=False)[["rows_entered", "rows_error", "rows_warn"]].sum().reset_index())
    g["unit_id"] = g["_u"].where(g["_u"] != "\0", None)
    g["error_rate"] = g["rows_error"] / g["rows_entered"]
    g["warn_rate"] = g["rows_warn"] / g["rows_entered"]
    return g.drop(columns="_u")


# ------------------------------------------------------------------------------------------ figures
def heatmap(card: pd.DataFrame, title: str, unit_label, t, limit: int = HEATMAP_UNITS) -> tuple[go.Figure, int, int]:
    """Units × months, colour = error rate (dimension 'all'); the ``limit`` worst units over the period.
    Returns (figure, units shown, units in all)."""
    d = card[(card["dimension"] == sc.ALL) & card["unit_id"].notna()]
    tot = period_totals(d).sort_values(["error_rate", "rows_error", "unit_id"], ascending=[False, False, True])
    units = list(tot["unit_id"])[:limit]
    months = sorted(d["month"].unique())
    cell = {(u, m): r for u, m, r in zip(d["unit_id"], d["month"], d.itertuples())}
    z, text = [], []
    for u in units:
        zr, tr = [], []
        for m in months:
            r = cell.get((u, m))
            zr.append(None if r is None else float(r.error_rate) * 100)
            tr.append("" if r is None else f"{plot_text(unit_label(u))} {m}: {fmt_pct(r.error_rate, 2)} "
                                           f"({int(r.rows_error):,}/{int(r.rows_entered):,})")
        z.append(zr)
        text.append(tr)
    fig = figures._fig(go.Heatmap(
        z=z, x=months, y=[plot_text(unit_label(u)) for u in units], text=text, hoverinfo="text",
        colorscale=[[0, "#f7fbff"], [0.2, "#fdd49e"], [0.6, "#ef6548"], [1, "#7f0000"]], zmin=0,
        colorbar={"title": {"text": plot_text(t("dq.axis.error_rate_pct")), "side": "right"}}))  # narrow: phones
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    figures._layout(fig, title, height=max(320, 120 + 22 * len(units)))
    return fig, len(units), len(tot)


def rules_bar(rules: pd.DataFrame, title: str, t, lang: str, n: int = 15) -> go.Figure:
    d = rules[rules["rows"] > 0].head(n)
    desc = "description" if "description" in d else "description_zh" if lang == "zh" else "description_en"
    colours = [figures.RED if s == "error" else "#ef6c00" for s in d["severity"]]
    text = [f"{int(r):,}" for r in d["rows"]]
    names, seen = [], set()
    for x in d[desc]:
        name = x if len(x) <= RULE_LABEL_CHARS else x[:RULE_LABEL_CHARS - 1] + "…"
        while name in seen:  # two rules shortened alike stay two bars
            name += "\u200b"
        seen.add(name)
        names.append(name)
    fig = figures.hbar(d.assign(_t=text, _name=names), "_name", "rows", title, t("dq.axis.rows"), lambda x: x,
                       text_col="_t", colours=colours)
    fig.update_traces(hovertext=[plot_text(x) for x in d[desc][::-1]], hoverinfo="text+x")
    return fig


def dimension_bars(dims: pd.DataFrame, title: str, t) -> go.Figure:
    """Rows reported per dimension, error and warning rules side by side."""
    fig = figures._fig()
    for sev, colour in (("error", figures.RED), ("warn", "#ef6c00")):
        d = dims[dims["severity"] == sev]
        fig.add_bar(x=[plot_text(x) for x in d["label"]], y=d["rows"], name=plot_text(t(f"dq.severity.{sev}")),
                    marker_color=colour)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=plot_text(t("dq.axis.rows")))
    return figures._layout(fig, title)


# ------------------------------------------------------------------------------------------ prepare
def prepare(data: dict, scope: Scope | None, lang: str = "zh") -> dict:
    t = labels.translator(lang)
    desc = "description_zh" if lang == "zh" else "description_en"
    sections = []
    rule_names = {r: x for d in data["tables"].values() for r, x in zip(d["rules"]["rule_id"], d["rules"][desc])}
    tot = {"checked": 0, "quarantined": 0, "flagged": 0, "violations": 0, "units": 0}
    runs_all = []
    for tbl, d in data["tables"].items():
        tname = t(f"dq.table.{tbl}")
        runs, card = d["runs"], d["scorecard"]
        tot["checked"] += int(runs["rows_staged"].sum())
        tot["quarantined"] += int(runs["rows_quarantined"].sum())
        tot["flagged"] += int(runs["rows_flagged"].sum())
        tot["violations"] += int(runs["violations"].sum())
        r = runs.assign(table_label=tname, status=[t("dq.ok") if x else t("dq.mismatch") for x in runs["reconciled"]])
        runs_all.append(r)
        files = d["files"].copy()
        files["months_text"] = [", ".join(m) for m in files["months"]]
        files["status"] = [t("dq.ok") if x else t("dq.mismatch") for x in files["reconciled"]]
        files["delivery"] = [t("dq.delivery", n=i + 1) for i in range(len(files))]
        files_tbl = table(f"tbl-dq-files-{tbl}", [
            ("delivery", t("dq.col.delivery")), ("months_text", t("dq.col.months")), ("staged", t("dq.col.staged"), "int"),
            ("clean", t("dq.col.clean"), "int"), ("quarantined", t("dq.col.quarantined"), "int"),
            ("status", t("dq.col.reconciled")), ("rejected", t("dq.col.rejected"), "int")], files,
            caption=t("dq.files.caption", table=tname), note=t("dq.files.note"))

        # rule results: by dimension and by rule
        rules = d["rules"].copy()
        rules["description"] = [_name_rule_refs(x, rule_names) for x in rules[desc]]
        rules["dimension_label"] = [_dim_label(x, lang, t) for x in rules["dimension"]]
        rules["severity_label"] = [t(f"dq.severity.{s}") for s in rules["severity"]]
        rules["quarantined_text"] = [fmt_int(q) if s == "error" else "–" for q, s in zip(rules["quarantined"], rules["severity"])]
        rules_tbl = table(f"tbl-dq-rules-{tbl}", [
            ("description", t("dq.col.rule")),
            ("dimension_label", t("dq.col.dimension")), ("severity_label", t("dq.col.severity")),
            ("rows", t("dq.col.rows_reported"), "int"), ("rate", t("dq.col.rate"), "pct"),
            ("quarantined_text", t("dq.col.quarantine_reason")), ("basis", t("dq.col.basis"))], rules,
            caption=t("dq.rules.caption", table=tname), note=t("dq.rules.note") + " " + t("dq.rules.ids"))
        dims = _by_dimension(card, rules, lang, t)
        dims_tbl = table(f"tbl-dq-dims-{tbl}", [
            ("label", t("dq.col.dimension")), ("severity_label", t("dq.col.severity")), ("rules", t("dq.col.rules"), "int"),
            ("rows", t("dq.col.rows_reported"), "int"), ("rate", t("dq.col.rate"), "pct")], dims,
            caption=t("dq.dims.caption", table=tname))
        fig_dims = render.figure_html(
            dimension_bars(dims, t("dq.fig.dimensions", table=tname), t) if dims["rows"].sum() > 0
            else figures.empty_figure(t("dq.fig.dimensions", table=tname), t("dq.no_violations")), f"fig-dq-dims-{tbl}")
        fig_rules = render.figure_html(
            rules_bar(rules, t("dq.fig.rules", table=tname, n=15), t, lang) if rules["rows"].sum() > 0
            else figures.empty_figure(t("dq.fig.rules", table=tname, n=15), t("dq.no_violations")), f"fig-dq-rules-{tbl}")

        # scorecard
        names = _names(tbl, card["unit_id"].unique(), scope, lang)
        ulabel = lambda u, _tbl=tbl, _n=names: _unit_label(_tbl, u, _n, t)  # noqa: E731
        units_all = card.loc[card["dimension"] == sc.ALL, "unit_id"]
        tot["units"] += int(units_all.dropna().nunique())
        last = max(d["partitions"]) if len(card) else None
        fig_heat, shown, n_units = heatmap(card, t("dq.fig.heatmap", table=tname), ulabel, t) if len(card) else (None, 0, 0)
        heat = render.figure_html(fig_heat, f"fig-dq-heatmap-{tbl}") if fig_heat is not None and shown else None
        score_rows, dim_keys = _scorecard_rows(card, last, ulabel, t, lang)
        # per unit: the rules failing most over the period
        unit_rows, n_failing = _unit_rule_rows(d["top_rules"], card, ulabel, t, desc,
                                               lambda x, _tbl=tbl, _n=names: _example_label(_tbl, x, _n, lang),
                                               rule_names)
        sections.append({
            "key": tbl, "label": tname, "unit_header": t(f"dq.unit.{tbl}"), "months": d["partitions"],
            "files": files_tbl, "rules": rules_tbl, "dims": dims_tbl, "fig_dims": fig_dims, "fig_rules": fig_rules,
            "heatmap": heat, "heat_note": t("dq.heatmap.note", shown=shown, total=n_units) if n_units > shown else "",
            "last_month": last, "score_rows": score_rows, "dim_heads": [(k, _dim_label(k, lang, t)) for k in dim_keys],
            "unit_rows": unit_rows[:_row_limit(unit_rows, UNIT_DETAIL_LIMIT)],
            "unit_note": t("dq.units.truncated", shown=UNIT_DETAIL_LIMIT, total=n_failing) if n_failing > UNIT_DETAIL_LIMIT else "",
            "stale": ", ".join(d["stale"]),
        })
    runs_all = pd.concat(runs_all, ignore_index=True) if runs_all else pd.DataFrame(
        columns=["table_label", "month", "rows_staged", "rows_clean", "rows_quarantined", "rows_flagged",
                 "violations", "error_share", "status"])
    runs_tbl = table("tbl-dq-runs", [
        ("table_label", t("dq.col.table")), ("month", t("dq.col.month")), ("rows_staged", t("dq.col.checked"), "int"),
        ("rows_clean", t("dq.col.clean"), "int"), ("rows_quarantined", t("dq.col.quarantined"), "int"),
        ("rows_flagged", t("dq.col.flagged"), "int"), ("violations", t("dq.col.violations"), "int"),
        ("error_share", t("dq.col.error_share"), "pct"), ("status", t("dq.col.reconciled"))], runs_all,
        note=t("dq.runs.note"))
    tiles = [
        (t("dq.tile.checked"), fmt_int(tot["checked"])),
        (t("dq.tile.quarantined"), fmt_int(tot["quarantined"])),
        (t("dq.tile.error_share"), fmt_pct(tot["quarantined"] / tot["checked"] if tot["checked"] else None, 2)),
        (t("dq.tile.flagged"), fmt_int(tot["flagged"])),
        (t("dq.tile.violations"), fmt_int(tot["violations"])),
        (t("dq.tile.units"), fmt_int(tot["units"])),
    ]
    return {"tiles": tiles, "runs": runs_tbl, "sections": sections, "min_rows": MIN_ROWS}


def _row_limit(rows: list[dict], units: int) -> int:
    """Rows of the first ``units`` units (a unit spans several rows)."""
    seen = 0
    for i, r in enumerate(rows):
        if r["first"]:
            seen += 1
            if seen > units:
                return i
    return len(rows)


def _by_dimension(card: pd.DataFrame, rules: pd.DataFrame, lang: str, t) -> pd.DataFrame:
    """Per dimension and severity: rules, distinct rows reported (from the scorecard's counts)."""
    out = []
    rows_checked = int(card.loc[card["dimension"] == sc.ALL, "rows_entered"].sum()) if len(card) else 0
    for dim in [k for k in DIMENSIONS if k in set(rules["dimension"])]:
        for sev in ("error", "warn"):
            n_rules = int(((rules["dimension"] == dim) & (rules["severity"] == sev)).sum())
            if not n_rules:
                continue
            c = card[card["dimension"] == dim]
            rows = int(c["rows_error" if sev == "error" else "rows_warn"].sum()) if len(c) else 0
            out.append({"dimension": dim, "label": _dim_label(dim, lang, t), "severity": sev,
                        "severity_label": t(f"dq.severity.{sev}"), "rules": n_rules, "rows": rows,
                        "rate": rows / rows_checked if rows_checked else None})
    return pd.DataFrame(out, columns=["dimension", "label", "severity", "severity_label", "rules", "rows", "rate"])


def _scorecard_rows(card: pd.DataFrame, month: str | None, ulabel, t, lang: str) -> tuple[list[dict], list[str]]:
    """The last month's ranking: one dict per unit (ranked units first, the no-unit row last)."""
    if month is None or card.empty:
        return [], []
    m = card[card["month"] == month]
    dim_keys = [k for k in DIMENSIONS if k in set(m["dimension"])]
    per_dim = {(u if isinstance(u, str) else None, dim): r
               for u, dim, r in zip(m["unit_id"], m["dimension"], m["error_rate"])}
    rows = []
    for r in m[m["dimension"] == sc.ALL].itertuples():
        unit = r.unit_id if isinstance(r.unit_id, str) else None
        rows.append({
            "unit_id": unit, "unit": ulabel(unit), "rank": "–" if pd.isna(r.rank) else int(r.rank),
            "of": int(r.units_ranked), "rows": fmt_int(r.rows_entered), "few": r.rows_entered < MIN_ROWS,
            "rows_error": fmt_int(r.rows_error), "error_rate": fmt_pct(r.error_rate, 2),
            "change": _pp(r.error_rate_change), "rank_change": _rank_move(r.rank_change),
            "better": (not pd.isna(r.error_rate_change)) and r.error_rate_change < 0,
            "worse": (not pd.isna(r.error_rate_change)) and r.error_rate_change > 0,
            "rows_warn": fmt_int(r.rows_warn), "warn_rate": fmt_pct(r.warn_rate, 2),
            "dims": [fmt_pct(per_dim.get((unit, k)), 2) for k in dim_keys],
        })
    return rows, dim_keys


RULE_REF = re.compile(r"\b[A-Z]{2,4}-[A-Z]{2,4}-\d{2,4}\b")


def _name_rule_refs(text: Any, rule_names: dict[str, str]) -> Any:
    """A description that refers to another rule by its id names that rule instead (“…”)."""
    if not isinstance(text, str):
        return text
    return RULE_REF.sub(lambda m: f"“{rule_names[m.group(0)]}”" if m.group(0) in rule_names else m.group(0), text)


def _example_label(table: str, key: Any, names: dict[str, str], lang: str) -> str:
    """An example record as a reader finds it: record ids as they are; a hotline or region-profile row
    (keyed unit|month or region|year) by the unit's or region's name and its month or year."""
    key = str(key)
    if table in ("hotline_stats", "region_profiles") and "|" in key:
        unit, _, when = key.partition("|")
        if unit not in names:
            names.update(_names(table, [unit], None, lang))
        return f"{names.get(unit, unit)} {when}"
    return key


def _unit_rule_rows(top: pd.DataFrame, card: pd.DataFrame, ulabel, t, desc: str,
                    example=lambda x: str(x), rule_names: dict | None = None) -> tuple[list[dict], int]:
    """Per unit (worst period error rate first) its top rules; returns (rows, units with any result)."""
    if top.empty:
        return [], 0
    totals = period_totals(card)
    order = totals.sort_values(["error_rate", "warn_rate", "rows_error"], ascending=False, kind="stable")
    rate = {(u if isinstance(u, str) else None): (e, w, n) for u, e, w, n in
            zip(order["unit_id"], order["error_rate"], order["warn_rate"], order["rows_entered"])}
    groups = {}
    for r in top.itertuples():
        groups.setdefault(r.unit_id if isinstance(r.unit_id, str) else None, []).append(r)
    ordered = [u if isinstance(u, str) else None for u in order["unit_id"]]
    ordered = [u for u in ordered if u in groups] + [u for u in groups if u not in set(ordered)]
    rows = []
    for u in ordered:
        e, w, n = rate.get(u, (None, None, None))
        for i, r in enumerate(groups[u]):
            rows.append({
                "first": i == 0, "span": len(groups[u]), "unit": ulabel(u), "rows_entered": fmt_int(n),
                "error_rate": fmt_pct(e, 2), "warn_rate": fmt_pct(w, 2), "place": int(r.place),
                "rule_id": r.rule_id, "description": _name_rule_refs(getattr(r, desc), rule_names or {}),
                "severity": r.severity,
                "severity_label": t(f"dq.severity.{r.severity}"), "rows": fmt_int(r.rows), "rate": fmt_pct(r.rate, 2),
                "examples": [example(x) for x in r.examples],
            })
    return rows, len(groups)


# ------------------------------------------------------------------------------------------ xlsx
def write_xlsx(data: dict, path: Path, lang: str = "zh") -> Path:
    """``dq_report.xlsx``: one scorecard sheet per table (named after the table, every unit × month ×
    dimension), then ``overview`` (dq.runs), ``rules`` (every rule with its counts) and ``unit_rules``
    (the rules failing most per unit with example record ids). Header row bold and frozen.

    Streamed by :class:`reports.xlsx_stream.StreamingWorkbook` (issue 12: a province's scorecard is
    ~400,000 cells, the 10M CN report's 8.5 million; openpyxl's write-only cells took 104 s of it).
    It writes text as text (formula-like text quote-prefixed), the ``render.provisional`` banner row,
    and continues a table past Excel's 1,048,576 rows on ``name (2)``."""
    from reports.xlsx_stream import StreamingWorkbook

    t = labels.translator(lang)
    none = t("dq.unit.none")
    dim_labels: dict[str, str] = {}

    def dim_label(dim):
        if dim not in dim_labels:
            dim_labels[dim] = _dim_label(dim, lang, t)
        return dim_labels[dim]

    with StreamingWorkbook(path, banner=render.provisional_banner()) as wb:
        _write_tables(wb, data, t, lang, none, dim_label)
    return Path(path)


def _write_tables(wb, data: dict, t, lang: str, none: str, dim_label) -> None:
    pct, rate_fmt, chg = "0.00%", "0.0000", "+0.00%;-0.00%;0.00%"
    for tbl in TABLES:
        d = data["tables"].get(tbl)
        card = d["scorecard"] if d else pd.DataFrame(columns=sc.SCORECARD_COLUMNS)
        header = [t("dq.col.month"), t(f"dq.unit.{tbl}"), t("dq.col.dimension"), t("dq.col.dimension_key"),
                  t("dq.col.rows_entered"), t("dq.col.rows_error"), t("dq.col.rows_warn"), t("dq.col.error_rate"),
                  t("dq.col.warn_rate"), t("dq.col.rank"), t("dq.col.units_ranked"), t("dq.col.prev_error_rate"),
                  t("dq.col.error_rate_change"), t("dq.col.prev_rank"), t("dq.col.rank_change")]
        rows = ([r.month, r.unit_id if isinstance(r.unit_id, str) else none,
                 dim_label(r.dimension), r.dimension, r.rows_entered, r.rows_error, r.rows_warn,
                 r.error_rate, r.warn_rate, r.rank, r.units_ranked, r.prev_error_rate, r.error_rate_change,
                 r.prev_rank, r.rank_change] for r in card.itertuples(index=False))
        wb.add_table(tbl, header, rows,
                     [None, None, None, None, "#,##0", "#,##0", "#,##0", pct, pct, "0", "0", pct, chg, "0", "+0;-0;0"])
    runs = [r for d in data["tables"].values() for r in d["runs"].itertuples()]
    wb.add_table("overview",
                 [t("dq.col.table"), t("dq.col.month"), t("dq.col.checked"), t("dq.col.clean"), t("dq.col.quarantined"),
                  t("dq.col.flagged"), t("dq.col.violations"), t("dq.col.error_share"), t("dq.col.reconciled")],
                 [[r.table_name, r.month, r.rows_staged, r.rows_clean, r.rows_quarantined, r.rows_flagged, r.violations,
                   r.error_share, bool(r.reconciled)] for r in runs],
                 [None, None, "#,##0", "#,##0", "#,##0", "#,##0", "#,##0", pct, None])
    desc = "description_zh" if lang == "zh" else "description_en"
    rules = [r for d in data["tables"].values() for r in d["rules"].itertuples()]
    wb.add_table("rules",
                 [t("dq.col.table"), t("dq.col.rule"), t("dq.col.description"), t("dq.col.dimension"),
                  t("dq.col.severity"), t("dq.col.violations"), t("dq.col.rows_reported"), t("dq.col.rate"),
                  t("dq.col.quarantine_reason"), t("dq.col.basis")],
                 [[r.table_name, r.rule_id, getattr(r, desc), dim_label(r.dimension), r.severity, r.violations,
                   r.rows, r.rate, r.quarantined, r.basis] for r in rules],
                 [None, None, None, None, None, "#,##0", "#,##0", rate_fmt, "#,##0", None])
    tops = [r for d in data["tables"].values() for r in d["top_rules"].itertuples()]
    wb.add_table("unit_rules",
                 [t("dq.col.table"), t("dq.col.unit"), t("dq.col.place"), t("dq.col.rule"), t("dq.col.description"),
                  t("dq.col.severity"), t("dq.col.rows_reported"), t("dq.col.rows_entered"), t("dq.col.rate"),
                  t("dq.col.examples")],
                 [[r.table_name, r.unit_id if isinstance(r.unit_id, str) else none, r.place, r.rule_id,
                   getattr(r, desc), r.severity, r.rows, r.rows_entered, r.rate, list(r.examples)] for r in tops],
                 [None, None, "0", None, None, None, "#,##0", "#,##0", pct, None])
    files = [(tbl, r) for tbl, d in data["tables"].items() for r in d["files"].itertuples()]
    wb.add_table("files",
                 [t("dq.col.table"), t("dq.col.file"), t("dq.col.months"), t("dq.col.staged"), t("dq.col.clean"),
                  t("dq.col.quarantined"), t("dq.col.reconciled"), t("dq.col.rejected")],
                 [[tbl, r.file_name, ", ".join(r.months), r.staged, r.clean, r.quarantined, bool(r.reconciled),
                   r.rejected] for tbl, r in files],
                 [None, None, None, "#,##0", "#,##0", "#,##0", None, "#,##0"])


# ------------------------------------------------------------------------------------------ build
def build_dq_report(con, out_dir: Path, scope: str | Scope | None = None, period: str | Period | None = None,
                    lang: str = "zh", *, generated_at: dt.datetime | None = None, write_index: bool = True) -> Path:
    """Write the data-quality report into the report folder ``out_dir``; returns the ``dq_report.html`` path.

    ``con``: a DuckDB connection to a warehouse the gate has run on (``dq.rule_results``, ``dq.runs``,
    ``dq.rules``, ``dq.quarantine``, ``staging.*``, ``clean.*``); read-only connections work.
    ``scope``: ``None`` (every row), ``"CN"``, a province ``"32"`` or a prefecture ``"3204"`` — rows whose
    region code (complaints: the handling bureau's) lies in it, plus a unit's rows without a region code.
    ``period``: ``None`` (every partition the gate has run on), ``"2025"``, ``"2025H1"``, ``"2025Q3"`` or
    ``"2025-03"``. The scorecard's ranking table shows the period's last month (change = against the
    month before it, even if that month lies outside the period); the heatmap shows every month.
    ``lang``: ``"zh"`` (default) or ``"en"`` — one language per folder.

    Writes ``dq_report.html`` (shared ``plotly.min.js`` in the folder, works offline, every data
    string escaped, no personal data) and ``dq_report.xlsx`` (scorecard per table, overview, rules,
    unit rules; frozen header), then refreshes ``index.html`` (``write_index=False`` leaves it alone,
    e.g. when ``reports.build_reports`` writes it afterwards).
    """
    labels.check_lang(lang)
    scope_obj = as_scope(scope) if scope not in (None, "") else None
    period_obj = parse_period(period) if period not in (None, "") else None
    out_dir = Path(out_dir)
    t = labels.translator(lang)
    generated_at = generated_at or dt.datetime.now()
    data = collect(con, scope_obj, period_obj)
    ctx = prepare(data, scope_obj, lang)
    write_xlsx(data, out_dir / XLSX_NAME, lang)
    scope_label = scope_obj.label(lang) if scope_obj else t("dq.scope.all")
    period_label = period_obj.label(lang) if period_obj else t("dq.period.all")
    page = render.render_page(out_dir, SLOT.filename, "dq_report.html.j2", lang=lang, report_key=SLOT.key,
                              title=t(SLOT.label), scope_label=scope_label, period_label=period_label,
                              generated_at=generated_at, xlsx_name=XLSX_NAME, **ctx)
    if write_index:
        render.write_index(out_dir, scope_label=scope_label, period_label=period_label, lang=lang,
                           generated_at=generated_at)
    return page
