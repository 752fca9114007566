"""Lock-on analysis of the five key categories (issue 10 point 6): ``key_categories.html``.

The five key areas of 工商消字〔2013〕133号 — 家用电子电器, 服装鞋帽, 装饰装修材料, 交通工具, 有关服务 — as
``reference/data/key_categories.csv`` maps the 12315 and sampling categories onto them
(:mod:`reference.categories`, the same table the indicators and the 12315 analysis use). Per area,
complaints and reports (投诉 + 举报) and commodity sampling side by side: volume and its change on the
same period a year before, online share, the problem types that dominate, sampling batches and the
failure rate with its Wilson 95 % interval and change; then per region and per sub-product (the
12315 sub-category, the sampled product). Services are not sampled: their sampling cells say so.
SQL: sql/reports/key_complaints.sql, key_sampling.sql.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from reference.categories import KEY_AREAS, key_category_of
from reports import figures, labels, render
from reports.periods import Period, parse_period
from reports.queries import run
from reports.render import fmt_int, fmt_pct, table
from reports.scope import Scope, as_scope, registered_unit_map, unit_names

SLOT_KEY, FILENAME = "key_categories", "key_categories.html"
TOP_PROBLEMS = 3
TOP_SUB = 8


def same_period_last_year(period: Period) -> Period:
    return parse_period(f"{int(period.key[:4]) - 1}{period.key[4:]}")


def collect(con, scope: Scope, period: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    prev = same_period_last_year(period)
    w = {"prefix": scope.prefix, "start": period.start, "end": period.end, "prev_start": prev.start,
         "prev_end": prev.end}
    with registered_unit_map(con, scope):
        comp = run(con, "key_complaints", **w)
        samp = run(con, "key_sampling", **w)
    comp["area"] = [key_category_of(c) for c in comp["category"]]
    samp["area"] = [key_category_of(c) for c in samp["product_category"]]
    return comp[comp["area"].notna()].copy(), samp[samp["area"].notna()].copy()


def _change(cur, prev) -> float | None:
    return (cur - prev) / prev if prev else None


def _pct_change_text(v) -> str:
    return "–" if v is None or v != v else f"{v * 100:+.1f}%"


def _pp_text(v) -> str:
    return "–" if v is None or v != v else f"{v * 100:+.1f}"


def _rates(tested: float, failed: float) -> tuple[float | None, str]:
    from index_model.noise import wilson_interval

    if not tested:
        return None, "–"
    lo, hi = wilson_interval([float(failed)], [float(tested)])
    return failed / tested, f"{lo[0] * 100:.1f}–{hi[0] * 100:.1f}%"


def summary_rows(comp: pd.DataFrame, samp: pd.DataFrame, areas, lang: str, group: str | None = None) -> list[dict]:
    """One row per area (or per ``group`` value within the frames): complaints with change and online
    share and top problems; sampling with failure rate, interval and change."""
    v = labels.value_translator(lang)
    t = labels.translator(lang)
    rows = []
    keys = areas if group is None else sorted(set(comp.get(group, pd.Series(dtype=str)).dropna())
                                                | set(samp.get(group, pd.Series(dtype=str)).dropna()))
    for k in keys:
        c = comp[comp["area" if group is None else group] == k]
        s = samp[samp["area" if group is None else group] == k]
        cc, cp = c[c.which == "cur"], c[c.which == "prev"]
        n, n0 = int(cc.n.sum()), int(cp.n.sum())
        online = float(cc[cc.is_online].n.sum()) / n if n else None
        probs = cc.groupby("problem_type").n.sum().sort_values(ascending=False)
        top = t("kc.sep").join(f"{v(p)} {x / n:.0%}" for p, x in probs.head(TOP_PROBLEMS).items()) if n else "–"
        sc, sp = s[s.which == "cur"], s[s.which == "prev"]
        tested, failed = int(sc.tested.sum()), int(sc.failed.sum())
        rate, ci = _rates(tested, failed)
        rate0, _ = _rates(int(sp.tested.sum()), int(sp.failed.sum()))
        rows.append({"key": k, "label": v(k), "complaints": n, "complaints_prev": n0,
                     "change": _pct_change_text(_change(n, n0)), "online": fmt_pct(online), "problems": top,
                     "tested": tested, "failed": failed, "fail_rate": rate, "fail_ci": ci,
                     "fail_change": _pp_text(rate - rate0) if rate is not None and rate0 is not None else "–",
                     "sampled": bool(tested or int(sp.tested.sum()))})
    return rows


def prepare(comp: pd.DataFrame, samp: pd.DataFrame, scope: Scope, period: Period, lang: str = "zh") -> dict:
    t = labels.translator(lang)
    v = labels.value_translator(lang)
    prev = same_period_last_year(period)
    cols = [("label", t("kc.col.area")), ("complaints", t("kc.col.complaints"), "int"),
            ("change", t("kc.col.change", prev=prev.label(lang))), ("online", t("col.online_share")),
            ("problems", t("kc.col.problems", n=TOP_PROBLEMS)), ("tested", t("col.tested"), "int"),
            ("failed", t("col.failed"), "int"), ("fail_rate", t("col.fail_rate"), "pct"),
            ("fail_ci", t("col.fail_ci", level="95%")), ("fail_change", t("kc.col.fail_change"))]
    overview = summary_rows(comp, samp, KEY_AREAS, lang)
    for r in overview:
        if not r["sampled"]:
            r["fail_ci"] = t("kc.not_sampled")
    tables = {"overview": table("tbl-kc-overview", cols, pd.DataFrame(overview), note=t("kc.overview.note"))}
    # side by side chart: complaints (bars) and failure rate (line) per area
    df = pd.DataFrame(overview)
    figs = {"overview": render.figure_html(figures.key_area_side_by_side(
        df, t("kc.fig.overview"), t("kc.col.complaints"), t("col.fail_rate"), v), "fig-kc-overview")}
    # per region
    comp = comp.copy()
    samp = samp.copy()
    units = sorted(set(comp.unit_code) | set(samp.unit_code))
    names = unit_names(scope, units, lang)
    areas = []
    for i, area in enumerate(KEY_AREAS):
        c, s = comp[comp.area == area], samp[samp.area == area]
        by_region = summary_rows(c, s, None, lang, group="unit_code")
        for r in by_region:
            r["label"] = names.get(r["key"], r["key"])
            if not r["sampled"]:
                r["fail_ci"] = t("kc.not_sampled")
        by_region.sort(key=lambda r: -r["complaints"])
        rcols = [("label", t("col.region"))] + cols[1:]
        # sub-products: the 12315 sub-categories (complaints) and the sampled products (sampling)
        c_sub = summary_rows(c.assign(sub=c.category), s.iloc[0:0].assign(sub=[]), None, lang, group="sub")
        c_sub.sort(key=lambda r: (-r["complaints"], r["label"]))
        s_sub = [r for r in summary_rows(c.iloc[0:0].assign(sub=[]), s.assign(sub=s.product_name), None, lang,
                                         group="sub") if r["tested"]]
        s_sub.sort(key=lambda r: (-(r["fail_rate"] or 0), -r["tested"], r["label"]))
        areas.append({"id": f"kc-area-{i + 1}", "label": v(area),
                      "regions": table(f"tbl-kc-regions-{i + 1}", [("label", t("col.region"))] + cols[1:],
                                       pd.DataFrame(by_region)),
                      "subs_c": table(f"tbl-kc-subcat-{i + 1}", [("label", t("kc.col.subcat"))] + cols[1:5],
                                      pd.DataFrame(c_sub)),
                      "subs_s": table(f"tbl-kc-products-{i + 1}", [("label", t("kc.col.product"))] + cols[5:],
                                      pd.DataFrame(s_sub), limit=TOP_SUB) if s_sub else None})
    return {"tables": tables, "figs": figs, "areas": areas,
            "basis": t("kc.basis"), "prev_label": prev.label(lang)}


def build_key_categories(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                         generated_at: dt.datetime | None = None) -> Path:
    """Write ``key_categories.html`` into ``out_dir``; returns the page path."""
    scope, period = as_scope(scope), parse_period(period)
    comp, samp = collect(con, scope, period)
    ctx = prepare(comp, samp, scope, period, lang)
    t = labels.translator(lang)
    return render.render_page(Path(out_dir), FILENAME, "key_categories.html.j2", lang=lang, report_key=SLOT_KEY,
                              title=t("report.key_categories"), scope_label=scope.label(lang),
                              period_label=period.label(lang), generated_at=generated_at, **ctx)
