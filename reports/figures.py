"""Plotly figures for the reports — pure functions of DataFrames (no SQL, no files).

Every string that comes from the data (names, categories, platforms, items) passes through
:func:`reports.render.plot_text` before it goes into a figure; titles and axis labels come from
:mod:`reports.labels`. Colours: green = meets target / passed, red = misses target / failed.
"""
from __future__ import annotations

from typing import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go

from reports.render import plot_text

GREEN, RED, GREY, BLUE = "#2e7d32", "#c62828", "#9e9e9e", "#1f77b4"
STATUS_COLOURS = {"green": GREEN, "red": RED, "none": GREY, "info": BLUE}
FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Source Han Sans SC, Helvetica, Arial, sans-serif"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]

T = Callable[[str], str]

# A small template instead of "plotly_white": the full built-in templates are deep-copied into
# every figure (≈0.1 s and ≈7 KB of JSON each).
_AXIS = {"gridcolor": "#e6e9ed", "zerolinecolor": "#cfd6dd", "linecolor": "#cfd6dd", "automargin": True}
TEMPLATE = {"layout": {"paper_bgcolor": "white", "plot_bgcolor": "white", "colorway": PALETTE,
                       "xaxis": _AXIS, "yaxis": _AXIS, "hoverlabel": {"align": "left"}}}


def _fig(*data) -> go.Figure:
    """A figure with our small template from the start (skips deep-copying plotly's default template)."""
    return go.Figure(data=list(data) or None, layout={"template": TEMPLATE})  # noqa


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    fig.update_layout(title={"text": plot_text(title), "x": 0.01},
                      font={"family": FONT, "size": 13}, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                      legend={"orientation": "h", "y": -0.15}, **kw)
    return fig


def _months(s) -> list[str]:
    return [pd.Timestamp(m).strftime("%Y-%m") for m in s]


def empty_figure(title: str, message: str) -> go.Figure:
    fig = _fig()
    fig.add_annotation(text=plot_text(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title)


def stacked_monthly(df: pd.DataFrame, series_col: str, title: str, y_label: str, v: T,
                    order: Sequence[str] = ()) -> go.Figure:
    """Stacked bars per month: ``month``, ``series_col``, ``n``."""
    fig = _fig()
    names = list(order) + sorted(set(df[series_col].dropna()) - set(order))
    for i, name in enumerate(names):
        d = df[df[series_col] == name].sort_values("month")
        if d.empty:
            continue
        fig.add_bar(x=_months(d["month"]), y=d["n"], name=plot_text(v(name)), marker_color=PALETTE[i % 10])
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=plot_text(y_label))
    return _layout(fig, title)


def lines_monthly(df: pd.DataFrame, series_col: str, title: str, y_label: str, v: T,
                  order: Sequence[str] = (), markers: pd.DataFrame | None = None) -> go.Figure:
    """One line per series: ``month``, ``series_col``, ``n``; optional ``markers`` (same columns) drawn as red ◆."""
    fig = _fig()
    names = list(order) + sorted(set(df[series_col].dropna()) - set(order))
    for i, name in enumerate(names):
        d = df[df[series_col] == name].sort_values("month")
        fig.add_scatter(x=_months(d["month"]), y=d["n"], mode="lines+markers", name=plot_text(v(name)),
                        line={"color": PALETTE[i % 10]})
    if markers is not None and not markers.empty:
        fig.add_scatter(x=_months(markers["month"]), y=markers["n"], mode="markers", name="▲",
                        marker={"symbol": "diamond", "size": 12, "color": RED}, showlegend=False,
                        hovertext=[plot_text(v(x)) for x in markers[series_col]])
    fig.update_yaxes(title_text=plot_text(y_label), rangemode="tozero")
    return _layout(fig, title)


def hbar(df: pd.DataFrame, label_col: str, value_col: str, title: str, x_label: str, v: T,
         colour: str = BLUE, text_col: str | None = None, pct: bool = False, colours: Sequence[str] | None = None,
         target: float | None = None, target_label: str = "") -> go.Figure:
    """Horizontal bars, first row on top."""
    d = df.iloc[::-1]
    labels = [plot_text(v(x)) for x in d[label_col]]
    text = [plot_text(x) for x in d[text_col]] if text_col else None
    fig = _fig(go.Bar(y=labels, x=d[value_col], orientation="h", text=text, textposition="auto",
                           marker_color=list(colours)[::-1] if colours is not None else colour))
    if target is not None:
        fig.add_vline(x=target, line_dash="dash", line_color="#333",
                      annotation_text=plot_text(target_label), annotation_position="top")
    fig.update_xaxes(title_text=plot_text(x_label), tickformat=".0%" if pct else None)
    fig.update_yaxes(type="category", automargin=True)
    height = max(300, 60 + 24 * len(d))
    return _layout(fig, title, height=height)


def online_share(monthly: pd.DataFrame, title: str, y_label: str, y2_label: str, t: T) -> go.Figure:
    """Bars: online records per month; line (right axis): online share. Columns month, n, n_online."""
    d = monthly.sort_values("month")
    share = (d["n_online"] / d["n"]).where(d["n"] > 0)
    fig = _fig()
    fig.add_bar(x=_months(d["month"]), y=d["n_online"], name=plot_text(t("col.n_online")), marker_color=BLUE)
    fig.add_scatter(x=_months(d["month"]), y=share, name=plot_text(t("col.online_share")), yaxis="y2",
                    mode="lines+markers", line={"color": RED})
    fig.update_layout(yaxis={"title": {"text": plot_text(y_label)}},
                      yaxis2={"title": {"text": plot_text(y2_label)}, "overlaying": "y", "side": "right",
                              "tickformat": ".0%", "rangemode": "tozero"})
    return _layout(fig, title)


def money_monthly(monthly: pd.DataFrame, title: str, t: T) -> go.Figure:
    d = monthly.sort_values("month")
    fig = _fig()
    fig.add_bar(x=_months(d["month"]), y=d["amount_disputed"], name=plot_text(t("col.amount_disputed")),
                marker_color="#90a4ae")
    fig.add_bar(x=_months(d["month"]), y=d["amount_recovered"], name=plot_text(t("col.amount_recovered")),
                marker_color=GREEN)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=plot_text(t("axis.yuan")))
    return _layout(fig, title)


def kpi_bars(sc: pd.DataFrame, title: str, target: float | None, target_label: str, t: T, pct: bool = True) -> go.Figure:
    """One KPI across units: ``unit_name``, ``rate``, ``numerator``, ``denominator``, ``status``.
    ``target`` None: no target line (a KPI shown without one); ``pct`` False: a per-10k figure."""
    d = sc.sort_values("rate", ascending=False, na_position="last")
    text = [f"{int(n):,}/{int(m):,}" for n, m in zip(d["numerator"], d["denominator"])]
    return hbar(d.assign(_text=text), "unit_name", "rate", title, t("axis.rate"), lambda x: x, text_col="_text",
                pct=pct, colours=[STATUS_COLOURS[s] for s in d["status"]], target=target, target_label=target_label)


def pass_rates(df: pd.DataFrame, label_col: str, title: str, t: T, v: T) -> go.Figure:
    """Pass rate per group (``label_col``, ``pass_rate``, ``passed``, ``tested``), lowest first."""
    d = df.sort_values("pass_rate", na_position="last")
    text = [f"{int(p):,}/{int(n):,}" for p, n in zip(d["passed"], d["tested"])]
    colours = [GREEN if r >= 0.95 else ("#f9a825" if r >= 0.9 else RED) if r == r else GREY for r in d["pass_rate"]]
    return hbar(d.assign(_text=text), label_col, "pass_rate", title, t("axis.pass_rate"), v, text_col="_text",
                pct=True, colours=colours)


def status_stack(df: pd.DataFrame, title: str, status_label: T, x_label: str, order: Sequence[str],
                 colours: dict) -> go.Figure:
    """Stacked horizontal bars: rows = ``step`` (display text), segments = ``status`` with ``n``."""
    fig = _fig()
    steps = list(dict.fromkeys(df["step"]))
    for st in order:
        d = df[df["status"] == st].set_index("step").reindex(steps)
        fig.add_bar(y=[plot_text(s) for s in steps], x=d["n"].fillna(0), orientation="h",
                    name=plot_text(status_label(st)), marker_color=colours.get(st, GREY))
    fig.update_xaxes(title_text=plot_text(x_label))
    _layout(fig, title, barmode="stack", height=300)
    # the statuses above the bars: under them (the shared y = -0.15) they sat on the axis title of so short a chart
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, margin={"t": 80})
    return fig


def failure_rates(df: pd.DataFrame, label_col: str, title: str, x_label: str) -> go.Figure:
    """Failure rate per group with its interval (``fail_rate``, ``fail_lo``, ``fail_hi``, ``failed``,
    ``tested``), first row on top; the bar text is "failed/tested"."""
    d = df.iloc[::-1]
    ys = [plot_text(x) for x in d[label_col]]
    text = [f"{int(f):,}/{int(n):,}" for f, n in zip(d["failed"], d["tested"])]
    fig = _fig(go.Bar(y=ys, x=d["fail_rate"], orientation="h", text=text, textposition="auto", marker_color=RED,
                      error_x={"type": "data", "symmetric": False, "array": (d["fail_hi"] - d["fail_rate"]).tolist(),
                               "arrayminus": (d["fail_rate"] - d["fail_lo"]).tolist(), "color": "#555", "thickness": 1},
                      customdata=list(zip(d["fail_lo"], d["fail_hi"])),
                      hovertemplate="%{y}: %{x:.1%} (%{customdata[0]:.1%}–%{customdata[1]:.1%}), %{text}<extra></extra>"))
    fig.update_xaxes(title_text=plot_text(x_label), tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, title, height=max(300, 60 + 24 * len(d)))


def key_area_side_by_side(df: pd.DataFrame, title: str, left_label: str, right_label: str, v: T) -> go.Figure:
    """Per key area: complaints and reports (bars, left axis) and the sampling failure rate (markers,
    right axis; none for services). Columns key, complaints, fail_rate."""
    xs = [plot_text(v(k)) for k in df["key"]]
    fig = _fig()
    fig.add_bar(x=xs, y=df["complaints"], name=plot_text(left_label), marker_color=BLUE,
                hovertemplate="%{x}: %{y:,}<extra></extra>")
    fig.add_scatter(x=xs, y=df["fail_rate"], name=plot_text(right_label), yaxis="y2", mode="markers",
                    marker={"color": RED, "size": 12, "symbol": "diamond"},
                    hovertemplate="%{x}: %{y:.1%}<extra></extra>")
    fig.update_layout(yaxis={"title": {"text": plot_text(left_label)}},
                      yaxis2={"title": {"text": plot_text(right_label)}, "overlaying": "y", "side": "right",
                              "tickformat": ".0%", "rangemode": "tozero", "showgrid": False})
    fig.update_xaxes(type="category")
    return _layout(fig, title, height=380)
