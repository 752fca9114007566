"""KPI scorecard (reports/kpi.py, reports/kpi_scorecard.py, sql/reports/kpi_*.sql): the definitions of the
source documents, counted by the index indicators' own per-record rules, on hand-made records.

Scope 3204 (常州), period 2025H1, data cut-off 2025-06-30 unless a test says otherwise.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion.sqlfiles import create_warehouse_tables
from reports.kpi import INFO, KPI_BY_ID, KPIS, kpi_rate, kpi_status, scorecard
from reports.kpi_scorecard import TOTAL, collect, prepare, with_total
from reports.periods import parse_period
from reports.scope import as_scope

SOURCES = Path(__file__).parent / "data" / "sources"
AS_OF = dt.date(2025, 6, 30)

# --- the quotes are the documents' own words --------------------------------------------------------------
DOC_FILES = {
    "工商消字〔2013〕133号": "2013_工商消字133号_重点领域消费维权.txt",
    "〔2013〕133号": "2013_工商消字133号_重点领域消费维权.txt",
    "〔2016〕204号": "2016_工商消字204号_互联网领域消费者权益保护.txt",
    "工商消字〔2017〕22号": "2017_工商消字22号_12315消费者权益保护.txt",
    "〔2017〕22号": "2017_工商消字22号_12315消费者权益保护.txt",
    "常工商消〔2018〕1号": "2018_常工商消1号_常州消保工作意见.txt",
    "2023年消费者权益保护工作意见": "2023_消费者权益保护工作意见_范文.txt",
}
# the 2018 copy is in traditional characters with pinyin after some of them: 調(diào)解
TRADITIONAL = str.maketrans("電話訴調辦結滿務維權確費蓋場監轉於", "电话诉调办结满务维权确费盖场监转于")
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
MARKS = re.compile(r"[\s“”‘’\"'「」『』]")


def _normal(text: str) -> str:
    return MARKS.sub("", PINYIN.sub("", text).translate(TRADITIONAL))


def _quotes(kpi) -> list[tuple[str, list[str]]]:
    """(quoted passage, [document tags]) pairs of ``quote_zh``: “…”（doc、doc）."""
    pairs = re.findall(r"“(.+?)”（([^）]+)）(?:；|$)", kpi.quote_zh)
    out = []
    for passage, docs in pairs:
        tags = [d for d in re.split(r"、", docs)]
        out.append((passage, tags))
    return out


@pytest.mark.parametrize("kpi", KPIS, ids=[k.id for k in KPIS])
def test_every_quote_is_in_the_document_it_names(kpi):
    pairs = _quotes(kpi)
    assert pairs, f"{kpi.id}: no quoted passage"
    for passage, tags in pairs:
        for tag in tags:
            name = DOC_FILES[tag]
            text = _normal((SOURCES / name).read_text(encoding="utf-8"))
            assert _normal(passage) in text, f"{kpi.id}: “{passage}” not in {name}"


def test_quote_check_can_fail():
    text = _normal((SOURCES / DOC_FILES["常工商消〔2018〕1号"]).read_text(encoding="utf-8"))
    assert _normal("有效投诉调解成功率80%以上") in text  # 有效投訴調(diào)解成功率80%以上 in the copy
    assert _normal("有效投诉调解成功率85%以上") not in text
    assert _normal("全年各市场监管局“诉转案”率不低于5%") in text


def test_basis_cites_documents_not_internal_files():
    for k in KPIS:
        assert not re.search(r"\.(py|sql|md|txt|yaml)\b|docs/|sources/|reports/|DESIGN|§", k.basis), k.id
        assert re.search(r"〔20\d\d〕\d+号|总局令第20号|范文", k.basis), k.id


def test_targets_and_kpis_follow_the_documents():
    assert [k.zh for k in KPIS] == ["电话首次接通率", "办结率", "有效投诉调解成功率", "消费者满意率", "回访率",
                                    "诉转案率（投诉+举报）", "投诉转案率（申诉转案率）", "举报转案率", "举报查实率",
                                    "12315消费维权服务站（每万户市场主体）"]
    assert {k.id: k.target_float for k in KPIS if k.target is not None} == {
        "first_answer_rate": 0.95, "closure_rate": 1.0, "mediation_success_rate": 0.80, "satisfaction_rate": 0.95,
        "case_rate": 0.05}
    # the first-attempt rate counts first-attempt answers, not any answer
    assert KPI_BY_ID["first_answer_rate"].numerator == "calls_answered_first"


def test_status_without_a_target_is_info_and_never_judged():
    from fractions import Fraction

    assert kpi_status(3, 4, None) == INFO and kpi_status(0, 0, None) == "none"
    assert kpi_status(95, 100, Fraction("0.95")) == "green" and kpi_status(94, 100, Fraction("0.95")) == "red"
    assert kpi_rate(3, 40000, 10000) == 0.75


# --- counts on hand-made records ------------------------------------------------------------------------
def _rec(rid, code, rtype, received, accepted=None, closed=None, decision=None, mediation=None, satisfaction=None,
         case=False, substantiated=None):
    ts = lambda v: None if v is None else pd.Timestamp(v)  # noqa: E731
    return {"record_id": rid, "record_type": rtype, "channel": "电话", "received_at": ts(received),
            "accepted_at": ts(accepted), "closed_at": ts(closed), "accept_decision": decision,
            "entry_unit_id": f"EU{code}01", "handling_region_code": code, "respondent_name": "某公司",
            "respondent_region_code": code, "object_type": "商品", "category": "服装鞋帽", "problem_type": "质量",
            "is_online": False, "mediation_result": mediation, "settled_by_business": False, "case_filed": case,
            "report_substantiated": substantiated, "satisfaction": satisfaction}


RECORDS = [
    # 320402 天宁区
    _rec("c1", "320402", "投诉", "2025-01-06 09:00", "2025-01-07 10:00", "2025-01-20 10:00", "受理", "达成调解协议", "满意", True),
    _rec("c2", "320402", "投诉", "2025-01-06 09:30", "2025-01-07 10:00", "2025-02-20 10:00", "受理", "终止调解", "不满意"),
    _rec("c3", "320402", "投诉", "2025-01-08 09:00", "2025-01-09 10:00", None, "受理"),  # open far past 45 WD: due, unfinished
    _rec("c4", "320402", "投诉", "2025-06-16 09:00", "2025-06-17 10:00", None, "受理"),  # within 45 WD at the cut-off: 在办
    _rec("c5", "320402", "投诉", "2025-02-03 09:00", "2025-02-05 10:00", "2025-02-05 10:00", "不予受理", None, "未回访"),
    _rec("r1", "320402", "举报", "2025-03-03 09:00", "2025-03-10 10:00", "2025-03-10 10:00", None, None, "基本满意", True, True),
    _rec("r2", "320402", "举报", "2025-03-03 09:30", "2025-03-10 10:00", "2025-03-10 10:00", None, None, "未回访", False, False),
    _rec("r3", "320402", "举报", "2025-06-25 09:00"),  # still being checked: no finding yet
    _rec("q1", "320402", "咨询", "2025-04-01 09:00", None, "2025-04-01 09:20", None, None, "满意"),
    _rec("c6", "320402", "投诉", "2025-07-02 09:00", "2025-07-03 10:00", None, "受理"),  # H2: outside the period
    # 320404 钟楼区, and the city bureau itself (市本级)
    _rec("d1", "320404", "投诉", "2025-01-13 09:00", "2025-01-14 10:00", "2025-02-01 10:00", "受理", "协商和解成功", "满意"),
    _rec("e1", "320400", "投诉", "2025-01-13 09:00", "2025-01-14 10:00", "2025-02-03 10:00", "受理", "消费者撤回", "满意"),
]
HOTLINE = [
    {"unit_id": "HL1", "region_code": "320402", "month": dt.date(2025, 1, 1), "calls_offered": 1000,
     "calls_answered_first": 950, "calls_answered": 980},
    {"unit_id": "HL1", "region_code": "320402", "month": dt.date(2025, 2, 1), "calls_offered": 500,
     "calls_answered_first": None, "calls_answered": 490},  # no first-attempt count: left out of both
    {"unit_id": "HL1", "region_code": "320402", "month": dt.date(2025, 7, 1), "calls_offered": 700,
     "calls_answered_first": 10, "calls_answered": 690},  # H2
    {"unit_id": "HL2", "region_code": "320404", "month": dt.date(2025, 3, 1), "calls_offered": 1000,
     "calls_answered_first": 949, "calls_answered": 999},
]
PROFILES = [
    {"region_code": "320402", "year": 2025, "population": 700000, "market_entities": 40000, "service_stations": 12},
    {"region_code": "320402", "year": 2024, "population": 700000, "market_entities": 30000, "service_stations": 99},
]


def _warehouse(records=RECORDS, hotline=HOTLINE, profiles=PROFILES):
    con = duckdb.connect()
    create_warehouse_tables(con)
    for name, rows in {"complaints": records, "hotline_stats": hotline, "region_profiles": profiles,
                       "sampling_results": []}.items():
        con.execute(f"CREATE OR REPLACE TABLE clean.{name} AS SELECT * FROM staging.{name} LIMIT 0")
        if rows:
            con.register("_frame", pd.DataFrame(rows))
            con.execute(f"INSERT INTO clean.{name} BY NAME SELECT * FROM _frame")
            con.unregister("_frame")
    return con


@pytest.fixture(scope="module")
def counts():
    con = _warehouse()
    df, hotline_present, as_of = collect(con, as_scope("3204"), parse_period("2025H1"), as_of=AS_OF)
    con.close()
    assert hotline_present and as_of == AS_OF
    return df.set_index("unit_code")


def test_complaint_counts_per_bureau(counts):
    u = counts.loc["320402"]
    got = {c: int(u[c]) for c in (
        "closed", "closure_due", "in_progress", "mediation_success", "mediation_ended", "satisfied", "callbacks",
        "callbacks_of_closed", "closed_items", "cases_filed", "complaints_and_reports", "complaint_cases",
        "complaints_case_known", "report_cases", "reports_case_known", "reports_substantiated", "reports_checked")}
    assert got == {
        "closed": 2, "closure_due": 3, "in_progress": 1,  # c1, c2 closed; c3 overdue; c4 在办; c5 not accepted
        "mediation_success": 1, "mediation_ended": 2,  # c1 of c1, c2 (c3, c4 still without a result)
        "satisfied": 3, "callbacks": 4,  # c1, r1, q1 of c1, c2, r1, q1 (未回访 excluded)
        "callbacks_of_closed": 4, "closed_items": 6,  # c1 c2 c5 r1 r2 q1 closed
        "cases_filed": 2, "complaints_and_reports": 8, "complaint_cases": 1, "complaints_case_known": 5,
        "report_cases": 1, "reports_case_known": 3, "reports_substantiated": 1, "reports_checked": 2}
    assert "320400" in counts.index  # the city bureau itself is graded too (市本级)
    assert int(counts.loc["320404", "mediation_success"]) == 1 and int(counts.loc["320400", "mediation_success"]) == 0


def test_hotline_counts_first_attempt_only(counts):
    assert (int(counts.loc["320402", "calls_answered_first"]), int(counts.loc["320402", "calls_offered"])) == (950, 1000)
    assert (int(counts.loc["320404", "calls_answered_first"]), int(counts.loc["320404", "calls_offered"])) == (949, 1000)


def test_service_stations_from_the_year_profile(counts):
    assert (int(counts.loc["320402", "service_stations"]), int(counts.loc["320402", "market_entities"])) == (12, 40000)
    assert int(counts.loc["320404", "market_entities"]) == 0  # no profile: no denominator


def test_scorecard_rates_and_colours(counts):
    sc = scorecard(with_total(counts.reset_index())).set_index(["unit_code", "kpi_id"])
    s = lambda u, k: (sc.loc[(u, k), "status"], round(float(sc.loc[(u, k), "rate"]), 6))  # noqa: E731
    assert s("320402", "first_answer_rate") == ("green", 0.95)
    assert s("320404", "first_answer_rate") == ("red", 0.949)
    assert s("320402", "closure_rate") == ("red", round(2 / 3, 6))
    assert s("320404", "closure_rate") == ("green", 1.0)
    assert s("320402", "mediation_success_rate") == ("red", 0.5)
    assert s("320402", "satisfaction_rate") == ("red", 0.75)
    assert s("320402", "callback_rate") == ("info", round(4 / 6, 6))
    assert s("320402", "case_rate") == ("green", 0.25)  # 2/8 >= 5 %
    assert s("320404", "case_rate") == ("red", 0.0)
    assert s("320402", "complaint_case_rate") == ("info", 0.2)
    assert s("320402", "report_case_rate") == ("info", round(1 / 3, 6))
    assert s("320402", "report_substantiation_rate") == ("info", 0.5)
    assert s("320402", "service_station_density") == ("info", 3.0)
    assert sc.loc[("320404", "service_station_density"), "status"] == "none"
    total = sc.loc[TOTAL]
    assert (int(total.loc["closure_rate", "numerator"]), int(total.loc["closure_rate", "denominator"])) == (4, 5)
    assert (int(total.loc["first_answer_rate", "numerator"]), int(total.loc["first_answer_rate", "denominator"])) == (1899, 2000)


def test_in_progress_is_not_a_failure():
    """The same records judged a month after c4's acceptance + 45 working days: c4 becomes due and unfinished."""
    con = _warehouse()
    early, _, _ = collect(con, as_scope("3204"), parse_period("2025H1"), as_of=AS_OF)
    late, _, _ = collect(con, as_scope("3204"), parse_period("2025H1"), as_of=dt.date(2025, 9, 30))
    con.close()
    e, l_ = early.set_index("unit_code").loc["320402"], late.set_index("unit_code").loc["320402"]
    assert (int(e.closed), int(e.closure_due), int(e.in_progress)) == (2, 3, 1)
    assert (int(l_.closed), int(l_.closure_due), int(l_.in_progress)) == (2, 4, 0)


def test_kpi_counts_equal_the_index_indicators():
    """One definition: the scorecard's counts are the index indicators' numerators and denominators."""
    from indicators.compute import compute_indicators

    con = _warehouse()
    counts, _, _ = collect(con, as_scope("3204"), parse_period("2025H1"), as_of=AS_OF)
    ind = compute_indicators(con, "3204", "2025H1", as_of=AS_OF)
    con.close()
    ind = ind[ind.region_code == "320402"].set_index("indicator_id")
    k = counts.set_index("unit_code").loc["320402"]
    for indicator, (num, den) in {"closure_rate": ("closed", "closure_due"),
                                  "mediation_success_rate": ("mediation_success", "mediation_ended"),
                                  "satisfaction_rate": ("satisfied", "callbacks"),
                                  "complaint_to_case_rate": ("cases_filed", "complaints_and_reports"),
                                  "report_substantiation_rate": ("reports_substantiated", "reports_checked"),
                                  "hotline_first_answer_rate": ("calls_answered_first", "calls_offered")}.items():
        assert (ind.loc[indicator, "numerator"], ind.loc[indicator, "denominator"]) == (k[num], k[den]), indicator


def test_page_quotes_each_definition_and_shows_in_progress(tmp_path):
    from reports import build_kpi_scorecard

    con = _warehouse()
    page = build_kpi_scorecard(con, "3204", "2025H1", tmp_path).read_text(encoding="utf-8")
    con.close()
    assert 'data-note="closure_rate">在办 1<' in page
    assert "电话首次接通率95%以上" in page and "有效投诉调解成功率80%以上" in page and "举报查实率" in page
    assert 'data-kpi="callback_rate" data-status="info"' in page
    assert 'id="kpi-station-note"' in page
    assert "reports/kpi.py" not in page and "docs/domain.md" not in page  # the basis cites documents
    assert "数据截止日 2025-07-03" in page  # the latest event in clean.complaints: c6 accepted 2025-07-03


def test_prepare_counts_only_kpis_with_a_target_as_judged(counts):
    ctx = prepare(counts.reset_index(), True, as_scope("3204"), "zh", AS_OF)
    row = next(r for r in ctx["rows"] if r["unit_code"] == "320402")
    assert row["met"] == "2/5"  # 首次接通率 and 诉转案率 met; 办结率, 调解成功率, 满意率 missed; the rest not judged


def test_the_counts_leave_no_work_tables_behind():
    """collect() drops the indicator work tables it built (every record of the period in
    ind_complaint_records): left on the connection, the drill-down built a second copy beside it and
    DuckDB ran out of memory at 44M records (BENCHMARKS.md, the national year)."""
    con = _warehouse()
    try:
        collect(con, as_scope("3204"), parse_period("2025H1"), as_of=AS_OF)
        temp = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
        assert not temp & {"ind_complaint_records", "ind_profile_rows", "ind_unit_profiles"}, temp
    finally:
        con.close()
