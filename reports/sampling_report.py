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
from reports.shared_results import shared

SLOT = render.SLOTS["sampling_report"]
TOP_ITEMS = 20
OVERDUE_ROWS = 200
ITEM_SEPARATORS = re.compile(r"[、;；,，/|]+")
DISPOSAL_STATUSES = ("on_time", "overdue", "open", "open_overdue", "unknown")
OVERDUE = ("overdue", "open_overdue")
CI_LEVEL = 0.95
TOP_PRODUCTS = 30  # product lines in the table and the chart (the XLSX of failed batches has them all)
FAILED_ROWS = 300  # failed batches listed on the page
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


@shared  # also the narrative's sampling sentences (reports.narrative.gather.sampling_facts)
def collect(con, scope: Scope, period: Period, as_of: dt.date, limits: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    w = {"prefix": scope.prefix, "start": period.start, "end": period.end}
    with registered_unit_map(con, scope):
        breakdown = run(con, "sampling_breakdown", **w)
        failed = run(con, "sampling_failed_batches", as_of=as_of, correction_days=limits["correction"],
                     reinspection_days=limits["reinspection"], **w)
    return breakdown, failed


def collect_products(con, scope: Scope, period: Period) -> pd.DataFrame:
    return run(con, "sampling_products", prefix=scope.prefix, start=period.start, end=period.end)


def with_failure_rates(d: pd.DataFrame, level: float = CI_LEVEL) -> pd.DataFrame:
    """Adds ``fail_rate`` = failed ÷ tested and its Wilson score interval ``fail_lo`` / ``fail_hi``
    (``index_model.noise.wilson_interval``, scipy's binomtest). NaN where nothing was tested."""
    from index_model.noise import wilson_interval

    d = d.copy()
    tested = d["tested"].astype(float)
    d["fail_rate"] = (d["failed"] / tested).where(tested > 0)
    if len(d):
        lo, hi = wilson_interval(d["failed"].astype(float).to_numpy(), tested.to_numpy(), level)
        d["fail_lo"], d["fail_hi"] = pd.Series(lo, index=d.index).where(tested > 0), pd.Series(hi, index=d.index).where(tested > 0)
    else:
        d["fail_lo"] = d["fail_hi"] = pd.Series(dtype=float)
    return d


def product_lines(products: pd.DataFrame) -> pd.DataFrame:
    """Product lines with failure rate and interval, worst first: ordered by the interval's lower bound
    (a line failing 45 % of 64 batches before one failing 1 of 1), then by the rate and the batches."""
    d = with_failure_rates(products)
    d = d[d["tested"] > 0]
    return d.sort_values(["fail_lo", "fail_rate", "tested", "product_name"], ascending=[False, False, False, True],
                         na_position="last").reset_index(drop=True)


# order of the 公示 / 清单式督查 list: what needs action first
ACTION_ORDER = {"correction_open_overdue": 0, "reinspection_open_overdue": 1, "reinspection_failed": 2,
                "correction_open": 3, "reinspection_open": 4, "unknown": 5, "done_late": 6, "done": 7}


def next_action(row) -> tuple[str, object, int | None]:
    """(action key, its deadline, days overdue) of one failed batch from its Order No. 18 statuses."""
    c, r = row["correction_status"], row["reinspection_status"]
    as_of = row["_as_of"]
    if c == "unknown" or r == "unknown":
        return "unknown", None, None
    if c == "open_overdue":
        return "correction_open_overdue", row["correction_deadline"], _days(as_of, row["correction_deadline"])
    if r == "open_overdue":
        return "reinspection_open_overdue", row["reinspection_deadline"], _days(as_of, row["reinspection_deadline"])
    if isinstance(row.get("reinspection_result"), str) and row["reinspection_result"] == "不合格":
        return "reinspection_failed", row["reinspected_on"], None
    if c == "open":
        return "correction_open", row["correction_deadline"], None
    if r == "open":
        return "reinspection_open", row["reinspection_deadline"], None
    if "overdue" in (c, r):
        return "done_late", row["reinspected_on"], None
    return "done", row["reinspected_on"], None


def _days(as_of, deadline) -> int | None:
    if deadline is None or deadline != deadline:
        return None
    return int((pd.Timestamp(as_of) - pd.Timestamp(deadline)).days)


def failed_list(failed: pd.DataFrame, scope: Scope, as_of: dt.date, lang: str = "zh") -> pd.DataFrame:
    """Every failed batch for 公示 and 清单式督查: product, brand, manufacturer, seller, region, failed
    items and their kind, the next disposal step with its deadline; overdue first (most overdue on top),
    then re-inspections that failed again, open steps by deadline, batches whose status cannot be judged,
    finished ones. No USCC or internal id: the sample number is the one printed on the sampling form."""
    t, v = labels.translator(lang), labels.value_translator(lang)
    cols = ["sample_id", "sampled_on", "region", "product", "brand", "manufacturer_name", "seller_name", "failed_items",
            "failure_kind", "action", "action_key", "deadline", "days_overdue"]
    if failed is None or failed.empty:
        return pd.DataFrame(columns=cols)
    f = failed.copy()
    f["_as_of"] = as_of
    acts = [next_action(r) for _, r in f.iterrows()]
    f["action_key"] = [a[0] for a in acts]
    f["deadline"] = [a[1] for a in acts]
    f["days_overdue"] = pd.array([a[2] for a in acts], dtype="Int64")
    f["action"] = [t(f"sr.action.{k}", days=d if d is not None else "") for k, _, d in acts]
    f["region"] = region_labels(f["region_code"], f["unit_code"], scope, lang)
    f["product"] = [" · ".join(x for x in (v(c), p) if isinstance(x, str) and x)
                    for c, p in zip(f["product_category"], f["product_name"])]
    f["failure_kind"] = [t(_kind_key(s, lab)) for s, lab in zip(f["failed_safety_item"], f["failed_label_item"])]
    f["_order"] = f["action_key"].map(ACTION_ORDER)
    f["_od"] = -pd.to_numeric(f["days_overdue"], errors="coerce").fillna(0)
    f["_dl"] = pd.to_datetime(f["deadline"])
    f = f.sort_values(["_order", "_od", "_dl", "sampled_on", "sample_id"], na_position="last")
    return f[cols].reset_index(drop=True)


def region_labels(region_codes, unit_codes, scope: Scope, lang: str = "zh") -> list[str]:
    """"南京市鼓楼区": the reporting unit's name and, when the sampling place is a county inside it, the
    county's (鼓楼区 alone is ambiguous: Nanjing and Xuzhou both have one)."""
    codes = {str(c) for c in region_codes} | {str(u) for u in unit_codes}
    names = unit_names(scope, codes, lang)
    out = []
    for r, u in zip(region_codes, unit_codes):
        r, u = str(r), str(u)
        if r == u or u == scope.code:
            out.append(names[r])
        else:
            out.append(names[u] + ("" if lang == "zh" else ", ") + names[r])
    return out


def _kind_key(safety, label) -> str:
    s, lab = safety is True, label is True
    if s and lab:
        return "sr.split.both"
    if s:
        return "sr.split.safety_only"
    if lab:
        return "sr.split.label_only"
    return "sr.split.unspecified"


FAILED_XLSX = "sampling_failed_batches.xlsx"


def write_failed_xlsx(rows: pd.DataFrame, columns: list[tuple[str, str]], path: Path, sheet: str) -> Path:
    """The whole failed-batch list as a workbook (text cells stay text, formula-like text quote-prefixed;
    dates are dates), streamed row by row by reports.xlsx_stream, which also leaves missing values blank: at the
    national year (295,658 failed batches) openpyxl's in-memory cells raised the sampling report's peak from
    1,327 to 2,195 MB (issue 12)."""
    from reports.xlsx_stream import StreamingWorkbook

    widths = ([22, 11, 14, 24, 12, 28, 28, 24, 12, 26, 11, 9] + [10] * len(columns))[:len(columns)]
    at = [rows.columns.get_loc(k) if k in rows.columns else None for k, _ in columns]
    # dates as dates: a pd.Timestamp is a datetime, which the writer would give a time of day
    data = ([None if j is None else pd.Timestamp(r[j]).date() if isinstance(r[j], (pd.Timestamp, dt.date)) else r[j]
             for j in at] for r in rows.itertuples(index=False, name=None))
    with StreamingWorkbook(path, banner=render.provisional_banner()) as book:
        book.add_table(sheet, [h for _, h in columns], data, widths=widths)
    return Path(path)


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
            limits: dict[str, int], lang: str = "zh", products: pd.DataFrame | None = None) -> dict:
    t, v = labels.translator(lang), labels.value_translator(lang)
    figs, tables = {}, {}
    ci = f"{CI_LEVEL:.0%}"
    rate_cols = [("fail_rate", t("col.fail_rate"), "pct"), ("fail_ci", t("col.fail_ci", level=ci))]

    # product lines: failure rate with its interval, worst first (issue 10 point 5)
    lines = product_lines(products) if products is not None else pd.DataFrame()
    if len(lines):
        lines["label"] = [" · ".join(x for x in (v(c), p) if isinstance(x, str) and x)
                          for c, p in zip(lines["product_category"], lines["product_name"])]
        lines["fail_ci"] = [_ci_text(lo, hi) for lo, hi in zip(lines["fail_lo"], lines["fail_hi"])]
    tables["products"] = table("tbl-fail-products", [("label", t("col.product_line")), ("tested", t("col.tested"), "int"),
                                                    ("failed", t("col.failed"), "int")] + rate_cols + [
        ("failed_safety", t("col.failed_safety"), "int"), ("failed_label", t("col.failed_label"), "int")],
        lines, limit=TOP_PRODUCTS, note=t("sr.products.note", level=ci))
    title = t("sr.fig.products", n=min(TOP_PRODUCTS, len(lines)), level=ci)
    figs["products"] = render.figure_html(
        figures.failure_rates(lines.head(TOP_PRODUCTS), "label", title, t("axis.fail_rate")) if len(lines)
        else figures.empty_figure(title, t("common.no_data")), "fig-fail-products")
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
        d = with_failure_rates(d)
        d["fail_ci"] = [_ci_text(lo, hi) for lo, hi in zip(d["fail_lo"], d["fail_hi"])]
        c = ([("label", header)] + cols[1:] if header else cols) + rate_cols
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
    batches = failed_list(failed, scope, as_of, lang)
    # the page: nine columns that fit A4 and a phone; the workbook: every column
    list_cols = [("sample_id", t("col.sample_no")), ("sampled_on", t("col.sampled_on"), "date"),
                 ("region", t("col.region")), ("product", t("col.product")), ("brand", t("col.brand")),
                 ("manufacturer_name", t("col.manufacturer")), ("seller_name", t("col.seller")),
                 ("failed_items", t("col.item")), ("failure_kind", t("col.failure_kind")),
                 ("action", t("col.next_step")), ("deadline", t("col.deadline"), "date"),
                 ("days_overdue", t("col.days_overdue"), "int")]
    page_cols = [("sample_id", t("col.sample_no")), ("product", t("col.product_brand")),
                 ("manufacturer_name", t("col.manufacturer")), ("seller_region", t("col.seller_region")),
                 ("items_kind", t("col.item_kind")), ("action", t("col.next_step")),
                 ("deadline", t("col.deadline"), "date"), ("days_overdue", t("col.days_overdue"), "int")]
    shown = batches.copy()
    if len(shown):
        shown["product"] = [f"{p}（{b}）" if isinstance(b, str) and b else p for p, b in zip(shown["product"], shown["brand"])]
        shown["seller_region"] = [f"{s}（{r}）" if isinstance(s, str) and s else r for s, r in zip(shown["seller_name"], shown["region"])]
        shown["items_kind"] = [f"{i}（{k}）" if isinstance(i, str) and i else k for i, k in zip(shown["failed_items"], shown["failure_kind"])]
    else:
        shown = shown.assign(seller_region=[], items_kind=[])
    tables["failed"] = table("tbl-failed-batches", page_cols, shown, caption=t("sr.failed.title"), limit=FAILED_ROWS)
    n_overdue_now = int(batches["action_key"].isin(("correction_open_overdue", "reinspection_open_overdue")).sum())

    tiles = [
        (t("sr.tile.batches"), fmt_int(tot["n"])),
        (t("sr.tile.failed"), fmt_int(tot["failed"])),
        (t("sr.tile.pass_rate"), fmt_pct(tot["passed"] / tested if tested else None)),
        (t("sr.tile.safety"), fmt_int(tot["failed_safety"])),
        (t("sr.tile.label"), fmt_int(tot["failed_label"])),
        (t("sr.tile.overdue"), fmt_int(len(over))),
        (t("sr.tile.overdue_now"), fmt_int(n_overdue_now)),
    ]
    return {"tiles": tiles, "figs": figs, "tables": tables,
            "disposal_note": t("sr.disposal.note", c=limits["correction"], r=limits["reinspection"],
                               as_of=as_of.isoformat()),
            "n_overdue": len(over), "n_failed": len(batches), "failed_rows": batches, "failed_columns": list_cols}


def _ci_text(lo, hi) -> str:
    if lo is None or hi is None or lo != lo or hi != hi:
        return "–"
    return f"{lo * 100:.1f}–{hi * 100:.1f}%"


def build_sampling_report(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                          as_of: dt.date | None = None, generated_at: dt.datetime | None = None) -> Path:
    """Write ``sampling_report.html`` (and plotly.min.js) into ``out_dir``; returns the page path.

    ``as_of``: the day disposal deadlines are judged on (default: the period's last day).
    """
    scope, period = as_scope(scope), parse_period(period)
    as_of = as_of or period.last_day
    limits = order18_limits()
    breakdown, failed = collect(con, scope, period, as_of, limits)
    ctx = prepare(breakdown, failed, scope, period, as_of, limits, lang, products=collect_products(con, scope, period))
    t = labels.translator(lang)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = [(c[0], c[1]) for c in ctx.pop("failed_columns")]
    write_failed_xlsx(ctx.pop("failed_rows"), cols, out_dir / FAILED_XLSX, t("sr.failed.sheet"))
    ctx["failed_xlsx"] = FAILED_XLSX
    return render.render_page(Path(out_dir), SLOT.filename, "sampling_report.html.j2", lang=lang, report_key=SLOT.key,
                              title=t(SLOT.label), scope_label=scope.label(lang), period_label=period.label(lang),
                              generated_at=generated_at, **ctx)
