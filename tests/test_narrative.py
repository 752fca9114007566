"""Narrative analysis (issue 10 point 1): hand-made facts -> exact sentences; the section list and order;
significance only beyond noise; escaping; and, on the shared session warehouse, the report folder built
by ``cei report`` holds analysis.html whose overview numbers are the ranked report's (and mart's)."""
from __future__ import annotations

import html
import re

import duckdb
import pytest

from reports import render
from reports.narrative import SECTION_KEYS, compose, plain_text
from reports.narrative.compose import count_change_beyond, share_change_beyond
from reports.narrative.model import (
    BoardFact,
    ComplaintFacts,
    CountFact,
    HotspotFacts,
    IndexFacts,
    KpiFact,
    NarrativeInput,
    QualityFacts,
    RegionFact,
    SamplingFacts,
    Section,
    SurgeFact,
)
from tests.helpers import page_script_bodies

HEADINGS_ZH = ["总体情况", "指数排名与变化", "各维度分析", "各地短板与建议", "五大类重点商品和服务", "投诉热点", "抽检情况",
               "数据质量说明"]
HEADINGS_EN = ["Overview", "Index ranking and change", "Dimensions", "Short boards and suggestions by region",
               "The five key categories of goods and services", "Complaint hotspots", "Quality sampling", "Data quality"]

NANJING = RegionFact(name="南京市", score=85.3, rank=1, grade="优", prev_score=82.1, prev_rank=3, verdict="attributed",
                     drivers=[("投诉办结率", 1.9), ("消费者满意率", 0.8)], signal=3.0, noise=0.2)
SUZHOU = RegionFact(name="苏州市", score=60.5, rank=2, grade="中", prev_score=60.1, prev_rank=1, verdict="within_noise",
                    signal=0.0, noise=0.4)
WUXI = RegionFact(name="无锡市", score=50.0, rank=3, grade="差", prev_score=50.0, prev_rank=2, verdict="unchanged",
                  signal=0.0, noise=0.0)


def make_input(**over) -> NarrativeInput:
    base = dict(scope_name="江苏省", period_label="2025年", comparison_label="2024年", comparison_kind="yoy",
                index=IndexFacts(regions=[NANJING, SUZHOU, WUXI], has_prev=True))
    base.update(over)
    return NarrativeInput(**base)


def section(sections: list[Section], key: str) -> Section:
    return next(s for s in sections if s.key == key)


# ------------------------------------------------------------------------------------ structure
def test_sections_in_order_with_headings_in_both_languages():
    inp = make_input()
    zh, en = compose(inp, "zh"), compose(inp, "en")
    assert [s.key for s in zh] == list(SECTION_KEYS) == [s.key for s in en]
    assert [s.heading for s in zh] == HEADINGS_ZH
    assert [s.heading for s in en] == HEADINGS_EN
    text = plain_text(zh, "zh").splitlines()
    assert text[0] == "一、总体情况" and "八、数据质量说明" in text
    # every section says something, even without data
    empty = compose(NarrativeInput(scope_name="江苏省", period_label="2025年", comparison_label="2024年",
                                   comparison_kind="yoy"), "zh")
    assert all(s.sentences for s in empty)
    assert section(empty, "ranking").sentences == ["本期未计算消费环境指数。"]


def test_compose_is_deterministic():
    inp = make_input()
    assert compose(inp, "zh") == compose(inp, "zh")


# ------------------------------------------------------------------------------------ ranking
def test_first_ranked_city_with_change_beyond_noise():
    s = section(compose(make_input(), "zh"), "ranking").sentences
    assert "南京市综合得分85.30分，排名第1位（等级“优”），同比提高3.20分，超出统计误差，主要来自投诉办结率（+1.90分）、" \
           "消费者满意率（+0.80分）；排名上升2位。" in s
    en = section(compose(make_input(), "en"), "ranking").sentences
    assert "南京市 scores 85.30 and ranks 1 (grade Excellent), up 3.20 points year on year, beyond noise, driven mainly " \
           "by 投诉办结率 (+1.90), 消费者满意率 (+0.80); up 2 places." in en


def test_change_within_noise_is_worded_as_such():
    s = section(compose(make_input(), "zh"), "ranking").sentences
    assert "苏州市综合得分60.50分，排名第2位（等级“中”），同比提高0.40分，变化在统计误差范围内；排名下降1位" \
           "（得分变化未超出统计误差，名次变化不宜解读为实际变化）。" in s
    assert "无锡市综合得分50.00分，排名第3位（等级“差”），同比基本持平；排名下降1位（得分变化未超出统计误差，名次变化不宜解读为实际变化）。" in s
    assert not any("苏州市" in x and "，超出统计误差" in x for x in s)
    en = section(compose(make_input(), "en"), "ranking").sentences
    assert any(x.startswith("苏州市 scores 60.50 and ranks 2 (grade Fair), up 0.40 points year on year, within noise")
               for x in en)
    assert any(x.startswith("苏州市") and x.endswith("; down 1 place (the score change is not beyond noise: do not read "
                                                    "the move as a real change).") for x in en)


def test_changes_beyond_noise_against_the_score_change_are_not_called_significant():
    r = RegionFact(name="宿迁市", score=55.59, rank=1, prev_score=54.33, prev_rank=1, verdict="attributed",
                   drivers=[("诉转案率", -0.76)], signal=-0.8, noise=2.06)
    s = section(compose(make_input(index=IndexFacts(regions=[r], has_prev=True)), "zh"), "ranking").sentences
    assert s == ["综合指数排名依次为：宿迁市（55.59分）。", "宿迁市综合得分55.59分，排名第1位，同比提高1.26分，其中超出统计误差的指标变化合计-0.80分（主要来自诉转案率（-0.76分）），"
                 "其余+2.06分在统计误差范围内，得分变化方向不能确认；排名不变。",
                 "变化是否超出统计误差，按各三级指标两期数值的95%置信区间判断：只有区间不含0的指标变化才计入“主要来自”，"
                 "只有这类变化带动的得分变化才称超出统计误差。"]
    ov = section(compose(make_input(index=IndexFacts(regions=[r], has_prev=True)), "zh"), "overview").sentences
    assert "与2024年相比，1个地区综合得分变化均未超出统计误差。" in ov


def test_overview_index_numbers_and_counts_of_changes():
    ov = section(compose(make_input(), "zh"), "overview").sentences
    assert "消费环境指数参评3个地区，综合得分中位数为60.50分；南京市以85.30分位列第一，无锡市以50.00分位列末位。" in ov
    assert "按等级分，“优”1个、“中”1个、“差”1个。" in ov
    assert "与2024年相比，1个地区综合得分上升、0个地区下降，且变化超出统计误差；其余2个地区的变化未超出统计误差。" in ov


def test_period_on_period_wording_for_quarters():
    inp = make_input(period_label="2025年第二季度", comparison_label="2025年第一季度", comparison_kind="pop")
    s = section(compose(inp, "zh"), "ranking").sentences
    assert any(x.startswith("南京市综合得分85.30分，排名第1位（等级“优”），环比提高3.20分") for x in s)


# ------------------------------------------------------------------------------------ KPIs and boards
def test_kpi_below_target_named_with_value_and_target():
    kpis = [KpiFact("办结率", 980, 1000, 1.0, "red"), KpiFact("有效投诉调解成功率", 850, 1000, 0.8, "green"),
            KpiFact("举报查实率", 40, 100, None, "info"),
            KpiFact("办结率", 190, 200, 1.0, "red", unit="南京市"),
            KpiFact("消费者满意率", 18, 20, 0.95, "red", unit="江苏省省本级", few_records=True)]
    out = compose(make_input(kpis=kpis), "zh")
    ov = section(out, "overview").sentences
    assert "12315工作指标中，有目标值的2项，达到目标值1项，未达到1项。" in ov
    assert "未达标的是：办结率98.0%（目标值100%）。" in ov
    assert "达标的是：有效投诉调解成功率85.0%（目标值80%）。" in ov
    bd = section(out, "boards").sentences
    assert "南京市：12315工作指标未达目标值的有：办结率95.0%（目标值100%）。" in bd
    assert "江苏省省本级：12315工作指标未达目标值的有：消费者满意率90.0%（目标值95%；仅20条记录，仅供参考）。" in bd
    en = section(compose(make_input(kpis=kpis), "en"), "overview").sentences
    assert "Missed: 办结率 98.0% (target 100%)." in en


def test_short_boards_with_value_reference_trend_and_advice():
    boards = [
        BoardFact("南京市", "weakest", "投诉调解成功率", 0.646, "target", 0.8, is_pct=True, trend="improved",
                  parent_id="complaint_handling"),
        BoardFact("南京市", "weakest", "每万台特种设备事故起数", 0.31, "median", 0.2, trend="within_noise",
                  parent_id="special_equipment_safety"),
        BoardFact("南京市", "strongest", "挽回经济损失率", 0.315, "median", 0.243, is_pct=True, trend="worsened",
                  parent_id="complaint_handling"),
        BoardFact("南京市", "weakest", "新指标", 1.0, "median", 2.0, parent_id="no_advice_written"),
    ]
    s = section(compose(make_input(boards=boards), "zh"), "boards").sentences
    assert s[0] == ("南京市：短板指标为投诉调解成功率64.6%（目标值80.0%，低15.4个百分点），同比有所改善；"
                    "每万台特种设备事故起数0.31（各地中位数0.20，高出0.11），较上期变化在统计误差范围内；"
                    "新指标1.00（各地中位数2.00，低1.00）。")
    assert s[1] == "优势指标为挽回经济损失率31.5%（各地中位数24.3%，高出7.2个百分点），同比有所下滑。"
    assert s[2] == ("建议：加强投诉督办和调解，提高办结率、调解成功率和消费者满意率；加强特种设备安全监察和隐患排查；"
                    "对标先进地区补齐“新指标”短板。")


# ------------------------------------------------------------------------------------ counts, shares, noise
def test_noise_tests_on_counts_and_shares():
    assert count_change_beyond(1100, 1000) is True  # +100 on ~1000: beyond Poisson noise
    assert count_change_beyond(1010, 1000) is False
    assert count_change_beyond(5, None) is None
    assert share_change_beyond(900, 1000, 850, 1000) is True
    assert share_change_beyond(86, 100, 85, 100) is False


def complaints_facts(prev_total: int | None = 1000) -> ComplaintFacts:
    return ComplaintFacts(
        total=CountFact("", 1100, prev_total),
        by_type=[CountFact("投诉", 550, 500), CountFact("举报", 110, 100), CountFact("咨询", 440, 400)],
        online=440, prev_online=300 if prev_total else None, prev_total=prev_total,
        disputed=2_000_000.0, recovered=500_000.0, prev_recovered=400_000.0 if prev_total else None, goods=396, services=264, complaints_reports=660,
        categories=[CountFact("一般食品", 200, 100, share=200 / 660), CountFact("服装鞋帽", 150, 148, share=150 / 660)],
        problems=[CountFact("质量", 300, 290, share=300 / 660)],
        key_categories=[CountFact("家用电子电器", 120, 100, share=120 / 660, online=60, top_problem=("质量", 50)),
                        CountFact("服装鞋帽", 150, 148, share=150 / 660, online=75)])


def test_overview_counts_with_year_on_year_and_noise():
    ov = section(compose(make_input(complaints=complaints_facts()), "zh"), "overview").paragraphs[0]
    assert ov == ("2025年，江苏省12315平台共登记投诉、举报和咨询1,100件，同比增长10.0%（超出统计误差）。",
                  "其中，投诉550件，占50.0%；举报110件，占10.0%；咨询440件，占40.0%。",
                  "投诉举报按客体分，商品类占60.0%，服务类占40.0%。",
                  "涉及网购的440件，占40.0%，占比同比上升10.0个百分点（超出统计误差）。",
                  "共为消费者挽回经济损失50.00万元，同比增长25.0%，占争议金额的25.0%。")
    ov = section(compose(make_input(complaints=complaints_facts(None)), "zh"), "overview").sentences
    assert ov[0] == "2025年，江苏省12315平台共登记投诉、举报和咨询1,100件，2024年无可比数据。"
    assert "涉及网购的440件，占40.0%。" in ov


def test_key_categories_and_hotspots():
    h = HotspotFacts(surges=[SurgeFact("南京市 · 教育培训服务", "2025年3月", 210, 7.7, 27.4)], tested=4536,
                     rising=[CountFact("一般食品", 200, 100), CountFact("服装鞋帽", 150, 148)])
    out = compose(make_input(complaints=complaints_facts(), hotspots=h), "zh")
    kc = section(out, "key_categories").sentences
    assert kc[0] == ("五大类重点商品和服务（家用电子电器、服装鞋帽、装饰装修材料、交通工具、有关服务）共登记投诉举报270件，"
                     "占全部投诉举报的40.9%，同比增长8.9%（变化在统计误差范围内）。")
    assert kc[1] == "家用电子电器120件，占18.2%，同比增长20.0%（变化在统计误差范围内）；其中网购占50.0%；主要问题为质量（50件）。"
    hs = section(out, "hotspots").sentences
    assert hs[0] == "从商品和服务类别看，投诉举报量居前的是一般食品（200件，占30.3%）、服装鞋帽（150件，占22.7%）。"
    assert "增长超出统计误差的有：一般食品（200件，同比增长100.0%）。" in hs  # 服装鞋帽 +1.4% is within noise: not named
    assert hs[-1] == ("按月度序列检验（泊松速率比精确检验，经多重比较校正），在4,536个检验单元中检出异常激增1处："
                      "南京市 · 教育培训服务2025年3月登记210件，为基线月均（7.7件）的27.4倍。")


def test_sampling_and_data_quality():
    sm = SamplingFacts(passed=900, failed=100, prev_passed=950, prev_failed=50, failed_safety=60, failed_label=30,
                       worst=[("家居用品", 191, 41)], key_categories=[("交通工具", 194, 40)], overdue=2)
    q = QualityFacts(rows_checked=40000, rows_quarantined=172, rows_flagged=111, months_checked=12, value_cells=364,
                     small_count_cells=29, self_reported=["明码标价及亮照经营率"])
    out = compose(make_input(sampling=sm, quality=q), "zh")
    s = section(out, "sampling").sentences
    assert s[0] == "2025年共抽检商品1,000批次，不合格100批次，合格率90.0%，同比下降5.0个百分点（超出统计误差）。"
    assert s[1] == "不合格批次中，安全项目不合格60批次，标签标识不合格30批次。"
    assert s[2] == "合格率较低的产品类别（抽检20批次以上）为：家居用品（191批次，不合格41批次，合格率78.5%）。"
    assert s[3].startswith("截至期末，不合格商品核查处置逾期的有2批次")
    assert "抽检方面，交通工具抽检194批次、不合格40批次，合格率79.4%。" in section(out, "key_categories").sentences
    dq = section(out, "data_quality").sentences
    assert dq[0] == "本期12个月的12315数据经数据质量门控检查40,000条，隔离172条（0.43%），警告标记111条；隔离的记录不进入本分析。"
    assert "明码标价及亮照经营率基于各地自报数据，真实性未经核实，解读时需审慎。" in dq


# ------------------------------------------------------------------------------------ page
def test_page_escapes_every_sentence(tmp_path):
    from reports.narrative import build_analysis

    evil = "<script>alert(1)</script>"
    inp = make_input(index=IndexFacts(regions=[RegionFact(name=evil, score=70.0, rank=1)], has_prev=False))
    page = build_analysis(None, "32", "2025", tmp_path, "zh", sections=compose(inp, "zh"))
    text = page.read_text(encoding="utf-8")
    assert evil not in text and html.escape(evil, quote=False) in text
    assert 'id="sec-overview"' in text and 'id="sec-data-quality"' in text
    assert [b for b in page_script_bodies(text) if b.strip()] == []  # text only: no data-bearing script


# ------------------------------------------------------------------------------------ session warehouse
def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _section(page: str, sec_id: str) -> str:
    m = re.search(rf'<section class="narrative" id="{sec_id}"[^>]*>(.*?)</section>', page, flags=re.S)
    assert m, sec_id
    return m.group(1)


def _sentences(fragment: str) -> list[str]:
    return [_text(s) for s in re.findall(r'<span class="sentence">(.*?)</span>', fragment, flags=re.S)]


def test_cei_report_writes_the_analysis_with_the_index_tables_numbers(hostile_reports):
    from tests.conftest import PERIOD, SCOPE, XSS, XSS_ESCAPED

    folder = hostile_reports["zh"]
    assert hostile_reports["cli"]["zh"].exit_code == 0, hostile_reports["cli"]["zh"].output
    page = (folder / "analysis.html").read_text(encoding="utf-8")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'id="link-analysis" href="analysis.html"' in index
    headings = [_text(h) for h in re.findall(r'<section class="narrative" id="sec-[^"]+"[^>]*>\s*<h2>(.*?)</h2>', page)]
    assert headings == [f"{n}、{h}" for n, h in zip("一二三四五六七八", HEADINGS_ZH)]

    # 总体情况: the index numbers are the ranked report's table (and what the index stage stored)
    report = (folder / "index_report.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-region="(\d+)">\s*<td class="num">(\d+)</td>\s*<td>(.*?)</td>\s*'
                      r'<td class="num"><strong>([\d.]+)</strong></td>', report)
    assert len(rows) >= 10
    table = [(code, int(rank), _text(name), float(score)) for code, rank, name, score in rows]
    with duckdb.connect(str(hostile_reports["wh"]), read_only=True) as con:
        stored = dict(con.execute("SELECT region_code, score FROM mart.index_scores WHERE scope = ? AND period = ? "
                                  "AND node_id = 'cei'", [SCOPE, PERIOD]).fetchall())
    assert {c: round(s, 2) for c, _, _, s in table} == {c: round(s, 2) for c, s in stored.items()}
    scores = sorted(s for *_, s in table)
    n = len(scores)
    median = (scores[(n - 1) // 2] + scores[n // 2]) / 2
    best, worst = table[0], table[-1]
    overview = _sentences(_section(page, "sec-overview"))
    expect = (f"消费环境指数参评{n}个地区，综合得分中位数为{median:.2f}分；{best[2]}以{best[3]:.2f}分位列第一，"
              f"{worst[2]}以{worst[3]:.2f}分位列末位。")
    assert abs(sorted(stored.values())[(n - 1) // 2] + sorted(stored.values())[n // 2] - 2 * median) < 0.02
    assert expect in overview, overview
    # the 12315 total is the 12315 analysis page's
    tiles = (folder / "complaints_analysis.html").read_text(encoding="utf-8")
    total = re.search(r'<div class="k">登记总量</div><div class="v">([\d,]+)</div>', tiles).group(1)
    assert overview[0].startswith(f"2025年，江苏省12315平台共登记投诉、举报和咨询{total}件，")
    # the same text opens the ranked report and the dashboard
    for name in ("index_report.html", "dashboard.html"):
        other = (folder / name).read_text(encoding="utf-8")
        opening = re.search(r'<section id="sec-narrative".*?id="link-analysis" href="analysis.html"', other, flags=re.S)
        assert opening, name
        assert _sentences(opening.group(0)) == overview, name
    # every ranked region has its sentence; the hostile name appears only escaped
    ranking = _sentences(_section(page, "sec-ranking"))
    for _, rank, name, score in table:
        assert any(s.startswith(f"{name}综合得分{score:.2f}分，排名第{rank}位") for s in ranking), name
    assert XSS not in page and XSS_ESCAPED in page
    assert "变化在统计误差范围内" in page or "未超出统计误差" in page
    # no internal identifiers on the page
    for ident in ("spec_version", "mart.", "clean.", "index_model", ".sql", "narrative_", "sql/"):
        assert ident not in page, ident
    en = (hostile_reports["en"] / "analysis.html").read_text(encoding="utf-8")
    assert ">1. Overview</h2>" in en and XSS not in en
    assert render.SLOTS["analysis"].filename == "analysis.html"
