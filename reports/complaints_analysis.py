"""12315 analysis report (DESIGN §5.4): volumes, mix, five key categories, online share and
platforms, statistically tested surges, money disputed and recovered.

``collect`` runs the SQL (sql/reports/complaints_*.sql); ``prepare`` turns the frames into tables
and figures (pure); ``build_complaints_analysis`` writes ``complaints_analysis.html``.
No personal data: the queries never read complainant columns (not even ``complainant_key``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ingestion.schema import KEY_CATEGORIES, RECORD_TYPES
from reference.categories import key_category_of, key_group_of
from reports import figures, hotspots, labels, render
from reports.periods import Period, add_months, parse_period
from reports.queries import run
from reports.render import fmt_int, fmt_pct, fmt_wan, table
from reports.scope import Scope, as_scope, registered_unit_map, unit_names
from reports.surges import DEFAULT_METHOD, SurgeMethod, binom_sf_udf, detect_surges, months_with_history, surges_from_sql

SLOT = render.SLOTS["complaints_analysis"]
TOP_CATEGORIES = 15
TOP_PLATFORMS = 15
SURGE_ROWS = 50
HOTSPOT_DRAFTS = "complaints_hotspot_drafts.docx"


@dataclass
class ComplaintsData:
    monthly: pd.DataFrame
    mix: pd.DataFrame
    by_unit: pd.DataFrame
    category_monthly: pd.DataFrame  # baseline window included
    respondent_surges: pd.DataFrame  # the respondent family's surges, tested in SQL (attrs: tested, untested_history)
    respondent_monthly: pd.DataFrame  # monthly counts of the respondents that surged, baseline window included
    platforms: pd.DataFrame
    first_month: dt.date | None
    last_month: dt.date | None


def collect(con, scope: Scope, period: Period, method: SurgeMethod = DEFAULT_METHOD) -> ComplaintsData:
    """All SQL for the report (values bound as parameters)."""
    w = {"prefix": scope.prefix, "start": period.start_ts, "end": period.end_ts}
    base_start = dt.datetime.combine(add_months(period.start, -method.baseline_months), dt.time())
    with registered_unit_map(con, scope):
        by_unit = run(con, "complaints_by_unit", **w)
        cat_monthly = run(con, "complaints_category_monthly", prefix=scope.prefix, start=base_start, end=period.end_ts)
    span = run(con, "complaints_data_span", prefix=scope.prefix)
    first = span["first_month"].iloc[0] if len(span) else None
    last = span["last_month"].iloc[0] if len(span) else None
    first = None if first is None or pd.isna(first) else pd.Timestamp(first).date()
    last = None if last is None or pd.isna(last) else pd.Timestamp(last).date()
    # respondents: the whole test in DuckDB (their number grows with the records; issue 12)
    test_months = [m for m in period.months if last is None or m <= last]
    with binom_sf_udf(con):
        rs = run(con, "complaints_respondent_surges", prefix=scope.prefix, start=base_start,
                 test_start=period.start_ts, end=period.end_ts, first=first or base_start.date(),
                 testable=months_with_history(test_months, first, method), baseline_months=method.baseline_months,
                 min_count=method.min_count, min_ratio=method.min_ratio, fdr_q=method.fdr_q)
    respondent_surges = surges_from_sql(rs, ["respondent_key"], method)
    history = [{"respondent_key": k, "month": h["month"], "n": h["n"]}
               for k, hs in zip(respondent_surges["respondent_key"], respondent_surges["history"]) for h in hs]
    return ComplaintsData(
        monthly=run(con, "complaints_monthly", **w),
        mix=run(con, "complaints_mix", **w),
        by_unit=by_unit,
        category_monthly=cat_monthly,
        respondent_surges=respondent_surges.drop(columns=["history"]),
        respondent_monthly=pd.DataFrame(history, columns=["respondent_key", "month", "n"]),
        platforms=run(con, "complaints_platforms", top=TOP_PLATFORMS, **w),
        first_month=first,
        last_month=last,
    )


def _share(n: pd.Series, total) -> pd.Series:
    return n / total if total else pd.Series([float("nan")] * len(n), index=n.index)


def _month_in(df: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    m = pd.to_datetime(df["month"])
    return df[(m >= pd.Timestamp(start)) & (m < pd.Timestamp(end))]


def surge_families(data: ComplaintsData, scope: Scope, period: Period, lang: str,
                   method: SurgeMethod = DEFAULT_METHOD) -> list[dict]:
    """Run the surge test on the three families; returns result frames with display columns."""
    v = labels.value_translator(lang)
    test_months = [m for m in period.months if data.last_month is None or m <= data.last_month]
    cm = data.category_monthly
    fams = []
    cat = cm.groupby(["category", "month"], dropna=False, as_index=False)["n"].sum() if len(cm) else cm
    res = detect_surges(cat, ["category"], test_months, observed_from=data.first_month, method=method)
    res["series"] = [v(c) for c in res["category"]]
    fams.append(("category", res))
    res = detect_surges(cm, ["unit_code", "category"], test_months, observed_from=data.first_month, method=method)
    names = unit_names(scope, res["unit_code"].unique(), lang)
    res["series"] = [f"{names[u]} · {v(c)}" for u, c in zip(res["unit_code"], res["category"])]
    fams.append(("unit_category", res))
    # respondents: tested in SQL by collect (surges only; the name and USCC of the respondent's latest month)
    res = data.respondent_surges.copy()
    res.attrs.update(data.respondent_surges.attrs)
    res["series"] = res["respondent_name"]
    res["uscc"] = res["respondent_uscc"]
    fams.append(("respondent", res))
    return [{"key": k, "result": r} for k, r in fams]


def prepare(data: ComplaintsData, scope: Scope, period: Period, lang: str = "zh",
            method: SurgeMethod = DEFAULT_METHOD) -> dict:
    """Tables, figures and texts for the template (pure)."""
    t, v = labels.translator(lang), labels.value_translator(lang)
    figs, tables = {}, {}
    monthly = _month_in(data.monthly, period.start, period.end)
    total = int(monthly["n"].sum()) if len(monthly) else 0
    by_type = monthly.groupby("record_type")["n"].sum() if len(monthly) else pd.Series(dtype=int)
    n_online = int(monthly["n_online"].sum()) if len(monthly) else 0
    disputed = float(monthly["amount_disputed"].sum()) if len(monthly) else 0.0
    recovered = float(monthly["amount_recovered"].sum()) if len(monthly) else 0.0

    # volumes over time
    figs["volume"] = render.figure_html(
        figures.stacked_monthly(monthly, "record_type", t("ca.fig.volume"), t("axis.records"), v, RECORD_TYPES)
        if total else figures.empty_figure(t("ca.fig.volume"), t("common.no_data")), "fig-volume-monthly")

    # mix
    mix_cols = {
        "record_type": [("value_label", t("ca.fig.record_type")), ("n", t("col.n"), "int"), ("share", t("col.share"), "pct")],
        "channel": [("value_label", t("ca.fig.channel")), ("n", t("col.n"), "int"), ("share", t("col.share"), "pct"),
                    ("n_online", t("col.n_online"), "int")],
        "object_type": [("value_label", t("ca.fig.object_type")), ("n", t("col.n"), "int"), ("share", t("col.share"), "pct")],
        "category": [("parent_label", t("col.object_type")), ("value_label", t("col.category")), ("n", t("col.n"), "int"),
                     ("share", t("col.share"), "pct"), ("amount_disputed", t("col.amount_disputed_wan"), "money"),
                     ("amount_recovered", t("col.amount_recovered_wan"), "money")],
        "problem_type": [("value_label", t("ca.fig.problem_type")), ("n", t("col.n"), "int"),
                         ("share", t("col.share"), "pct")],
    }
    for dim, cols in mix_cols.items():
        d = data.mix[data.mix["dimension"] == dim].sort_values(["n", "value"], ascending=[False, True]).copy()
        d["value_label"] = [v(x) for x in d["value"]]
        d["parent_label"] = [v(x) if x is not None and x == x else "" for x in d["parent"]]
        d["share"] = _share(d["n"], total)
        tables[f"mix_{dim}"] = table(f"tbl-mix-{dim.replace('_', '-')}", cols, d)
        if dim != "object_type":
            title = t("ca.fig.category", n=TOP_CATEGORIES) if dim == "category" else t(f"ca.fig.{dim}")
            top = d.head(TOP_CATEGORIES)
            fig = (figures.hbar(top, "value", "n", title, t("axis.records"), v) if len(top)
                   else figures.empty_figure(title, t("common.no_data")))
            figs[dim] = render.figure_html(fig, f"fig-mix-{dim.replace('_', '-')}")

    # by unit
    bu = data.by_unit.copy()
    names = unit_names(scope, bu["unit_code"], lang)
    bu["unit_name"] = [names[c] for c in bu["unit_code"]]
    bu["online_share"] = (bu["n_online"] / bu["n"]).where(bu["n"] > 0)
    bu["recovery_ratio"] = (bu["amount_recovered"] / bu["amount_disputed"]).where(bu["amount_disputed"] > 0)
    tables["units"] = table("tbl-units", [
        ("unit_name", t("col.unit")), ("n", t("col.n"), "int"),
        ("n_complaints", t("col.n_complaints"), "int"), ("n_reports", t("col.n_reports"), "int"),
        ("n_consultations", t("col.n_consultations"), "int"), ("online_share", t("col.online_share"), "pct"),
        ("amount_recovered", t("col.amount_recovered_wan"), "money"), ("recovery_ratio", t("col.recovery_ratio"), "pct")],
        bu)
    figs["units"] = render.figure_html(
        figures.hbar(bu, "unit_name", "n", t("ca.fig.units"), t("axis.records"), lambda x: x) if len(bu)
        else figures.empty_figure(t("ca.fig.units"), t("common.no_data")), "fig-units")

    # five key categories, as 工商消字〔2013〕133号 defines them (one mapping table: reference.categories):
    # 家用电子电器 = household appliances + communication products and computers; 有关服务 = the service side
    cm = data.category_monthly
    ckey = cm.assign(group=cm["category"].map(key_group_of), category=cm["category"].map(key_category_of)) if len(cm) else cm
    key_m = _month_in(ckey[ckey["category"].isin(KEY_CATEGORIES)], period.start, period.end) if len(cm) else cm
    groups_m = key_m
    key_m = key_m.groupby(["category", "month"], as_index=False)["n"].sum() if len(key_m) else key_m
    figs["key"] = render.figure_html(
        figures.lines_monthly(key_m, "category", t("ca.fig.key"), t("axis.records"), v, KEY_CATEGORIES) if len(key_m)
        else figures.empty_figure(t("ca.fig.key"), t("common.no_data")), "fig-key-categories")
    n_cr = int(_month_in(cm, period.start, period.end)["n"].sum()) if len(cm) else 0
    prev_start = add_months(period.start, -len(period.months))
    prev_covered = data.first_month is not None and data.first_month <= prev_start
    rows = []
    for c in KEY_CATEGORIES:
        cur = int(key_m.loc[key_m["category"] == c, "n"].sum()) if len(key_m) else 0
        prev = int(_month_in(ckey[ckey["category"] == c], prev_start, period.start)["n"].sum()) if len(cm) else 0
        rows.append({"value_label": v(c), "n": cur, "share": cur / n_cr if n_cr else float("nan"),
                     "prev_n": prev if prev_covered else float("nan"),
                     "change": (cur - prev) / prev if prev_covered and prev else float("nan")})
        # the area's groups (家用电器 / 通讯器材及电脑; 有关服务 by service type), largest first
        gm = groups_m[groups_m["category"] == c].groupby("group")["n"].sum() if len(groups_m) else pd.Series(dtype=float)
        if len(gm) > 1:
            for g, n_g in gm.sort_values(ascending=False, kind="stable").items():
                prev_g = (int(_month_in(ckey[(ckey["category"] == c) & (ckey["group"] == g)], prev_start,
                                        period.start)["n"].sum()) if len(cm) else 0)
                rows.append({"value_label": "　└ " + v(g), "n": int(n_g), "share": n_g / n_cr if n_cr else float("nan"),
                             "prev_n": prev_g if prev_covered else float("nan"),
                             "change": (n_g - prev_g) / prev_g if prev_covered and prev_g else float("nan")})
    tables["key"] = table("tbl-key-categories", [
        ("value_label", t("col.category")), ("n", t("col.n"), "int"), ("share", t("col.share"), "pct"),
        ("prev_n", t("col.prev_n"), "int"), ("change", t("col.change"), "pct")], pd.DataFrame(rows),
        note=t("ca.key.note"))

    # online and platforms
    om = monthly.groupby("month", as_index=False)[["n", "n_online"]].sum() if len(monthly) else monthly
    figs["online"] = render.figure_html(
        figures.online_share(om, t("ca.fig.online"), t("axis.records"), t("axis.share"), t) if len(om)
        else figures.empty_figure(t("ca.fig.online"), t("common.no_data")), "fig-online-share")
    pl = data.platforms.copy()
    pl["platform_label"] = [x if isinstance(x, str) and x else t("common.not_given") for x in pl["platform_name"]]
    pl["share"] = _share(pl["n"], n_online)
    pl["recovery_ratio"] = (pl["amount_recovered"] / pl["amount_disputed"]).where(pl["amount_disputed"] > 0)
    tables["platforms"] = table("tbl-platforms", [
        ("platform_label", t("col.platform")), ("n", t("col.n"), "int"), ("share", t("col.share"), "pct"),
        ("n_complaints", t("col.n_complaints"), "int"), ("amount_disputed", t("col.amount_disputed_wan"), "money"),
        ("amount_recovered", t("col.amount_recovered_wan"), "money"), ("recovery_ratio", t("col.recovery_ratio"), "pct")],
        pl, note=t("ca.online.note"))
    title = t("ca.fig.platforms", n=TOP_PLATFORMS)
    figs["platforms"] = render.figure_html(
        figures.hbar(pl, "platform_label", "n", title, t("axis.records"), lambda x: x) if len(pl)
        else figures.empty_figure(title, t("common.no_data")), "fig-platforms")

    # surges
    fams = surge_families(data, scope, period, lang, method)
    surge_ctx, n_surges, surge_lines = [], 0, []
    for fam in fams:
        r = fam["result"]
        s = r[r["surge"]] if len(r) else r
        n_surges += len(s)
        cols = [("series", t("col.respondent") if fam["key"] == "respondent" else t("col.series"))]
        if fam["key"] == "respondent":
            cols.append(("uscc", t("col.uscc")))
        cols += [("month_label", t("col.month")), ("count", t("col.count"), "int"), ("expected", t("col.expected"), "num"),
                 ("baseline_months", t("col.baseline_months"), "int"), ("ratio", t("col.ratio"), "num"),
                 ("p_value", t("col.p_value"), "pvalue"), ("q_value", t("col.q_value"), "pvalue")]
        s = s.assign(month_label=[pd.Timestamp(m).strftime("%Y-%m") for m in s["month"]])
        surge_ctx.append({
            "key": fam["key"], "title": t(f"ca.surges.family.{fam['key']}"),
            "summary": t("ca.surges.tested", tested=r.attrs.get("tested", len(r)), found=len(s),
                         untested=r.attrs.get("untested_history", 0)),
            "table": table(f"tbl-surges-{fam['key'].replace('_', '-')}", cols, s, limit=SURGE_ROWS),
        })
        surge_lines.append((fam["key"], s))
    figs["surges"] = render.figure_html(_surge_figure(data, surge_lines, scope, period, lang, method),
                                        "fig-surges", height=460)

    # money
    mm = monthly.groupby("month", as_index=False)[["amount_disputed", "amount_recovered"]].sum() if len(monthly) else monthly
    figs["money"] = render.figure_html(
        figures.money_monthly(mm, t("ca.fig.money"), t) if len(mm)
        else figures.empty_figure(t("ca.fig.money"), t("common.no_data")), "fig-money-monthly")
    cat = data.mix[data.mix["dimension"] == "category"].copy()
    cat["value_label"] = [v(x) for x in cat["value"]]
    cat["recovery_ratio"] = (cat["amount_recovered"] / cat["amount_disputed"]).where(cat["amount_disputed"] > 0)
    cat = cat.sort_values(["amount_recovered", "n"], ascending=False, na_position="last")
    tables["money"] = table("tbl-money-category", [
        ("value_label", t("col.category")), ("n", t("col.n"), "int"),
        ("amount_disputed", t("col.amount_disputed_wan"), "money"), ("amount_recovered", t("col.amount_recovered_wan"), "money"),
        ("recovery_ratio", t("col.recovery_ratio"), "pct")], cat, limit=TOP_CATEGORIES, note=t("ca.money.note"))

    tiles = [
        (t("ca.tile.records"), fmt_int(total)),
        (t("ca.tile.complaints"), fmt_int(by_type.get("投诉", 0))),
        (t("ca.tile.reports"), fmt_int(by_type.get("举报", 0))),
        (t("ca.tile.consultations"), fmt_int(by_type.get("咨询", 0))),
        (t("ca.tile.online_share"), fmt_pct(n_online / total if total else None)),
        (t("ca.tile.recovered"), fmt_wan(recovered)),
        (t("ca.tile.recovery_ratio"), fmt_pct(recovered / disputed if disputed else None)),
        (t("ca.tile.surges"), fmt_int(n_surges)),
    ]
    surge_method = t("ca.surges.method", k=method.baseline_months, kmin=method.min_baseline_months, q=method.fdr_q,
                     min_count=method.min_count, ratio=f"{method.min_ratio:g}")
    return {"tiles": tiles, "figs": figs, "tables": tables, "surge_families": surge_ctx, "surge_method": surge_method,
            "surges": {k: r for k, r in ((f["key"], f["result"]) for f in fams)}}


def _surge_figure(data: ComplaintsData, surge_lines, scope: Scope, period: Period, lang: str,
                  method: SurgeMethod, max_series: int = 8):
    """Monthly counts (baseline + period) of the strongest surges, surge months marked."""
    t = labels.translator(lang)
    start = add_months(period.start, -method.baseline_months)
    cm, rm = data.category_monthly, data.respondent_monthly
    series, marks = [], []
    picked = pd.concat([s.assign(_fam=k) for k, s in surge_lines if len(s)], ignore_index=True) if any(
        len(s) for _, s in surge_lines) else pd.DataFrame()
    if picked.empty:
        return figures.empty_figure(t("ca.fig.surges"), t("ca.surges.none"))
    picked = picked.sort_values("p_value").drop_duplicates("series").head(max_series)
    for row in picked.to_dict("records"):
        if row["_fam"] == "category":
            d = cm[cm["category"] == row["category"]]
        elif row["_fam"] == "unit_category":
            d = cm[(cm["unit_code"] == row["unit_code"]) & (cm["category"] == row["category"])]
        else:
            d = rm[rm["respondent_key"] == row["respondent_key"]]
        d = d.groupby("month", as_index=False)["n"].sum()
        months = pd.DataFrame({"month": [add_months(start, i) for i in range(method.baseline_months + len(period.months))]})
        d = months.merge(d.assign(month=[pd.Timestamp(m).date() for m in d["month"]]), on="month", how="left").fillna({"n": 0})
        series.append(d.assign(series=row["series"]))
        marks.append({"month": row["month"], "n": row["count"], "series": row["series"]})
    df = pd.concat(series, ignore_index=True)
    return figures.lines_monthly(df, "series", t("ca.fig.surges"), t("axis.records"), lambda x: x,
                                 markers=pd.DataFrame(marks))


def build_complaints_analysis(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                              method: SurgeMethod = DEFAULT_METHOD, generated_at: dt.datetime | None = None) -> Path:
    """Write ``complaints_analysis.html`` (and plotly.min.js) into ``out_dir``; returns the page path."""
    scope, period = as_scope(scope), parse_period(period)
    data = collect(con, scope, period, method)
    ctx = prepare(data, scope, period, lang, method)
    ctx.pop("surges")
    t = labels.translator(lang)
    # hotspot terms of the free text (issue 10 point 7); the drafts also as an editable Word file
    ctx["hotspots"] = hotspots.for_report(con, scope, period, data.last_month, lang)
    docx = hotspots.write_drafts_docx(Path(out_dir) / HOTSPOT_DRAFTS, ctx["hotspots"], lang, t("hs.drafts"))
    ctx["hotspots"]["drafts_file"] = docx.name if docx else None
    return render.render_page(Path(out_dir), SLOT.filename, "complaints_analysis.html.j2", lang=lang,
                              report_key=SLOT.key, title=t(SLOT.label), scope_label=scope.label(lang),
                              period_label=period.label(lang), generated_at=generated_at, **ctx)
