"""Choropleth map of a scope's regions (issue 10 point 4), drawn offline.

The scope's units — provinces for ``CN``, a province's prefectures (and the counties directly under
it), a prefecture's counties — are drawn from the simplified GB/T 2260-keyed boundaries shipped in
``reference/data/boundaries`` (:mod:`reference.boundaries`; source and licence in its README), each
filled with the colour of its composite grade; hovering shows name, score, rank and grade; a click
opens the region's drill-down page.

Why not ``go.Choropleth``: plotly's geo subplots fetch a world topojson from a CDN even when the
base map is hidden (measured: a request to cdn.plot.ly and an error offline). The map is therefore
drawn on plain cartesian axes — each region one filled ``scatter`` trace (longitude scaled by
cos(latitude) so shapes keep their proportions), plus one marker per region at its centroid that
carries the name, the hover text and the page a click opens. Nothing leaves the folder.

Units without a shipped boundary are listed under the map (:func:`map_context`), never dropped
silently. The map is a statistical sketch, not a 标准地图: the page says so.
"""
from __future__ import annotations

import math
import re
from typing import Callable

import plotly.graph_objects as go
from markupsafe import Markup

from reference import boundaries
from reports import labels
from reports.figures import GREY, _fig, _layout
from reports.render import plot_text

NO_DATA = "#e0e0e0"
OUTLINE = "#ffffff"


def _rings(geom: dict) -> list[list[list[float]]]:
    """Exterior rings of a Polygon / MultiPolygon (holes are drawn by the region inside them)."""
    if geom["type"] == "Polygon":
        return [geom["coordinates"][0]]
    if geom["type"] == "MultiPolygon":
        return [poly[0] for poly in geom["coordinates"] if poly]
    return []


def _area_centroid(ring) -> tuple[float, float, float]:
    """|area| and centroid of a ring (shoelace); the vertex mean for degenerate rings."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-12:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def region_shapes(codes) -> dict[str, dict]:
    """code -> {'rings': [...], 'area': float, 'centroid': (lon, lat)} for codes with a boundary."""
    out = {}
    for code, geom in boundaries.geometries(codes).items():
        rings = _rings(geom)
        if not rings:
            continue
        parts = [_area_centroid(r) for r in rings]
        big = max(range(len(parts)), key=lambda i: parts[i][0])
        out[code] = {"rings": rings, "area": sum(p[0] for p in parts), "centroid": (parts[big][1], parts[big][2])}
    return out


# A label on the map is the region's common short form (新疆维吾尔自治区 -> 新疆, 江苏省 -> 江苏, 南京市 -> 南京):
# the full names of the small eastern provinces ran into each other on the national map. The hover keeps the
# full name, and the page hides a label that would still cover another (reports/templates/base.html.j2).
_LABEL_SUFFIX = re.compile(r"(?:维吾尔|壮族|回族)?自治区$|特别行政区$|省$|市$")


def map_label(name: str) -> str:
    short = _LABEL_SUFFIX.sub("", name)
    return short if len(short) >= 2 else name  # 沙市 stays 沙市


def fig_map(d, href: Callable[[str], str] | None = None, extra_codes=()) -> tuple[go.Figure, list[str]]:
    """The composite score map of ``d`` (an :class:`reports.index_report.IndexData`); returns the figure
    and the codes of the scope's units that have no boundary. ``extra_codes``: regions drawn grey for
    context (for CN: Hong Kong, Macao, Taiwan, which the index does not rank)."""
    from reports.index_report import GRADE_COLOURS, grade_text

    t = labels.translator(d.lang)
    top = d.node(d.root)
    units = list(dict.fromkeys(list(d.regions) + [c for c in d.scope.units.unit_code if c not in d.regions]))
    shapes = region_shapes(units + list(extra_codes))
    missing = [c for c in units if c not in shapes]
    lat0 = sum(s["centroid"][1] for s in shapes.values()) / len(shapes) if shapes else 30.0
    k = math.cos(math.radians(lat0))
    fig = _fig()
    order = sorted(shapes, key=lambda c: -shapes[c]["area"])  # big first: an enclave is drawn over its host
    grades_seen: dict[str, str] = {}  # legend label -> colour
    for code in order:
        s = shapes[code]
        ranked = code in top.index and top.at[code, "score"] == top.at[code, "score"]
        grade = top.at[code, "grade"] if ranked else None
        colour = GRADE_COLOURS.get(grade, GREY) if ranked and isinstance(grade, str) else NO_DATA
        xs, ys = [], []
        for ring in s["rings"]:
            xs += [p[0] * k for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
        legend = plot_text(grade_text(d, grade)) if ranked and isinstance(grade, str) else plot_text(t("map.no_data"))
        if legend not in grades_seen:  # one legend entry per grade (an empty trace)
            grades_seen[legend] = colour
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=legend, legendrank=_grade_rank(grade),
                                     marker={"symbol": "square", "size": 12, "color": colour}, hoverinfo="skip"))
        name = plot_text(d.names.get(code, code))
        label = (t("map.hover_fill", name=name, score=f"{float(top.at[code, 'score']):.1f}", rank=int(top.at[code, "rank"]),
                   grade=plot_text(grade_text(d, grade))) if ranked else t("map.hover_none", name=name))
        link = href(code) if href and ranked else ""
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=colour, hoveron="fills",
                                 line={"color": OUTLINE, "width": 0.8}, name=label, showlegend=False,
                                 customdata=[[link]] * len(xs), hoverlabel={"namelength": -1}))
    # centroid markers: hover text, region name and the page a click opens
    cx, cy, text, hover, custom = [], [], [], [], []
    for code in order:
        if code not in units:
            continue
        lon, lat = shapes[code]["centroid"]
        name = plot_text(d.names.get(code, code))
        ranked = code in top.index and top.at[code, "score"] == top.at[code, "score"]
        cx.append(lon * k)
        cy.append(lat)
        text.append(plot_text(map_label(d.names.get(code, code))))
        if ranked:
            r = top.loc[code]
            hover.append(t("map.hover", name=name, score=f"{float(r['score']):.1f}", rank=int(r["rank"]),
                           grade=plot_text(grade_text(d, r["grade"]))))
        else:
            hover.append(t("map.hover_none", name=name))
        custom.append([href(code) if href and ranked else ""])
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="markers+text", text=text, textposition="middle center",
                             textfont={"size": 11 if len(cx) <= 40 else 9, "color": "#263238"},
                             marker={"size": 16, "color": "rgba(255,255,255,0.01)"}, customdata=custom,
                             hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", showlegend=False))
    fig.update_xaxes(visible=False, fixedrange=True)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1, fixedrange=True)
    _layout(fig, t("map.title", node=d.label(d.root)), height=520)
    fig.update_layout(legend={"orientation": "h", "y": -0.02, "title": {"text": plot_text(t("col.ir.grade"))}},
                      margin={"l": 10, "r": 10, "t": 50, "b": 40}, hovermode="closest", dragmode=False)
    return fig, missing


def _grade_rank(grade) -> int:
    return {"优": 1, "良": 2, "中": 3, "差": 4}.get(grade, 9) if isinstance(grade, str) else 9


def context_codes(d) -> list[str]:
    """Regions drawn grey for context: Hong Kong, Macao and Taiwan on the national map."""
    return ["710000", "810000", "820000"] if d.scope.key == "CN" else []


def map_context(d, href: Callable[[str], str] | None, div_id: str = "fig-map") -> dict:
    """``{'map': Markup, 'map_missing': [names], 'map_note': str, 'map_click': str}`` for a template
    (``map_click`` is shown on screen only: a printed page has nothing to click)."""
    from reports.index_report import click_figure_html
    from reports import render

    t = labels.translator(d.lang)
    fig, missing = fig_map(d, href, context_codes(d))
    html = click_figure_html(fig, div_id) if href else render.figure_html(fig, div_id)
    return {"map": Markup(html), "map_missing": [d.names.get(c, c) for c in missing],
            "map_note": t("map.note"), "map_click": t("map.click") if href else ""}
