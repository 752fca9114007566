"""Reports (DESIGN §5.4–5.6): pages render from hand-made clean data, XSS, offline plotly, KPI logic, labels.

The data builder :func:`make_clean_tables` (also used by tests/test_reports_*.py) writes small
``clean.*`` tables with the staging columns of sql/ddl/warehouse.sql, planted surges and hostile
strings (``<script>`` in respondent, platform, item and seller names).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ingestion.schema import KEY_CATEGORIES
from ingestion.sqlfiles import create_warehouse_tables
from tests.helpers import page_script_bodies

XSS = "<script>alert(1)</script>"
XSS_PLATFORM = '</script><script>alert("p")</script>'
XSS_ITEM = "<img src=x onerror=alert(2)>"
XSS_SELLER = "<b>粗体商行</b>"
SURGE_RESPONDENT = "常州市飞跃健身服务有限公司"
COUNTIES_3204 = ["320402", "320404", "320411", "320412", "320413", "320481"]
OTHER_32 = ["320102", "320106", "320505", "320400"]  # Nanjing, Suzhou, Changzhou city bureau
CATS = ["家用电子电器", "服装鞋帽", "装饰装修材料", "交通工具", "有关服务", "一般食品", "餐饮和住宿服务", "美容美发洗浴服务"]
PLATFORMS = ["淘宝", "京东", "拼多多", "抖音", XSS_PLATFORM]


def _months(start: str, n: int) -> list[pd.Timestamp]:
    return list(pd.date_range(start, periods=n, freq="MS"))


def complaint_frame(seed: int = 7) -> pd.DataFrame:
    """2024-01 .. 2025-12: ~40 records per unit-month, a planted respondent and a unit×category surge."""
    rng = np.random.default_rng(seed)
    rows = []
    rid = 0
    for month in _months("2024-01-01", 24):
        for code in COUNTIES_3204 + OTHER_32:
            n = int(rng.poisson(40))
            for _ in range(n):
                rows.append(_record(rng, rid, code, month, rng.choice(CATS), f"常州市普通商贸有限公司{rng.integers(0, 400)}"))
                rid += 1
            if code == "320412" and month == pd.Timestamp("2025-09-01"):  # unit × category surge
                for _ in range(60):
                    rows.append(_record(rng, rid, code, month, "装饰装修材料", f"武进装饰材料店{rng.integers(0, 50)}"))
                    rid += 1
        if month == pd.Timestamp("2025-06-01"):  # a gym closes: respondent surge
            for _ in range(45):
                rows.append(_record(rng, rid, "320402", month, "有关服务", SURGE_RESPONDENT, uscc="91320402MA1XYZ0000"))
                rid += 1
        if month >= pd.Timestamp("2025-01-01"):  # hostile respondent name, steady volume
            for _ in range(3):
                rows.append(_record(rng, rid, "320404", month, "服装鞋帽", XSS))
                rid += 1
        if month == pd.Timestamp("2025-11-01"):
            for _ in range(25):
                rows.append(_record(rng, rid, "320404", month, "服装鞋帽", XSS))
                rid += 1
    return pd.DataFrame(rows)


def _record(rng, rid: int, code: str, month: pd.Timestamp, category: str, respondent: str, uscc: str | None = None) -> dict:
    rtype = rng.choice(["投诉", "举报", "咨询"], p=[0.6, 0.15, 0.25])
    received = month + pd.Timedelta(days=int(rng.integers(0, 27)), hours=int(rng.integers(8, 18)))
    online = bool(rng.random() < 0.4)
    r = {
        "record_id": f"R{rid:08d}", "record_type": rtype, "channel": rng.choice(["电话", "互联网", "微信", "APP"]),
        "received_at": received, "accepted_at": None, "closed_at": None, "accept_decision": None,
        "entry_unit_id": f"EU{code}", "handling_region_code": code, "respondent_name": respondent,
        "respondent_uscc": uscc, "respondent_region_code": code,
        "object_type": "服务" if category in ("有关服务", "餐饮和住宿服务", "美容美发洗浴服务") else "商品",
        "category": category, "problem_type": rng.choice(["质量", "售后服务", "合同", "价格"]),
        "is_online": online, "platform_name": rng.choice(PLATFORMS, p=[0.35, 0.3, 0.2, 0.1, 0.05]) if online else None,
        "amount_disputed": None, "amount_recovered": None, "mediation_result": None, "settled_by_business": False,
        "case_filed": False, "report_substantiated": None, "satisfaction": None,
        "content": "商品存在质量问题，要求退货。", "complainant_key": f"ck{rng.integers(0, 10**12):012d}deadbeef",
        "complainant_id_valid": True,
    }
    if rtype == "投诉":
        r["accept_decision"] = "受理" if rng.random() < 0.75 else "不予受理"
        r["accepted_at"] = received + pd.Timedelta(days=2)
        r["amount_disputed"] = round(float(rng.integers(50, 5000)), 2)
        if r["accept_decision"] == "受理":
            if rng.random() < 0.95:
                r["closed_at"] = received + pd.Timedelta(days=20)
                r["mediation_result"] = rng.choice(["达成调解协议", "协商和解成功", "终止调解", "消费者撤回"], p=[0.5, 0.2, 0.2, 0.1])
                if r["mediation_result"] in ("达成调解协议", "协商和解成功"):
                    r["amount_recovered"] = round(r["amount_disputed"] * 0.6, 2)
        else:
            r["closed_at"] = r["accepted_at"]
        r["satisfaction"] = rng.choice(["满意", "基本满意", "不满意", "未回访"], p=[0.7, 0.15, 0.05, 0.1])
        r["case_filed"] = bool(rng.random() < 0.04)
    elif rtype == "举报":
        r["accepted_at"] = received + pd.Timedelta(days=10)
        r["closed_at"] = r["accepted_at"]
        r["report_substantiated"] = bool(rng.random() < 0.4)
        r["case_filed"] = bool(rng.random() < 0.2)
    else:
        r["closed_at"] = received + pd.Timedelta(hours=1)
    return r


def hotline_frame(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for month in _months("2025-01-01", 12):
        for code in COUNTIES_3204 + ["320400"]:
            offered = int(rng.integers(800, 1200))
            rate = 0.93 if code == "320481" else 0.97  # 溧阳 misses the 95 % target
            rows.append({"unit_id": f"HL{code}", "region_code": code, "month": month.date(), "calls_offered": offered,
                         "calls_answered_first": int(offered * (rate - 0.05)), "calls_answered": int(offered * rate)})
    return pd.DataFrame(rows)


def sampling_frame(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    products = {"电线电缆": ["导体电阻", "绝缘厚度"], "儿童玩具": ["小零件", "可触及锐利边缘", "标识和使用说明"],
                "服装": ["纤维含量", "pH值", "使用说明"], "电热水壶": ["发热", "标志和说明"]}
    safety = {"导体电阻", "绝缘厚度", "小零件", "可触及锐利边缘", "pH值", "发热"}
    rows = []
    for i in range(700):
        cat = rng.choice(list(products))
        sampled = dt.date(2025, 1, 1) + dt.timedelta(days=int(rng.integers(0, 360)))
        venue = rng.choice(["商场", "超市", "市场", "专卖店", "电商"])
        fail = rng.random() < (0.2 if cat == "儿童玩具" else 0.06)
        r = {"sample_id": f"S{i:06d}", "plan_id": "P2025-01", "sampled_on": sampled,
             "region_code": rng.choice(COUNTIES_3204 + ["320102", "320505"]), "venue_type": venue,
             "is_online": venue == "电商", "product_category": cat, "product_name": f"{cat}样品{i % 17}",
             "brand": "某牌", "seller_name": f"某某商行{i % 40}",
             "seller_uscc": None, "manufacturer_name": "某某制造有限公司", "manufacturer_uscc": None,
             "standard_code": "GB 6675.2-2014", "result": "不合格" if fail else "合格", "failed_items": None,
             "failed_safety_item": None, "failed_label_item": None, "notified_on": None, "stop_sale_on": None,
             "correction_due_on": None, "corrected_on": None, "reinspected_on": None, "reinspection_result": None}
        if fail:
            items = list(rng.choice(products[cat], size=int(rng.integers(1, 3)), replace=False))
            if i % 7 == 0:
                items.append(XSS_ITEM)
            r["failed_items"] = "、".join(items)
            r["failed_safety_item"] = any(x in safety for x in items)
            r["failed_label_item"] = any(x not in safety for x in items)
            r["notified_on"] = sampled + dt.timedelta(days=20)
            r["stop_sale_on"] = r["notified_on"]
            r["correction_due_on"] = r["notified_on"] + dt.timedelta(days=60)
            if rng.random() >= 0.8:
                r["seller_name"] = XSS_SELLER  # never corrected: listed among the overdue batches
            else:
                r["corrected_on"] = r["notified_on"] + dt.timedelta(days=int(rng.integers(10, 90)))
                if rng.random() < 0.8:
                    r["reinspected_on"] = r["corrected_on"] + dt.timedelta(days=10)
                    r["reinspection_result"] = "合格"
        rows.append(r)
    return pd.DataFrame(rows)


def make_clean_tables(con, complaints: pd.DataFrame | None = None, hotline: pd.DataFrame | None = None,
                      sampling: pd.DataFrame | None = None, with_hotline: bool = True) -> None:
    """clean.* tables with the staging columns (warehouse.sql), filled from frames (defaults: the builders above)."""
    create_warehouse_tables(con)
    frames = {
        "complaints": complaint_frame() if complaints is None else complaints,
        "sampling_results": sampling_frame() if sampling is None else sampling,
        "hotline_stats": (hotline_frame() if hotline is None else hotline) if with_hotline else None,
        "region_profiles": pd.DataFrame({"region_code": ["320400"], "year": [2025], "population": [5_000_000]}),
    }
    for name, df in frames.items():
        if df is None:
            continue
        con.execute(f"CREATE OR REPLACE TABLE clean.{name} AS SELECT * FROM staging.{name} LIMIT 0")
        con.register("_frame", df)
        con.execute(f"INSERT INTO clean.{name} BY NAME SELECT * FROM _frame")
        con.unregister("_frame")


@pytest.fixture(scope="module")
def report_con(tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    make_clean_tables(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def built(report_con, tmp_path_factory):
    """Scope 3204, year 2025, Chinese; plus the English build of the same."""
    from reports import build_reports

    out = tmp_path_factory.mktemp("out")
    zh = build_reports(report_con, "3204", "2025", out / "zh", lang="zh")
    en = build_reports(report_con, "3204", "2025", out / "en", lang="en")
    return out, zh, en


PAGES = ("index.html", "complaints_analysis.html", "kpi_scorecard.html", "sampling_report.html")


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------ rendering
def test_pages_render_with_ids(built):
    out, zh, _ = built
    folder = out / "zh"
    assert zh == folder / "index.html"
    for page in PAGES:
        assert (folder / page).is_file(), page
    ca = _read(folder / "complaints_analysis.html")
    for element in ("fig-volume-monthly", "fig-mix-channel", "fig-mix-category", "fig-key-categories", "fig-online-share",
                    "fig-platforms", "fig-surges", "fig-money-monthly", "tbl-mix-category", "tbl-key-categories",
                    "tbl-surges-respondent", "tbl-units", 'data-report="complaints_analysis"'):
        assert element in ca, element
    for cat in KEY_CATEGORIES:
        assert cat in ca
    kpi = _read(folder / "kpi_scorecard.html")
    for element in ("tbl-kpi", "fig-kpi-first-answer-rate", "fig-kpi-mediation-success-rate", "fig-kpi-closure-rate",
                    "fig-kpi-satisfaction-rate", "fig-kpi-callback-rate", "fig-kpi-case-rate",
                    "fig-kpi-complaint-case-rate", "fig-kpi-report-case-rate", "fig-kpi-report-substantiation-rate",
                    "fig-kpi-service-station-density", "tbl-kpi-definitions", "kpi-row-total"):
        assert element in kpi, element
    assert "天宁区" in kpi and "常州市市本级" in kpi
    sr = _read(folder / "sampling_report.html")
    for element in ("fig-pass-category", "fig-pass-venue", "fig-pass-channel", "fig-pass-units", "fig-failed-split",
                    "fig-failed-items", "fig-disposal-status", "tbl-failed-batches", "tbl-disposal-status",
                    "fig-fail-products", "tbl-fail-products"):
        assert element in sr, element
    assert "儿童玩具" in sr
    assert "320102" not in sr and "玄武区" not in sr  # Nanjing is outside scope 3204


def test_index_links_only_existing_reports(built):
    out, _, _ = built
    idx = _read(out / "zh" / "index.html")
    for key in ("complaints_analysis", "kpi_scorecard", "sampling_report"):
        assert f'id="link-{key}"' in idx
    for key in ("index_report", "drilldown", "dashboard", "dq_report"):
        assert f'id="link-{key}"' not in idx
    assert "<script" not in idx  # the index needs no plotly


def test_index_picks_up_a_slot_written_later(tmp_path):
    from reports import render

    (tmp_path / "dq_report.html").write_text("<!doctype html><title>dq</title>", encoding="utf-8")
    (tmp_path / "dq_report.xlsx").write_bytes(b"x")
    idx = _read(render.write_index(tmp_path, scope_label="常州市", period_label="2025年", lang="zh"))
    assert 'id="link-dq_report"' in idx and 'href="dq_report.xlsx"' in idx
    assert 'id="link-complaints_analysis"' not in idx


def test_one_plotly_js_per_folder_and_no_cdn(built):
    out, _, _ = built
    for folder in (out / "zh", out / "en"):
        js = [p for p in folder.rglob("*.js")]
        assert [p.name for p in js] == ["plotly.min.js"]
        assert js[0].stat().st_size > 1_000_000  # the real bundle
        for page in folder.rglob("*.html"):
            text = _read(page)
            srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", text, flags=re.I)
            assert all(s == "plotly.min.js" for s in srcs), (page, srcs)
            assert "cdn" not in " ".join(srcs).lower() and "https://" not in " ".join(srcs)
            assert not re.search(r"<link[^>]+href=[\"']?https?://", text), page  # no remote CSS either
            if page.name != "index.html":
                assert srcs == ["plotly.min.js"], page  # loaded once per page


def test_plotly_js_is_written_once(tmp_path):
    from reports import render

    p = render.ensure_plotlyjs(tmp_path)
    mtime = p.stat().st_mtime_ns
    render.ensure_plotlyjs(tmp_path)
    assert p.stat().st_mtime_ns == mtime


# ------------------------------------------------------------------------------------------ XSS
def test_data_strings_are_escaped_everywhere(built):
    out, _, _ = built
    for lang in ("zh", "en"):
        ca = _read(out / lang / "complaints_analysis.html")
        sr = _read(out / lang / "sampling_report.html")
        for text in (ca, sr):
            assert XSS not in text and XSS_ITEM not in text and XSS_PLATFORM not in text
            assert "<b>粗体商行</b>" not in text
            # every <script> element is the plotly.js loader or a plotly figure call with no raw '<' inside
            for body in page_script_bodies(text):
                assert body.strip() == "" or ("Plotly.newPlot" in body and "<" not in body), body[:200]
            outside = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S | re.I)
            assert not re.search(r"<(script|img|b)\b", outside, flags=re.I)
        # the hostile respondent surges in 2025-11 and shows as escaped text in the surge table
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ca
        assert "&lt;/script&gt;&lt;script&gt;alert(&#34;p&#34;)&lt;/script&gt;" in ca  # platform table
        assert "&lt;img src=x onerror=alert(2)&gt;" in sr
        assert "&lt;b&gt;粗体商行&lt;/b&gt;" in sr


def test_figure_json_cannot_close_its_script():
    """plotly JSON-encodes '<', '>' and '/' inside figure data: '</script>' never appears raw."""
    import plotly.graph_objects as go

    from reports import render

    fig = go.Figure(go.Bar(x=["</script><script>alert(1)</script>", "a"], y=[1, 2], text=["</SCRIPT>", "<!--"]))
    fig.update_layout(title=XSS_PLATFORM)
    frag = str(render.figure_html(fig, "fig-test"))
    bodies = page_script_bodies(frag)
    assert len(bodies) == 1  # the one script element runs to the real end tag
    assert "</script" not in bodies[0].lower() and "<!--" not in bodies[0]
    assert "\\u003c\\u002fscript\\u003e" in bodies[0]
    # plot_text HTML-escapes data strings so plotly.js does not interpret its tag subset either
    assert render.plot_text('<a href="javascript:alert(1)">x</a>') == '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'


def test_element_ids_are_never_data():
    from reports import render

    with pytest.raises(ValueError):
        render.check_id('x" onmouseover="alert(1)')
    with pytest.raises(ValueError):
        render.figure_html(__import__("plotly.graph_objects").graph_objects.Figure(), "<script>")


def test_templates_autoescape_and_no_safe_filter():
    from reports import render

    env = render.environment()
    assert env.autoescape is True
    tpl_dir = Path(render.__file__).parent / "templates"
    for p in tpl_dir.glob("*.html.j2"):
        assert "|safe" not in _read(p).replace(" ", ""), p  # figures arrive as Markup; nothing else is trusted
    html = env.from_string("{{ x }}").render(x=XSS)
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_no_personal_data_or_complainant_key(built, report_con):
    out, _, _ = built
    keys = [r[0] for r in report_con.execute("SELECT complainant_key FROM clean.complaints LIMIT 200").fetchall()]
    for page in (out / "zh").glob("*.html"):
        text = _read(page)
        assert "deadbeef" not in text
        assert not any(k in text for k in keys)
        assert "complainant" not in text


# ---------------------------------------------------------------------------------------- labels
def test_labels_switch_with_lang(built):
    out, _, en = built
    zh_ca = _read(out / "zh" / "complaints_analysis.html")
    en_ca = _read(out / "en" / "complaints_analysis.html")
    assert '<html lang="zh-CN">' in zh_ca and '<html lang="en">' in en_ca
    assert "12315投诉举报数据分析报告" in zh_ca and "12315 complaints and reports analysis" in en_ca
    assert "五大重点领域" in zh_ca and "The five key categories" in en_ca
    assert "Household electronics &amp; appliances" in en_ca  # vocabulary values translated
    assert "五大重点领域" not in en_ca
    en_kpi = _read(out / "en" / "kpi_scorecard.html")
    assert 'data-kpi="first_answer_rate">Hotline first-attempt answer rate' in en_kpi
    assert 'data-kpi="first_answer_rate">电话首次接通率' not in en_kpi
    assert "“电话首次接通率95%以上”" in en_kpi  # the documents are quoted in Chinese in both languages
    assert "Back to the report index" in en_kpi
    assert "Pass rate by product category" in _read(out / "en" / "sampling_report.html")
    assert 'id="link-kpi_scorecard"' in _read(en)


def test_every_label_has_both_languages():
    from reports import labels

    for key, pair in labels.LABELS.items():
        assert len(pair) == 2 and all(isinstance(s, str) and s.strip() for s in pair), key
    with pytest.raises(ValueError):
        labels.translator("fr")
    with pytest.raises(KeyError):
        labels.label("no.such.label", "zh")


# ------------------------------------------------------------------------------------------ KPI
@pytest.mark.parametrize("num,den,target,expected", [
    (95, 100, "0.95", "green"), (94, 100, "0.95", "red"), (949, 1000, "0.95", "red"), (950, 1000, "0.95", "green"),
    (19, 20, "0.95", "green"),  # 0.95 exactly, no float slack needed
    (80, 100, "0.80", "green"), (79, 100, "0.80", "red"), (4, 5, "0.80", "green"),
    (100, 100, "1", "green"), (999, 1000, "1", "red"), (0, 0, "1", "none"),
    (5, 100, "0.05", "green"), (4, 100, "0.05", "red"), (1, 20, "0.05", "green"), (0, 3, "0.05", "red"),
])
def test_kpi_status_at_target_boundaries(num, den, target, expected):
    from fractions import Fraction

    from reports.kpi import kpi_status

    assert kpi_status(num, den, Fraction(target)) == expected


def test_kpi_definitions_in_one_place_match_the_sql():
    from reports import kpi
    from reports.queries import report_sql

    assert [k.zh for k in kpi.KPIS][:4] == ["电话首次接通率", "办结率", "有效投诉调解成功率", "消费者满意率"]
    assert {k.id: float(k.target) for k in kpi.KPIS if k.target is not None} == {
        "first_answer_rate": 0.95, "mediation_success_rate": 0.80, "closure_rate": 1.0, "satisfaction_rate": 0.95,
        "case_rate": 0.05}
    sql = report_sql("kpi_complaint_counts") + report_sql("kpi_hotline_counts") + report_sql("kpi_profile_counts")
    for col in kpi.COUNT_COLUMNS:
        assert re.search(rf"\bAS {col}\b", sql), col


def _kpi_complaints(code: str, closed: int, success: int, accepted: int) -> list[dict]:
    """``accepted`` complaints in 2025-03, ``closed`` of them closed, ``success`` mediated; all rated 满意."""
    rng = np.random.default_rng(0)
    rows = []
    month = pd.Timestamp("2025-03-01")
    for i in range(accepted):
        r = _record(rng, len(rows), code, month, "服装鞋帽", "某店")
        r.update(record_type="投诉", accept_decision="受理", closed_at=(month + pd.Timedelta(days=30)) if i < closed else None,
                 mediation_result="达成调解协议" if i < success else ("终止调解" if i < closed else None),
                 satisfaction="满意", case_filed=False)
        rows.append(r)
    for i, r in enumerate(rows):
        r["record_id"] = f"{code}-{i}"
    return rows


def test_kpi_scorecard_colours_at_boundaries(tmp_path):
    """320402: mediation 80/100, closure 100/100, case 5/100, satisfaction 100/100 (all green);
    320404: mediation 79/99, closure 99/100, case 4/100 (red), satisfaction 95/100 (green); hotline 95.0 % vs 94.9 %
    answered at the first attempt. The unclosed complaint is overdue: a later record puts the data cut-off
    beyond its 45 working days."""
    con = duckdb.connect()
    rows = _kpi_complaints("320402", closed=100, success=80, accepted=100) \
        + _kpi_complaints("320404", closed=99, success=79, accepted=100)
    late = dict(rows[0], record_id="late", record_type="咨询", accept_decision=None, mediation_result=None,
                received_at=pd.Timestamp("2025-09-01 10:00"), accepted_at=None, closed_at=pd.Timestamp("2025-09-01 11:00"),
                satisfaction=None)
    comp = pd.DataFrame(rows + [late])
    # 诉转案率 = cases ÷ (投诉 + 举报) = 5/100 and 4/100
    comp.loc[(comp.handling_region_code == "320402") & (comp.index % 100 < 5), "case_filed"] = True
    comp.loc[(comp.handling_region_code == "320404") & (comp.index % 100 < 4), "case_filed"] = True
    # 满意率 exactly at the target: 95/100 is green
    comp.loc[(comp.handling_region_code == "320404") & (comp.index % 100 >= 95), "satisfaction"] = "不满意"
    hot = pd.DataFrame([
        {"unit_id": "a", "region_code": "320402", "month": dt.date(2025, 3, 1), "calls_offered": 1000,
         "calls_answered_first": 950, "calls_answered": 990},
        {"unit_id": "b", "region_code": "320404", "month": dt.date(2025, 3, 1), "calls_offered": 1000,
         "calls_answered_first": 949, "calls_answered": 999},
    ])
    make_clean_tables(con, complaints=comp, hotline=hot, sampling=sampling_frame().head(0))
    from reports import build_kpi_scorecard

    page = _read(build_kpi_scorecard(con, "3204", "2025Q1", tmp_path))
    rows_html = re.findall(r'<tr data-unit="(\d+)">(.*?)</tr>', page, flags=re.S)
    status = {u: dict(re.findall(r'data-kpi="(\w+)" data-status="(\w+)"', body)) for u, body in rows_html}
    judged = ("first_answer_rate", "mediation_success_rate", "closure_rate", "satisfaction_rate", "case_rate")
    assert {k: status["320402"][k] for k in judged} == {
        "first_answer_rate": "green", "mediation_success_rate": "green", "closure_rate": "green",
        "satisfaction_rate": "green", "case_rate": "green"}
    assert {k: status["320404"][k] for k in judged} == {
        "first_answer_rate": "red", "mediation_success_rate": "red", "closure_rate": "red",
        "satisfaction_rate": "green", "case_rate": "red"}
    assert status["320402"]["complaint_case_rate"] == "info" and status["320402"]["report_case_rate"] == "none"
    assert "80/100" in page and "79/99" in page and "950/1,000" in page and "949/1,000" in page and "95/100" in page
    con.close()


def test_kpi_without_hotline_table(tmp_path):
    con = duckdb.connect()
    make_clean_tables(con, complaints=pd.DataFrame(_kpi_complaints("320402", 10, 8, 10)),
                      sampling=sampling_frame().head(0), with_hotline=False)
    con.execute("DROP TABLE IF EXISTS clean.hotline_stats")
    from reports import build_kpi_scorecard

    page = _read(build_kpi_scorecard(con, "3204", "2025", tmp_path))
    assert 'id="kpi-hotline-missing"' in page
    assert 'data-kpi="first_answer_rate" data-status="none"' in page
    assert "样本少" in page  # 10 records < 30
    con.close()


# ---------------------------------------------------------------------------- report contents
def test_complaints_analysis_finds_the_planted_surges(report_con):
    from reports.complaints_analysis import collect, prepare
    from reports.periods import parse_period
    from reports.scope import load_scope

    scope, period = load_scope("3204"), parse_period("2025")
    ctx = prepare(collect(report_con, scope, period), scope, period, "zh")
    surges = ctx["surges"]
    resp = surges["respondent"]
    found = resp[resp.surge]
    assert set(found.series) >= {SURGE_RESPONDENT, XSS}
    gym = found[found.series == SURGE_RESPONDENT].iloc[0]
    frame = complaint_frame()
    planted = int(((frame.respondent_name == SURGE_RESPONDENT) & frame.record_type.isin(["投诉", "举报"])).sum())
    assert gym.month == dt.date(2025, 6, 1) and gym["count"] == planted and gym.uscc == "91320402MA1XYZ0000"
    assert gym.baseline_sum == 0 and gym.baseline_months == 12
    uc = surges["unit_category"]
    hit = uc[uc.surge]
    assert ((hit.unit_code == "320412") & (hit.category == "装饰装修材料") & (hit.month == dt.date(2025, 9, 1))).any()
    # ordinary Poisson traffic raises no surge: only the planted cells (the gym and the hostile
    # respondent also make their unit × category cells surge)
    planted = {("320412", "装饰装修材料", dt.date(2025, 9, 1)), ("320402", "有关服务", dt.date(2025, 6, 1)),
               ("320404", "服装鞋帽", dt.date(2025, 11, 1))}
    assert set(zip(hit.unit_code, hit.category, hit.month)) <= planted
    assert uc.attrs["tested"] >= 6 * 8 * 12  # m = every unit × category × month, not only the large cells
    cat = surges["category"]
    assert set(zip(cat[cat.surge].category, cat[cat.surge].month)) <= {(c, m) for _, c, m in planted}


def test_reports_on_province_and_nation_scopes(report_con, tmp_path):
    from reports import build_reports

    idx = build_reports(report_con, "32", "2025H2", tmp_path / "p", lang="zh")
    kpi = _read(idx.parent / "kpi_scorecard.html")
    assert "南京市" in kpi and "苏州市" in kpi and "常州市" in kpi and "江苏省省本级" not in kpi
    ca = _read(idx.parent / "complaints_analysis.html")
    assert "2025年下半年" in ca
    idx = build_reports(report_con, "CN", "2025Q3", tmp_path / "n", lang="en")
    assert "江苏省" in _read(idx.parent / "kpi_scorecard.html")
    assert len(list((tmp_path / "n").rglob("*.js"))) == 1


def test_empty_period_renders(report_con, tmp_path):
    from reports import build_reports

    idx = build_reports(report_con, "3204", "2023Q1", tmp_path, lang="zh")
    for page in PAGES:
        text = _read(idx.parent / page)
        assert "</html>" in text
    assert "本期无数据" in _read(idx.parent / "complaints_analysis.html")


def test_sampling_disposal_status(report_con):
    from reports.periods import parse_period
    from reports.sampling_report import collect, item_counts, order18_limits, split_items
    from reports.scope import load_scope

    limits = order18_limits()
    assert limits == {"correction": 60, "reinspection": 75}
    scope, period = load_scope("3204"), parse_period("2025")
    breakdown, failed = collect(report_con, scope, period, dt.date(2025, 12, 31), limits)
    assert set(failed.unit_code) <= set(COUNTIES_3204)
    f = failed.set_index("sample_id")
    for sid, r in f.iterrows():
        elapsed = (pd.Timestamp(r.corrected_on) - pd.Timestamp(r.notified_on)).days if pd.notna(r.corrected_on) else None
        if elapsed is not None:
            assert r.correction_status == ("on_time" if elapsed <= 60 else "overdue")
        elif (pd.Timestamp("2025-12-31") - pd.Timestamp(r.notified_on)).days > 60:
            assert r.correction_status == "open_overdue"
        else:
            assert r.correction_status == "open"
    assert {"on_time", "overdue", "open_overdue"} <= set(failed.correction_status)
    # a step dated after as_of does not count as done
    early = collect(report_con, scope, period, dt.date(2025, 3, 1), limits)[1]
    assert early.corrected_on.dropna().max() <= pd.Timestamp("2025-03-01")
    units = breakdown[breakdown.dimension == "unit"]
    assert int(units.failed.sum()) == len(failed)
    assert split_items("导体电阻、绝缘厚度;标识") == ["导体电阻", "绝缘厚度", "标识"]
    ic = item_counts(failed)
    assert ic.batches.sum() >= len(failed)


def test_periods_and_scopes():
    from reports.periods import parse_period
    from reports.scope import load_scope, unit_of

    p = parse_period("2025H1")
    assert (p.start, p.end, len(p.months)) == (dt.date(2025, 1, 1), dt.date(2025, 7, 1), 6)
    p = parse_period("2025Q3")
    assert (p.start, p.end, p.label("zh"), p.label("en")) == (dt.date(2025, 7, 1), dt.date(2025, 10, 1), "2025年第三季度", "2025 Q3")
    assert parse_period("2025").end == dt.date(2026, 1, 1)
    assert parse_period("2025-12").end == dt.date(2026, 1, 1)
    with pytest.raises(ValueError):
        parse_period("2025Q5")
    s = load_scope("32")
    assert unit_of("320412", s) == "320400" and unit_of("320000", s) == "320000"
    assert unit_of("429004", load_scope("42")) == "429004"  # 省直辖县 is its own unit
    assert unit_of("110105", load_scope("11")) == "110105"  # 直辖市 districts
    assert unit_of("320482", load_scope("3204")) == "320482"  # abolished 金坛市 stays itself
    assert unit_of("320412", load_scope("CN")) == "320000"


def test_queries_refuse_missing_or_extra_params(report_con):
    from reports.queries import run

    with pytest.raises(TypeError):
        run(report_con, "complaints_data_span")
    with pytest.raises(TypeError):
        run(report_con, "complaints_data_span", prefix="32", evil="x")
    with pytest.raises(ValueError):
        run(report_con, "../ddl/warehouse", prefix="32")
    # a hostile prefix is just a value: no injection, no rows
    assert run(report_con, "complaints_data_span", prefix="' OR 1=1 --")["n"].iloc[0] == 0


def test_builds_from_a_read_only_connection(tmp_path):
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    make_clean_tables(con, complaints=complaint_frame().head(3000), sampling=sampling_frame().head(200))
    con.close()
    ro = duckdb.connect(str(path), read_only=True)
    from reports import build_reports

    idx = build_reports(ro, "3204", "2024H2", tmp_path / "out")
    assert (idx.parent / "kpi_scorecard.html").is_file()
    ro.close()
