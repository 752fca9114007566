"""Policymaker dashboard (DESIGN §5.3): ``dashboard.html`` — ranking, dimension heatmap and radar,
hierarchy sunburst, trends over every stored period, rank uncertainty.

One HTML page; its only other file is the folder's shared ``plotly.min.js`` (loaded relatively,
never from a CDN). "Self-contained" therefore means the output folder: the page says so in its
footer, and the folder is what is handed over. Sunburst segments and ranking bars open the
drill-down pages when ``drilldown/`` has been built in the same folder (``build_reports`` builds it
first); links to the index report and the drill-down likewise appear only when they exist.

Trends: composite (and dimension) scores and ranks of every period of the same kind (years, halves,
quarters or months) stored in ``mart.index_scores`` for the scope (sql/reports/index_history.sql)
**with the spec version of the report period** (one scale). Under the default spec's fixed goalposts
scores compare across periods; under min-max specs (default_v1) only the ranks do; the page says so.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports import labels, render
from reports.figures import PALETTE, TEMPLATE, _layout
from reports.index_report import (
    check_data,
    IndexData,
    _narrative_context,
    click_figure_html,
    fig_dimension_heatmap,
    fig_dimension_radar,
    fig_hierarchy_sunburst,
    fig_rank_uncertainty,
    fig_ranking_bars,
    fmt_interval,
    load_index_data,
    present,
    spec_display,
    sunburst_colour_mean,
)
from reports.maps import map_context
from reports.periods import Period, parse_period
from reports.queries import run
from reports.render import fmt_num, plot_text
from reports.scope import Scope

SLOT = render.SLOTS["dashboard"]


def history(con, d: IndexData) -> pd.DataFrame:
    """Stored level-0/1 rows of every period of the same kind as ``d.period``, with a period order."""
    h = run(con, "index_history", scope=d.scope.key)
    if h.empty:
        return h
    h["region_code"] = h["region_code"].astype(str)
    kinds, starts = {}, {}
    for p in h["period"].unique():
        try:
            pp = parse_period(p)
        except ValueError:
            continue
        kinds[p], starts[p] = pp.kind, pp.start
    h = h[h["period"].map(kinds) == d.period.kind].copy()
    if "spec_version" in h:  # one scale: only periods scored with the report period's spec version
        h = h[h["spec_version"] == d.spec.spec_version]
    h["start"] = h["period"].map(starts)
    h = h[h["start"] <= d.period.start]  # nothing after the report period
    return h.sort_values(["start", "node_id", "rank"]).reset_index(drop=True)


def fig_trends(d: IndexData, hist: pd.DataFrame) -> go.Figure:
    """Composite score (left) and rank (right, 1 on top) per region across periods."""
    t = labels.translator(d.lang)
    top = hist[hist.node_id == d.root]
    periods = list(dict.fromkeys(top.sort_values("start")["period"]))
    xs = [plot_text(parse_period(p).label(d.lang)) for p in periods]
    # the panels' titles name their axes: axis titles as well ran into the left panel at 390 px
    fig = make_subplots(rows=1, cols=2, subplot_titles=[plot_text(t("db.fig.trend_score")), plot_text(t("db.fig.trend_rank"))],
                        horizontal_spacing=0.14)  # room for the periods under both panels at 390 px
    fig.update_annotations(yshift=8)  # the panels' titles clear of the rank axis' top label
    fig.update_layout(template=TEMPLATE)
    for i, code in enumerate(d.regions):
        r = top[top.region_code == code].set_index("period").reindex(periods)
        name = plot_text(d.names.get(code, code))
        colour = PALETTE[i % len(PALETTE)]
        fig.add_scatter(x=xs, y=r["score"], mode="lines+markers", name=name, legendgroup=code,
                        line={"color": colour}, row=1, col=1,
                        hovertemplate="%{x}: %{y:.2f}<extra>" + name + "</extra>")
        fig.add_scatter(x=xs, y=r["rank"], mode="lines+markers", name=name, legendgroup=code, showlegend=False,
                        line={"color": colour}, row=1, col=2, hovertemplate="%{x}: %{y}<extra>" + name + "</extra>")
    n = max(d.n_ranked(d.root), 1)
    fig.update_yaxes(range=[0, 105], row=1, col=1)
    fig.update_yaxes(autorange=False, range=[n + 0.5, 0.5], dtick=1, row=1, col=2)
    fig.update_xaxes(type="category")
    _layout(fig, t("db.fig.trends", n=len(periods)), height=560)
    # the regions under the panels, across: beside them, 13 names took half of a phone's width and squeezed
    # both panels and their titles into each other (390 px screenshot)
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"})
    return fig


def fig_dimension_trends(d: IndexData, hist: pd.DataFrame) -> go.Figure:
    """Scope mean of each dimension across periods."""
    t = labels.translator(d.lang)
    dims = hist[hist.node_id.isin(d.dimensions)]
    periods = list(dict.fromkeys(hist.sort_values("start")["period"]))
    xs = [plot_text(parse_period(p).label(d.lang)) for p in periods]
    fig = go.Figure(layout={"template": TEMPLATE})
    for i, n in enumerate(d.dimensions):
        m = dims[dims.node_id == n].groupby("period")["score"].mean().reindex(periods)
        fig.add_scatter(x=xs, y=m, mode="lines+markers", name=plot_text(d.label(n)), line={"color": PALETTE[i % 10]})
    fig.update_yaxes(title_text=plot_text(t("ir.fig.score_axis")), range=[0, 100])
    fig.update_xaxes(type="category")
    return _layout(fig, t("db.fig.dimension_trends"), height=380)


def build_dashboard(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *, spec=None,
                    generated_at: dt.datetime | None = None, data: IndexData | None = None, links=None,
                    narrative=None) -> Path:
    """Write ``dashboard.html`` into ``out_dir`` (plotly.min.js shared with the folder); returns its path.
    ``links``: slot keys built together (else the index report / drill-down are linked when present)."""
    from reports import drilldown

    d = check_data(data, scope, period, lang) if data else load_index_data(con, scope, period, lang, spec=spec)
    out_dir = Path(out_dir)
    t = labels.translator(lang)
    has_drill = present(out_dir, "drilldown", links)
    has_report = present(out_dir, "index_report", links)
    href_region = (lambda c: f"{drilldown.DIR}/{drilldown.region_page(c)}") if has_drill else None
    href_node = (lambda n: f"{drilldown.DIR}/{drilldown.node_page(n)}" if n != d.root
                 else render.SLOTS["drilldown"].filename) if has_drill else None
    hist = history(con, d)
    top = d.node(d.root)
    best, worst = (d.regions[0], d.regions[-1]) if d.regions else (None, None)
    tiles = [
        (t("ir.tile.regions"), str(d.n_ranked(d.root))),
        (t("db.tile.mean"), fmt_num(top["score"].mean(), 1)),
        (t("ir.tile.best"), f"{d.names.get(best, best)} {fmt_num(top.at[best, 'score'], 1)}" if best else "–"),
        (t("db.tile.worst"), f"{d.names.get(worst, worst)} {fmt_num(top.at[worst, 'score'], 1)}" if worst else "–"),
        (t("db.tile.widest"), _widest(d, top)),
        (t("ir.tile.spec"), spec_display(d.spec, lang)),
    ]
    ranking = fig_ranking_bars(d, href_region)
    sun = fig_hierarchy_sunburst(d, sunburst_colour_mean(d), href_node, t("dd.fig.sunburst"))
    n_periods = hist["period"].nunique() if not hist.empty else 0
    figs = {
        "ranking": click_figure_html(ranking, "fig-ranking") if href_region else render.figure_html(ranking, "fig-ranking"),
        "heatmap": render.figure_html(fig_dimension_heatmap(d), "fig-dimension-heatmap"),
        "radar": render.figure_html(fig_dimension_radar(d, d.regions[:3] + d.regions[-1:] if len(d.regions) > 3 else d.regions),
                                    "fig-dimension-radar"),
        "sunburst": (click_figure_html(sun, "fig-hierarchy-sunburst", event="plotly_sunburstclick") if href_node
                     else render.figure_html(sun, "fig-hierarchy-sunburst")),
        "trends": render.figure_html(fig_trends(d, hist), "fig-trends") if n_periods else None,
        "dimension_trends": render.figure_html(fig_dimension_trends(d, hist), "fig-dimension-trends") if n_periods else None,
        "uncertainty": render.figure_html(fig_rank_uncertainty(d), "fig-rank-uncertainty"),
    }
    return render.render_page(
        out_dir, SLOT.filename, "dashboard.html.j2", lang=lang, report_key=SLOT.key, title=t(SLOT.label),
        scope_label=d.scope.label(lang), period_label=d.period.label(lang), generated_at=generated_at,
        tiles=tiles, figs=figs, n_periods=n_periods, notes=d.notes,
        report_href=render.SLOTS["index_report"].filename if has_report else "",
        xlsx_href="index_report.xlsx" if has_report else "",
        drill_href=render.SLOTS["drilldown"].filename if has_drill else "",
        self_reported=[d.label(i.id) for i in d.spec.indicators if getattr(i, "self_reported", False)],
        **map_context(d, href_region),
        **_narrative_context(narrative, out_dir, links),
    )


def _widest(d: IndexData, top: pd.DataFrame) -> str:
    """The region whose Monte-Carlo rank interval is widest (least certain rank)."""
    w = (top["rank_high"] - top["rank_low"]).dropna()
    if w.empty:
        return "–"
    c = w.idxmax()
    return f"{d.names.get(c, c)} {fmt_interval(top.at[c, 'rank_low'], top.at[c, 'rank_high'])}"

