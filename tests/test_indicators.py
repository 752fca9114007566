"""Indicator layer (sql/indicators + indicators/): exact numerators and denominators on hand-made
clean tables, scopes, periods, working days across the 2025 National Day holiday (调休), small-count
treatments, idempotent writes to mart.indicator_values, drill-down, and no value spliced into SQL."""
from __future__ import annotations

import ast
import datetime as dt
import re
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from indicators import (
    LIMITS,
    breakdown,
    compute_indicators,
    definitions,
    methodology_markdown,
    methodology_table,
    parse_period,
    region_units,
    scope_units,
    write_indicator_values,
)
from indicators import compute as compute_mod
from indicators.sqlfiles import SQL_DIR, all_files, parameters, sql_text
from index_model import default_spec, load_spec
from ingestion import schema
from ingestion.sqlfiles import sql_text as warehouse_sql
from reference.calendar import UncoveredYearWarning, WorkdayCalendar
from tests.helpers import first_uncovered_year

ROOT = Path(__file__).resolve().parents[1]
A, B, C = "320402", "320404", "320411"  # 常州 天宁 / 钟楼 / 新北
AS_OF = dt.date(2026, 1, 6)
CONTRACT = ["indicator_id", "region_code", "numerator", "denominator", "value", "record_count"]


# ------------------------------------------------------------------------------------------------
# hand-made clean tables with known answers
# ------------------------------------------------------------------------------------------------
def cp(record_id, rtype, handling, received, accepted=None, closed=None, decision=None, *, respondent="",
       channel="电话", problem="质量", mediation=None, satisfaction=None, case=False, substantiated=None,
       settled=False, disputed=None, recovered=None, category="服装鞋帽"):
    return dict(
        record_id=record_id, record_type=rtype, channel=channel, received_at=pd.Timestamp(received),
        accepted_at=pd.Timestamp(accepted) if accepted else None, closed_at=pd.Timestamp(closed) if closed else None,
        accept_decision=decision, entry_unit_id=f"EU{handling}01", handling_region_code=handling,
        respondent_name=f"某某商贸有限公司{respondent or handling}", respondent_uscc=None,
        respondent_region_code=respondent or None, object_type="商品", category=category, problem_type=problem,
        is_online=channel in ("互联网", "微信", "APP"), platform_name=None, amount_disputed=disputed,
        amount_recovered=recovered, mediation_result=mediation, settled_by_business=settled, case_filed=case,
        report_substantiated=substantiated, satisfaction=satisfaction, content=None, complainant_key=None,
        complainant_id_valid=None,
    )


COMPLAINTS = [
    # county A (天宁 320402)
    cp("A1", "投诉", A, "2025-03-03 09:00", "2025-03-05 10:00", "2025-03-14 16:00", "受理", respondent=A,
       channel="互联网", problem="安全", mediation="达成调解协议", satisfaction="满意", settled=True,
       disputed=100, recovered=80, category="家用电子电器"),
    cp("A2", "投诉", A, "2025-03-04 09:00", "2025-03-14 10:00", "2025-04-15 16:00", "受理", respondent=A,
       problem="欺诈", mediation="终止调解", satisfaction="不满意", case=True, disputed=200),
    cp("A3", "投诉", A, "2025-05-06 09:00", "2025-05-07 10:00", "2025-05-07 10:00", "不予受理", respondent=A,
       channel="微信", satisfaction="未回访", disputed=500),
    cp("A4", "举报", A, "2025-06-03 09:00", "2025-06-20 10:00", "2025-07-10 16:00", "受理", respondent=A,
       channel="APP", problem="虚假宣传", satisfaction="基本满意", case=True, substantiated=True, settled=None),
    cp("A5", "咨询", A, "2025-07-01 09:00", None, "2025-07-01 09:30", None, problem=None, satisfaction="满意",
       case=None, settled=None),
    cp("A6", "投诉", A, "2024-12-31 09:00", "2025-01-02 10:00", "2025-01-20 10:00", "受理", respondent=A),
    # received Fri 2025-09-26, decided Fri 10-10: 5 working days (Sun 09-28 is a make-up working day,
    # 10-01..08 National Day); closed Sat 10-11, a make-up working day: 6 working days
    cp("A7", "投诉", A, "2025-09-26 15:00", "2025-10-10 10:00", "2025-10-11 11:00", "受理", respondent=A,
       mediation="协商和解成功", satisfaction="基本满意", disputed=300, recovered=300),
    # report received Fri 2025-09-19, checked Fri 10-17: 16 working days with the make-up days 09-28
    # and 10-11 (14 without them) -> late
    cp("A8", "举报", A, "2025-09-19 10:00", "2025-10-17 10:00", None, "受理", respondent=A, channel="来信",
       problem="广告", substantiated=False, settled=None),
    cp("A9", "投诉", A, "2025-12-10 10:00", respondent=A),  # undecided, limit long passed at AS_OF: due, late
    cp("A10", "投诉", A, "2025-12-31 10:00", respondent=A, channel="互联网", problem="价格"),  # 3 WD at AS_OF: not due
    cp("A11", "投诉", A, "2025-08-01 10:00", "2025-08-04 10:00", "2025-08-20 10:00", "受理", respondent=B,
       problem="食品安全", mediation="消费者撤回", disputed=0),
    # handled in 南京 (outside scope 3204), respondent in C
    cp("A12", "投诉", "320102", "2025-05-05 10:00", "2025-05-06 10:00", "2025-05-20 10:00", "受理", respondent=C,
       problem="人身权利", mediation="达成调解协议"),
    # county B (钟楼 320404)
    cp("B1", "投诉", B, "2025-02-10 09:00", "2025-02-11 09:00", "2025-02-21 09:00", "受理", respondent=B,
       channel="互联网", problem="广告", mediation="协商和解成功", satisfaction="满意", settled=True,
       disputed=50, recovered=50),
    cp("B2", "投诉", B, "2025-04-01 09:00", "2025-04-02 09:00", None, "受理", respondent=B, disputed=80),
    cp("B3", "举报", B, "2025-11-03 09:00", None, None, None, respondent=B, settled=None),
]


def sp(sample_id, region, sampled, category, result, *, label=None, safety=None, items=None, notified=None,
       corrected=None, reinspected=None):
    d = lambda x: pd.Timestamp(x).date() if x else None  # noqa: E731
    return dict(
        sample_id=sample_id, plan_id="P2025", sampled_on=d(sampled), region_code=region, venue_type="超市",
        is_online=False, product_category=category, product_name=f"{category}样品", brand="某牌",
        seller_name=f"某某超市{region}", seller_uscc=None, manufacturer_name="某某制造有限公司", manufacturer_uscc=None,
        standard_code="GB 0000", result=result, failed_items=items, failed_safety_item=safety,
        failed_label_item=label, notified_on=d(notified), stop_sale_on=d(notified), correction_due_on=None,
        corrected_on=d(corrected), reinspected_on=d(reinspected), reinspection_result="合格" if reinspected else None,
    )


SAMPLES = [
    sp("S1", A, "2025-03-10", "家用电子电器", "合格"),
    # notice 05-01, corrected 50 days, re-inspected 70 days later: on time
    sp("S2", A, "2025-04-10", "服装鞋帽", "不合格", label=True, safety=False, items="使用说明",
       notified="2025-05-01", corrected="2025-06-20", reinspected="2025-07-10"),
    # corrected 65 days after the notice: late
    sp("S3", A, "2025-05-10", "家居用品", "不合格", label=False, safety=True, items="甲醛含量、pH值",
       notified="2025-06-01", corrected="2025-08-05", reinspected="2025-08-10"),
    # notice 2025-12-10: 27 days before the cut-off, nothing due yet
    sp("S4", A, "2025-11-20", "交通工具", "不合格", label=True, safety=True, items="制动性能、整车标志",
       notified="2025-12-10"),
    sp("S5", A, "2025-02-01", "化妆品", "合格"),
    # failed, never notified, sampled more than 75 days before the cut-off: due and late
    sp("S6", A, "2025-08-01", "通讯产品", "不合格", items="温升"),
    sp("S7", A, "2024-12-30", "家用电子电器", "合格"),  # outside the period
    sp("S8", B, "2025-06-01", "装饰装修材料", "合格"),
    sp("S9", B, "2025-07-01", "首饰", "不合格", label=False, safety=True, items="镍释放量",
       notified="2025-07-20", corrected="2025-09-10", reinspected="2025-10-01"),
]

HOTLINE = [
    dict(unit_id="HL32040201", region_code=A, month=dt.date(2025, 1, 1), calls_offered=100, calls_answered_first=90, calls_answered=95),
    dict(unit_id="HL32040201", region_code=A, month=dt.date(2025, 7, 1), calls_offered=200, calls_answered_first=170, calls_answered=190),
    dict(unit_id="HL32040201", region_code=A, month=dt.date(2024, 12, 1), calls_offered=50, calls_answered_first=10, calls_answered=20),
    dict(unit_id="HL32040001", region_code="320400", month=dt.date(2025, 3, 1), calls_offered=1000, calls_answered_first=950, calls_answered=980),
]


def prof(code, year, pop, ent, stations, orgs, staff, funding, units, accidents, rate):
    return dict(region_code=code, year=year, population=pop, market_entities=ent, service_stations=stations,
                consumer_org_branches=orgs, protection_staff=staff, protection_funding_10k_yuan=funding,
                special_equipment_units=units, special_equipment_accidents=accidents, annual_report_rate=rate)


PROFILES = [
    prof(A, 2025, 500_000, 50_000, 40, 5, 60, 150.0, 7000, 2, 0.90),
    prof(A, 2024, 480_000, 45_000, 30, 5, 50, 100.0, 6500, 9, 0.70),
    prof(B, 2025, 400_000, 40_000, 20, 4, 30, 80.0, 5000, 0, 0.80),
    prof(C, 2025, 300_000, 30_000, 15, 3, 20, 45.0, 4000, 1, 0.95),
    prof("320400", 2025, 3_000_000, 300_000, 150, 20, 300, 900.0, 40_000, 6, 0.88),  # the prefecture's own row
    prof("320102", 2025, 700_000, 70_000, 60, 6, 70, 200.0, 9000, 3, 0.90),  # 南京: counties only, no own row
    prof("320104", 2025, 300_000, 30_000, 20, 2, 30, 100.0, 3000, 1, 0.70),
]
# 识别便利 figures (default_v2): county A only; the others did not report them
PROFILES[0].update(inspected_businesses=2000, inspected_price_licence_ok=1900, online_shops=400, online_shops_emark=300)


def _insert(con, table: str, rows: list[dict]) -> None:
    df = pd.DataFrame(rows)
    con.register("tmp_rows", df)
    con.execute(f"INSERT INTO clean.{table} BY NAME SELECT * FROM tmp_rows")
    con.unregister("tmp_rows")


def build_clean(con) -> None:
    """clean.* with exactly the columns of staging.* (as the data-quality gate will produce them)."""
    con.execute(warehouse_sql("ddl/warehouse.sql"))
    for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles"):
        con.execute(f"CREATE TABLE clean.{t} AS SELECT * FROM staging.{t}")
    _insert(con, "complaints", COMPLAINTS)
    _insert(con, "sampling_results", SAMPLES)
    _insert(con, "hotline_stats", HOTLINE)
    _insert(con, "region_profiles", PROFILES)


@pytest.fixture
def wh():
    con = duckdb.connect()
    build_clean(con)
    yield con
    con.close()


_DEFAULT = default_spec()
N_IND = len(_DEFAULT.indicator_ids)  # 28 in default_v2 (26 in default_v1: 识别便利 added)


def spec_with(min_records: dict[str, int] | None = None, treatment: str | None = None):
    d = _DEFAULT.to_dict()
    for ind in d["indicators"]:
        if min_records is not None:
            ind["min_records"] = min_records.get(ind["id"], 0)
    if treatment:
        d["methods"]["small_count"]["treatment"] = treatment
    return load_spec(d)


_RAW = spec_with(min_records={})


def raw_spec():
    """default_v1 with min_records 0 everywhere: no small counts, value = raw value."""
    return _RAW


def val(df, iid, region, col="value"):
    r = df[(df.indicator_id == iid) & (df.region_code == region)]
    assert len(r) == 1, (iid, region, len(r))
    return r.iloc[0][col]


def nd(df, iid, region):
    """(numerator, denominator, value, record_count) of one row."""
    r = df[(df.indicator_id == iid) & (df.region_code == region)].iloc[0]
    count = None if pd.isna(r.record_count) else int(r.record_count)
    num = None if pd.isna(r.numerator) else float(r.numerator)
    den = None if pd.isna(r.denominator) else float(r.denominator)
    v = None if pd.isna(r.value) else float(r.value)
    return num, den, v, count


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# exact values, every indicator (scope 3204 = 常州's counties, year 2025, cut-off 2026-01-06)
# ------------------------------------------------------------------------------------------------
# (indicator, county) -> (numerator, denominator, value, record_count); None = NULL
EXPECTED_3204 = {
    # handling performance, county A
    ("online_channel_share", A): (4, 10, 4 / 10, 10),
    ("acceptance_within_7wd_rate", A): (4, 6, 4 / 6, 6),
    ("median_working_days_to_close", A): (None, 4, 11.0, 4),  # 6, 9, 13, 29 working days
    ("closure_rate", A): (4, 4, 1.0, 4),
    ("mediation_success_rate", A): (2, 4, 0.5, 4),
    ("satisfaction_rate", A): (4, 5, 0.8, 5),
    ("money_recovery_ratio", A): (380, 600, 380 / 600, 3),
    ("complaint_to_case_rate", A): (2, 9, 2 / 9, 9),
    ("report_checked_within_15wd_rate", A): (1, 2, 0.5, 2),
    ("report_substantiation_rate", A): (1, 2, 0.5, 2),
    # business conduct, county A (respondent's region)
    ("safety_complaints_per_10k_residents", A): (1, 500_000, 1 * 10000 / 500_000, 1),
    ("complaints_per_10k_entities", A): (6, 50_000, 6 * 10000 / 50_000, 6),
    ("fraud_false_ad_share", A): (1, 6, 1 / 6, 6),
    ("substantiated_reports_per_10k_entities", A): (1, 50_000, 1 * 10000 / 50_000, 1),
    ("business_settled_share", A): (1, 6, 1 / 6, 6),
    # county B
    ("online_channel_share", B): (1, 3, 1 / 3, 3),
    ("acceptance_within_7wd_rate", B): (2, 2, 1.0, 2),
    ("median_working_days_to_close", B): (None, 1, 9.0, 1),
    ("closure_rate", B): (1, 2, 0.5, 2),
    ("mediation_success_rate", B): (1, 1, 1.0, 1),
    ("satisfaction_rate", B): (1, 1, 1.0, 1),
    ("money_recovery_ratio", B): (50, 50, 1.0, 1),
    ("complaint_to_case_rate", B): (0, 3, 0.0, 3),
    ("report_checked_within_15wd_rate", B): (0, 1, 0.0, 1),  # unchecked, past 15 WD at the cut-off
    ("report_substantiation_rate", B): (0, 0, None, 0),
    ("safety_complaints_per_10k_residents", B): (1, 400_000, 1 * 10000 / 400_000, 1),  # A11, respondent in B
    ("complaints_per_10k_entities", B): (3, 40_000, 3 * 10000 / 40_000, 3),
    ("fraud_false_ad_share", B): (1, 3, 1 / 3, 3),
    ("substantiated_reports_per_10k_entities", B): (0, 40_000, 0.0, 0),
    ("business_settled_share", B): (1, 3, 1 / 3, 3),
    # county C: only a complaint against one of its businesses, handled in 南京
    ("online_channel_share", C): (0, 0, None, 0),
    ("closure_rate", C): (0, 0, None, 0),
    ("median_working_days_to_close", C): (None, 0, None, 0),
    ("safety_complaints_per_10k_residents", C): (1, 300_000, 1 * 10000 / 300_000, 1),
    ("complaints_per_10k_entities", C): (1, 30_000, 1 * 10000 / 30_000, 1),
    ("fraud_false_ad_share", C): (0, 1, 0.0, 1),
    ("business_settled_share", C): (0, 1, 0.0, 1),
    # county 320412: no record at all -> per-10k rates are NULL (no data), not 0
    ("complaints_per_10k_entities", "320412"): (None, None, None, 0),
    # sampling
    ("sampling_pass_rate", A): (2, 6, 2 / 6, 6),
    ("key_category_pass_rate", A): (1, 4, 1 / 4, 4),  # S6 通讯产品 is in 家用电子电器 (工商消字〔2013〕133号)
    ("failed_disposed_on_time_rate", A): (1, 3, 1 / 3, 3),  # S2 on time; S3 late; S6 never notified; S4 not due
    ("label_failure_share", A): (2, 3, 2 / 3, 3),
    ("sampling_pass_rate", B): (1, 2, 0.5, 2),
    ("key_category_pass_rate", B): (1, 1, 1.0, 1),
    ("failed_disposed_on_time_rate", B): (1, 1, 1.0, 1),
    ("label_failure_share", B): (0, 1, 0.0, 1),
    ("sampling_pass_rate", C): (0, 0, None, 0),
    # hotline (county-level centre; the prefecture's centre 320400 belongs to no county)
    ("hotline_first_answer_rate", A): (260, 300, 260 / 300, 300),
    ("hotline_first_answer_rate", B): (0, 0, None, 0),
    # region profiles (own rows, 2025)
    ("special_equipment_accidents_per_10k_units", A): (2, 7000, 2 * 10000 / 7000, 2),  # record_count = accidents
    ("annual_report_filing_rate", A): (0.9 * 50_000, 50_000, 0.9, None),
    ("service_stations_per_10k_entities", A): (40, 50_000, 40 * 10000 / 50_000, None),
    ("consumer_orgs_per_10k_residents", A): (45, 500_000, 45 * 10000 / 500_000, None),
    ("protection_funding_per_10k_residents", A): (150, 500_000, 150 * 10000 / 500_000, None),
    ("protection_staff_per_10k_residents", A): (60, 500_000, 60 * 10000 / 500_000, None),
    ("special_equipment_accidents_per_10k_units", B): (0, 5000, 0.0, 0),
    ("price_licence_display_rate", A): (1900, 2000, 0.95, None),
    ("online_licence_emark_rate", A): (300, 400, 0.75, None),
    ("price_licence_display_rate", B): (None, None, None, None),  # not reported
    ("special_equipment_accidents_per_10k_units", "320412"): (None, None, None, None),
}


def test_every_indicator_exact_county_scope(wh):
    df = compute_indicators(wh, "3204", "2025", raw_spec(), as_of=AS_OF)
    spec = _DEFAULT
    # every spec indicator x every county, nothing else
    assert list(dict.fromkeys(df.indicator_id)) == spec.indicator_ids
    assert set(df.region_code) == set(scope_units("3204").unit_code)
    assert len(df) == N_IND * 6
    covered = {i for i, _ in EXPECTED_3204}
    assert covered == set(spec.indicator_ids)
    for (iid, region), (num, den, value, count) in EXPECTED_3204.items():
        got = nd(df, iid, region)
        exp = (num, den, value, count)
        for g, e, what in zip(got, exp, ("numerator", "denominator", "value", "record_count")):
            if e is None:
                assert g is None, (iid, region, what, got)
            else:
                assert g == approx(e), (iid, region, what, got, exp)
    assert (df.scope == "3204").all() and (df.period == "2025").all() and (df.spec_version == _DEFAULT.spec_version).all()
    # with min_records 0 nothing is small and value = raw_value
    assert not df.small_count.any()
    pd.testing.assert_series_equal(df.value, df.raw_value, check_names=False)


def test_median_working_days_by_hand():
    """The working-day spans behind the expected medians, checked against the calendar."""
    cal = WorkdayCalendar.default()
    spans = cal.workdays_between(["2025-03-03", "2025-03-04", "2025-09-26", "2025-08-01", "2025-02-10"],
                                 ["2025-03-14", "2025-04-15", "2025-10-11", "2025-08-20", "2025-02-21"])
    assert list(spans) == [9, 29, 6, 13, 9]
    assert np.median([9, 29, 6, 13]) == 11


def test_national_day_working_days_with_make_up_days(wh):
    """2025 国庆/中秋: 10-01..08 off, Sun 09-28 and Sat 10-11 are working days (调休)."""
    df = compute_indicators(wh, "3204", "2025Q3", raw_spec(), as_of=AS_OF)
    b = breakdown(wh, "3204", "2025Q3", "acceptance_within_7wd_rate", A, as_of=AS_OF)
    a7 = b.records.set_index("record_id").loc["A7"]
    assert a7.wd_to_decision == 5  # 09-28, 09-29, 09-30, 10-09, 10-10; Mon–Fri would say 10
    assert a7.wd_to_close == 6  # + Sat 10-11
    assert a7.in_numerator == 1
    r = breakdown(wh, "3204", "2025Q3", "report_checked_within_15wd_rate", A, as_of=AS_OF)
    a8 = r.records.set_index("record_id").loc["A8"]
    assert a8.wd_to_decision == 16  # 14 without the two make-up days: late only because of 调休
    assert a8.in_numerator == 0
    # Q3 cohort of county A: A5 (咨询), A7, A8, A11
    assert nd(df, "acceptance_within_7wd_rate", A) == (2, 2, 1.0, 2)
    assert nd(df, "report_checked_within_15wd_rate", A) == (0, 1, 0.0, 1)
    assert nd(df, "median_working_days_to_close", A) == (None, 2, 9.5, 2)  # A7 6, A11 13


@pytest.mark.parametrize("period, expected", [
    ("2025Q1", {("acceptance_within_7wd_rate", A): (1, 2, 0.5, 2), ("closure_rate", B): (1, 1, 1.0, 1),
                ("hotline_first_answer_rate", A): (90, 100, 0.9, 100), ("sampling_pass_rate", A): (2, 2, 1.0, 2)}),
    ("2025H1", {("acceptance_within_7wd_rate", A): (2, 3, 2 / 3, 3), ("closure_rate", B): (1, 2, 0.5, 2),
                ("report_checked_within_15wd_rate", A): (1, 1, 1.0, 1),
                ("sampling_pass_rate", A): (2, 4, 0.5, 4), ("hotline_first_answer_rate", A): (90, 100, 0.9, 100)}),
    ("2025H2", {("acceptance_within_7wd_rate", A): (2, 3, 2 / 3, 3),  # A7, A11 on time; A9 overdue; A10 not due
                ("hotline_first_answer_rate", A): (170, 200, 0.85, 200)}),
    ("2025Q4", {("acceptance_within_7wd_rate", A): (0, 1, 0.0, 1), ("report_checked_within_15wd_rate", B): (0, 1, 0.0, 1),
                ("failed_disposed_on_time_rate", A): (0, 0, None, 0)}),
    ("2024", {("closure_rate", A): (1, 1, 1.0, 1), ("hotline_first_answer_rate", A): (10, 50, 0.2, 50),
              ("special_equipment_accidents_per_10k_units", A): (9, 6500, 9 * 10000 / 6500, 9)}),
])
def test_periods(wh, period, expected):
    df = compute_indicators(wh, "3204", period, raw_spec(), as_of=AS_OF)
    assert (df.period == parse_period(period).label).all()
    for (iid, region), exp in expected.items():
        got = nd(df, iid, region)
        for g, e in zip(got, exp):
            assert (g is None and e is None) or g == approx(e), (period, iid, region, got, exp)


def test_quarter_uses_its_years_profile(wh):
    df = compute_indicators(wh, "3204", "2025Q2", raw_spec(), as_of=AS_OF)
    assert nd(df, "protection_staff_per_10k_residents", A) == (60, 500_000, approx(1.2), None)
    # an explicit profile year (yearbooks lag)
    df = compute_indicators(wh, "3204", "2025Q2", raw_spec(), as_of=AS_OF, profile_year=2024,
                            indicators=["protection_staff_per_10k_residents"])
    assert nd(df, "protection_staff_per_10k_residents", A) == (50, 480_000, approx(50 * 10000 / 480_000), None)


def test_years_without_holiday_data_warn(wh):
    year = first_uncovered_year()  # the first year without holiday data, from the calendar itself
    with pytest.warns(UncoveredYearWarning, match=str(year)):
        df = compute_indicators(wh, "3204", str(year), raw_spec(), as_of=dt.date(year + 1, 1, 10))
    assert df.value[df.indicator_id == "closure_rate"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncoveredYearWarning)
        compute_indicators(wh, "3204", "2025", raw_spec(), as_of=AS_OF)


def test_parse_period():
    p = parse_period("2025")
    assert (p.start, p.end, p.kind) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year")
    p = parse_period("2025h2")
    assert (p.label, p.start, p.end) == ("2025H2", dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    p = parse_period("2025Q3")
    assert (p.label, p.start, p.end) == ("2025Q3", dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    p = parse_period("2024Q1")
    assert p.end == dt.date(2024, 3, 31)
    assert parse_period("2024-02").end == dt.date(2024, 2, 29)
    for bad in ("2025Q5", "2025H3", "25", "2025-13", "abc"):
        with pytest.raises(ValueError):
            parse_period(bad)


# ------------------------------------------------------------------------------------------------
# scopes
# ------------------------------------------------------------------------------------------------
def test_scope_units():
    js = scope_units("32")
    assert list(js.unit_code) == [f"32{i:02d}00" for i in range(1, 14)]
    assert (js.unit_level == "prefecture").all()
    cz = scope_units("3204")
    assert list(cz.unit_code) == ["320402", "320404", "320411", "320412", "320413", "320481"]
    cn = scope_units("CN")
    assert len(cn) == 31 and cn.unit_code.str.endswith("0000").all()
    # 直辖市: districts are the units; 省直辖县级 units rank next to the prefectures
    assert len(scope_units("11")) == 16 and "110105" in set(scope_units("11").unit_code)
    hb = set(scope_units("42").unit_code)
    assert {"420100", "429004", "429005", "429006", "429021"} <= hb
    assert set(scope_units("41").unit_code) >= {"410100", "419001"}
    # a prefecture without counties is its own single unit
    assert list(scope_units("4419").unit_code) == ["441900"]
    # 320000 / 320400 are read as the province / prefecture
    assert list(scope_units("320000").unit_code) == list(js.unit_code)
    assert list(scope_units("320400").unit_code) == list(cz.unit_code)


def test_region_units_map_counties_and_abolished_codes():
    m = dict(region_units("32").itertuples(index=False))
    assert m["320402"] == "320400" and m["320400"] == "320400"
    assert m["320802"] == "320800"  # 清河区, abolished, still counts for 淮安
    assert "320000" not in m  # a provincial code belongs to no prefecture
    m = dict(region_units("CN").itertuples(index=False))
    assert m["320402"] == "320000" and m["110105"] == "110000" and m["429004"] == "420000"
    m = dict(region_units("42").itertuples(index=False))
    assert m["429004"] == "429004" and m["420102"] == "420100"
    m = dict(region_units("3204").itertuples(index=False))
    assert m == {c: c for c in scope_units("3204").unit_code}  # the prefecture centre 320400 maps to no county


def test_province_scope_aggregates_counties_to_prefectures(wh):
    df = compute_indicators(wh, "32", "2025", raw_spec(), as_of=AS_OF)
    assert len(df) == N_IND * 13
    cz, nj = "320400", "320100"
    assert nd(df, "closure_rate", cz) == (5, 6, approx(5 / 6), 6)
    assert nd(df, "acceptance_within_7wd_rate", cz) == (6, 8, approx(6 / 8), 8)
    assert nd(df, "median_working_days_to_close", cz) == (None, 5, 9.0, 5)  # 6, 9, 9, 13, 29
    # respondents in 3204 (A12 handled in 南京 counts here) over the prefecture's OWN profile row
    assert nd(df, "complaints_per_10k_entities", cz) == (10, 300_000, approx(10 * 10000 / 300_000), 10)
    assert nd(df, "sampling_pass_rate", cz) == (3, 8, approx(3 / 8), 8)
    # the county-level centre and the prefecture's own centre both count for 320400
    assert nd(df, "hotline_first_answer_rate", cz) == (1210, 1300, approx(1210 / 1300), 1300)
    assert nd(df, "protection_staff_per_10k_residents", cz) == (300, 3_000_000, approx(1.0), None)
    # 南京 handles A12; its businesses have no record -> per-10k NULL; profile = sum of its county rows
    assert nd(df, "closure_rate", nj) == (1, 1, 1.0, 1)
    assert nd(df, "complaints_per_10k_entities", nj) == (None, 100_000, None, 0)
    assert nd(df, "annual_report_filing_rate", nj) == (approx(0.9 * 70_000 + 0.7 * 30_000), 100_000, approx(0.84), None)
    assert nd(df, "protection_staff_per_10k_residents", nj) == (100, 1_000_000, approx(1.0), None)


def test_national_scope(wh):
    df = compute_indicators(wh, "CN", "2025", raw_spec(), as_of=AS_OF)
    assert len(df) == N_IND * 31
    js = "320000"
    assert nd(df, "closure_rate", js) == (6, 7, approx(6 / 7), 7)
    # no province row: 320400's own row + 南京's two county rows (常州's county rows are covered by 320400)
    assert nd(df, "protection_staff_per_10k_residents", js) == (400, 4_000_000, approx(1.0), None)
    assert nd(df, "hotline_first_answer_rate", js) == (1210, 1300, approx(1210 / 1300), 1300)
    assert df[df.region_code == "110000"].value.isna().all()


# ------------------------------------------------------------------------------------------------
# small counts
# ------------------------------------------------------------------------------------------------
def test_small_count_shrink_default_spec(wh):
    df = compute_indicators(wh, "3204", "2025", None, as_of=AS_OF)  # default_v1: min_records 30, shrink
    r = df[(df.indicator_id == "closure_rate") & (df.region_code == A)].iloc[0]
    k, p = 30, 5 / 6  # pooled closure over the units: (4 + 1) / (4 + 2)
    assert r.small_count and r.treatment == "shrink" and r.min_records == k
    assert r.scope_value == approx(p) and r.raw_value == 1.0
    assert r.value == approx((4 + k * p) / (4 + k))
    # per-10k: Poisson–gamma with the count expected at the scope rate
    r = df[(df.indicator_id == "complaints_per_10k_entities") & (df.region_code == A)].iloc[0]
    p = 10 / 120_000 * 10000
    e = 50_000 * p / 10000
    assert r.scope_value == approx(p)
    assert r.value == approx(p * (6 + k) / (e + k))
    # the median shrinks toward the scope-wide median (6, 9, 9, 13, 29 -> 9) with n = 4 closed complaints
    r = df[(df.indicator_id == "median_working_days_to_close") & (df.region_code == A)].iloc[0]
    assert r.scope_value == 9 and r.value == approx((4 * 11 + k * 9) / (4 + k))
    # no value to treat: flagged, not imputed
    r = df[(df.indicator_id == "closure_rate") & (df.region_code == C)].iloc[0]
    assert r.small_count and pd.isna(r.value) and r.treatment is None
    # profile indicators are never small
    prof_rows = df[df.indicator_id == "protection_staff_per_10k_residents"]
    assert not prof_rows.small_count.any() and prof_rows.record_count.isna().all()


def test_small_count_threshold_and_other_treatments(wh):
    mins = {"closure_rate": 3, "hotline_first_answer_rate": 100}
    shrink = compute_indicators(wh, "3204", "2025", spec_with(mins, "shrink"), as_of=AS_OF)
    # A has 4 >= 3 accepted complaints: untouched; B has 2: shrunk (num + k p) / (den + k)
    a = shrink[(shrink.indicator_id == "closure_rate") & (shrink.region_code == A)].iloc[0]
    assert not a.small_count and a.value == 1.0 and a.treatment is None
    b = shrink[(shrink.indicator_id == "closure_rate") & (shrink.region_code == B)].iloc[0]
    assert b.small_count and b.value == approx((1 + 3 * 5 / 6) / (2 + 3))
    h = shrink[(shrink.indicator_id == "hotline_first_answer_rate") & (shrink.region_code == A)].iloc[0]
    assert not h.small_count  # record_count = 300 calls offered
    missing = compute_indicators(wh, "3204", "2025", spec_with(mins, "missing"), as_of=AS_OF)
    b = missing[(missing.indicator_id == "closure_rate") & (missing.region_code == B)].iloc[0]
    assert b.small_count and pd.isna(b.value) and b.raw_value == 0.5 and b.treatment == "missing"
    flag = compute_indicators(wh, "3204", "2025", spec_with(mins, "flag"), as_of=AS_OF)
    b = flag[(flag.indicator_id == "closure_rate") & (flag.region_code == B)].iloc[0]
    assert b.small_count and b.value == 0.5 and b.treatment == "flag"
    # the caller may override the spec's treatment
    over = compute_indicators(wh, "3204", "2025", spec_with(mins, "shrink"), as_of=AS_OF, treatment="missing")
    assert pd.isna(val(over, "closure_rate", B))


# ------------------------------------------------------------------------------------------------
# mart.indicator_values
# ------------------------------------------------------------------------------------------------
def _mart(con):
    return con.execute("SELECT * FROM mart.indicator_values ORDER BY scope, period, indicator_id, region_code").df()


def test_write_is_idempotent_and_replaces_scope_period(con):
    build_clean(con)
    df = compute_indicators(con, "3204", "2025", None, as_of=AS_OF)
    assert write_indicator_values(con, "3204", "2025", df) == N_IND * 6
    first = _mart(con)
    assert list(first.columns) == compute_mod.VALUE_COLUMNS
    write_indicator_values(con, "3204", "2025", df)
    pd.testing.assert_frame_equal(first, _mart(con))
    # another (scope, period) is kept apart
    q3 = compute_indicators(con, "3204", "2025Q3", None, as_of=AS_OF)
    write_indicator_values(con, "3204", "2025Q3", q3)
    assert len(_mart(con)) == 2 * N_IND * 6
    q3_rows = _mart(con).query("period == '2025Q3'").reset_index(drop=True)
    # re-running with other numbers replaces the (scope, period), nothing else
    flagged = compute_indicators(con, "3204", "2025", None, as_of=AS_OF, treatment="flag")
    write_indicator_values(con, "3204", "2025", flagged)
    now = _mart(con)
    assert len(now) == 2 * N_IND * 6
    assert now[(now.period == "2025") & (now.indicator_id == "closure_rate") & (now.region_code == B)].value.iloc[0] == 0.5
    pd.testing.assert_frame_equal(now[now.period == "2025Q3"].reset_index(drop=True), q3_rows)
    # values round-trip: NULLs stay NULL
    row = now[(now.period == "2025") & (now.indicator_id == "median_working_days_to_close") & (now.region_code == A)].iloc[0]
    assert pd.isna(row.numerator) and row.denominator == 4 and row.value == 11.0 and row.record_count == 4


def test_write_failure_leaves_table_unchanged(con, monkeypatch):
    build_clean(con)
    df = compute_indicators(con, "3204", "2025", None, as_of=AS_OF)
    write_indicator_values(con, "3204", "2025", df)
    before = _mart(con)
    import indicators.sqlfiles as sqlfiles_mod

    real_run = sqlfiles_mod.run

    def failing(c, name, params=None):
        if name == "insert_values.sql":
            raise RuntimeError("disk full")
        return real_run(c, name, params)

    monkeypatch.setattr(sqlfiles_mod, "run", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_indicator_values(con, "3204", "2025", df.assign(value=0.0))
    monkeypatch.undo()
    pd.testing.assert_frame_equal(before, _mart(con))


def test_write_rejects_inconsistent_frames(wh):
    df = compute_indicators(wh, "3204", "2025Q1", raw_spec(), as_of=AS_OF)
    with pytest.raises(ValueError, match="period"):
        write_indicator_values(wh, "3204", "2025", df)
    with pytest.raises(ValueError, match="two rows"):
        write_indicator_values(wh, "3204", "2025Q1", pd.concat([df, df.iloc[:1]]))


# ------------------------------------------------------------------------------------------------
# drill-down
# ------------------------------------------------------------------------------------------------
def test_breakdown_records_match_counts(wh):
    df = compute_indicators(wh, "3204", "2025", raw_spec(), as_of=AS_OF)
    for iid, d in definitions().items():
        if d.kind in ("share", "ratio", "median") and d.source in ("complaints", "sampling"):
            regions = (A, B) if iid in ("closure_rate", "report_checked_within_15wd_rate", "fraud_false_ad_share",
                                        "failed_disposed_on_time_rate") else (A,)
            for region in regions:
                b = breakdown(wh, "3204", "2025", iid, region, as_of=AS_OF)
                assert len(b.records) == val(df, iid, region, "record_count"), (iid, region)
                if d.kind == "share":
                    assert b.records.in_numerator.sum() == val(df, iid, region, "numerator"), (iid, region)
                assert b.summary["value"] == val(df, iid, region) or (
                    pd.isna(b.summary["value"]) and pd.isna(val(df, iid, region)))


def test_breakdown_tables(wh):
    b = breakdown(wh, "3204", "2025", "mediation_success_rate", A, as_of=AS_OF)
    assert sorted(b.records.record_id) == ["A1", "A11", "A2", "A7"]
    assert set(b.records.columns).isdisjoint({"complainant_key", "complainant_name", "complainant_phone",
                                               "complainant_id_number", "content"})
    cats = b.tables["by_category"].set_index("category")
    assert cats.loc["服装鞋帽", "records"] == 3 and cats.loc["家用电子电器", "in_numerator"] == 1
    assert "by_respondent" in b.tables and "by_problem_type" in b.tables
    s = breakdown(wh, "3204", "2025", "sampling_pass_rate", A, as_of=AS_OF)
    items = s.tables["failed_items"].set_index("failed_item")
    assert items.loc["甲醛含量", "batches"] == 1 and items.loc["甲醛含量", "sample_ids"] == ["S3"]
    assert set(s.tables["by_product_category"].product_category) >= {"服装鞋帽", "家居用品"}
    m = breakdown(wh, "3204", "2025", "money_recovery_ratio", A, as_of=AS_OF)
    assert m.tables["by_category"].amount_recovered.sum() == 380
    per10k = breakdown(wh, "3204", "2025", "complaints_per_10k_entities", B, as_of=AS_OF)
    assert sorted(per10k.records.record_id) == ["A11", "B1", "B2"]  # A11: handled in A, respondent in B
    h = breakdown(wh, "32", "2025", "hotline_first_answer_rate", "320400", as_of=AS_OF)
    assert h.tables["by_unit"].calls_offered.sum() == 1300
    p = breakdown(wh, "32", "2025", "protection_staff_per_10k_residents", "320100")
    assert dict(zip(p.records.region_code, p.records.role)) == {"320102": "part", "320104": "part"}
    p = breakdown(wh, "CN", "2025", "protection_staff_per_10k_residents", "320000")
    roles = dict(zip(p.records.region_code, p.records.role))
    assert roles["320400"] == "part" and roles["320102"] == "part" and pd.isna(roles["320402"])
    with pytest.raises(ValueError, match="not a unit"):
        breakdown(wh, "3204", "2025", "closure_rate", "320100")


# ------------------------------------------------------------------------------------------------
# SQL hygiene: parameters only, standard constructs, definitions in comments
# ------------------------------------------------------------------------------------------------
class RecordingConnection:
    """Wraps a DuckDB connection and records every SQL text executed."""

    def __init__(self, con):
        self._con = con
        self.statements: list[tuple[str, dict | None]] = []

    def execute(self, sql, params=None):
        self.statements.append((sql, params))
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_only_file_sql_is_executed_with_bound_parameters(con):
    build_clean(con)
    rec = RecordingConnection(con)
    df = compute_indicators(rec, "3204", "2025", None)  # as_of read from the data
    write_indicator_values(rec, "3204", "2025", df)
    breakdown(rec, "3204", "2025", "closure_rate", A)
    breakdown(rec, "3204", "2025", "hotline_first_answer_rate", A)
    breakdown(rec, "3204", "2025", "sampling_pass_rate", A)
    files = {sql_text(f): f for f in all_files()}
    assert rec.statements
    used = set()
    for sql, params in rec.statements:
        assert sql in files, f"SQL not taken verbatim from sql/indicators: {sql[:200]!r}"
        used.add(files[sql])
        assert set(params or {}) == set(parameters(files[sql]))
    assert {"complaints_records.sql", "complaints.sql", "sampling.sql", "hotline.sql", "profiles.sql",
            "delete_values.sql", "insert_values.sql", "complaints_breakdown_members.sql",
            "breakdown_unit_records.sql"} <= used
    # the scope, period, cut-off and region reached DuckDB as parameters, not in the text
    texts = re.sub(r"--[^\n]*", "", "\n".join(files))
    for value in ("3204", "320402", "2025-01-01", "2025-12-31"):
        assert value not in texts


def test_python_never_builds_sql_text():
    """Only indicators/sqlfiles.py calls execute(), and with the text of a file."""
    for path in (ROOT / "indicators").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("execute", "sql", "query"):
                assert path.name == "sqlfiles.py", f"{path.name}:{node.lineno} runs SQL outside sqlfiles.run"
                assert isinstance(node.args[0], ast.Name) and node.args[0].id == "text"
        src = path.read_text(encoding="utf-8")
        assert "import dagster" not in src and "from dagster" not in src


def test_sql_files_are_parameterised_and_portable():
    for f in all_files():
        text = sql_text(f)
        code = re.sub(r"--[^\n]*", "", text)
        assert "{" not in code and "%s" not in code and "?" not in code, f
        # DuckDB-only constructs kept out of the indicator SQL (portable to Spark SQL)
        for construct in ("::", "date_diff", "datediff", "strftime", "list_", "unnest", "query_table", "QUALIFY",
                          "EXCLUDE", "->", "regexp_"):
            assert construct.lower() not in code.lower(), (f, construct)
    # every limit is a parameter, never a literal
    records = re.sub(r"--[^\n]*", "", sql_text("complaints_records.sql") + sql_text("sampling_records.sql"))
    for name in LIMITS:
        assert f"${name}" in records
    for literal in ("<= 7", "<= 15", "<= 60", "<= 75", "> 7", "> 15", "> 60", "> 75"):
        assert literal not in records


def test_sql_vocabularies_match_schema():
    rec = sql_text("complaints_records.sql")
    success = ", ".join(f"'{v}'" for v in schema.MEDIATION_SUCCESS)
    assert f"mediation_result IN ({success})" in rec
    rated = ", ".join(f"'{v}'" for v in schema.SATISFACTION_LEVELS if v != "未回访")
    assert f"satisfaction IN ({rated})" in rec
    for v in ("互联网", "微信", "APP"):
        assert v in schema.CHANNELS
    for literal in re.findall(r"problem_type IN \(([^)]*)\)", rec):
        for v in re.findall(r"'([^']*)'", literal):
            assert v in schema.PROBLEM_TYPES, v
    goods = [c for c in schema.KEY_CATEGORIES if c in schema.GOODS_CATEGORIES]
    assert goods == ["家用电子电器", "服装鞋帽", "装饰装修材料", "交通工具"]
    # key-area membership comes from the one mapping table (reference/data/key_categories.csv), not a list
    samp = sql_text("sampling_records.sql")
    assert "JOIN ind_key_categories kk ON kk.category = d.product_category" in samp
    assert "product_category IN (" not in samp
    assert set(re.findall(r"record_type (?:IN \(|= )'([^']+)'", rec)) <= set(schema.RECORD_TYPES)


def test_limits_agree_with_data_quality_deadlines():
    from data_quality import deadlines
    by_id = {(d.regulation, d.limit_id): d.days for d in deadlines.DEADLINES}
    assert by_id[("SAMR-20", "acceptance")] == LIMITS["accept_limit_wd"]
    assert by_id[("SAMR-20", "report_check")] == LIMITS["report_check_limit_wd"]
    assert by_id[("SAMR-18", "correction")] == LIMITS["correction_limit_days"]
    assert by_id[("SAMR-18", "reinspection")] == LIMITS["reinspection_limit_days"]


def test_methodology_table_covers_the_spec():
    spec = _DEFAULT
    t = methodology_table(spec)
    assert list(t.indicator_id) == spec.indicator_ids
    for _, r in t.iterrows():
        assert r.definition_zh and r.definition_en and r.numerator and r.denominator and r.date_basis, r.indicator_id
        path = ROOT / r.sql_file
        assert path.exists()
        assert f"-- @indicator {r.indicator_id}\n" in path.read_text(encoding="utf-8")
    acc = t.set_index("indicator_id").loc["acceptance_within_7wd_rate"]
    assert "第十四条" in acc.definition_zh  # continuation lines are joined
    assert acc.min_records == 30 and acc.small_count_treatment == "shrink"
    assert pd.isna(t.set_index("indicator_id").loc["annual_report_filing_rate"].min_records)
    md = methodology_markdown(spec)
    assert md.count("\n") == N_IND + 2 and "投诉办结率" in md
    # the committed copy is in step with the SQL comments (regenerate: python -m indicators methodology)
    committed = (SQL_DIR / "METHODOLOGY.md").read_text(encoding="utf-8")
    assert committed.endswith(md), "sql/indicators/METHODOLOGY.md is stale: python -m indicators methodology > it"


def test_unknown_indicator_and_missing_tables(wh):
    d = _DEFAULT.to_dict()
    d["indicators"].append({"id": "made_up_rate", "direction": 1})
    d["aggregates"][[a["id"] for a in d["aggregates"]].index("complaint_handling")]["children"].append("made_up_rate")
    with pytest.raises(ValueError, match="made_up_rate"):
        compute_indicators(wh, "3204", "2025", load_spec(d))
    empty = duckdb.connect()
    empty.execute(warehouse_sql("ddl/warehouse.sql"))
    with pytest.raises(LookupError, match="clean.complaints"):
        compute_indicators(empty, "3204", "2025")
    # a subset of the spec runs only its sources
    empty.execute("CREATE TABLE clean.hotline_stats AS SELECT * FROM staging.hotline_stats")
    out = compute_indicators(empty, "3204", "2025", indicators=["hotline_first_answer_rate"])
    assert len(out) == 6 and out.value.isna().all()


# ------------------------------------------------------------------------------------------------
# synthetic generator output
# ------------------------------------------------------------------------------------------------
_CASTS = {"text": "NULLIF({c}, '')", "timestamp": "CAST(NULLIF({c}, '') AS TIMESTAMP)",
          "date": "CAST(NULLIF({c}, '') AS DATE)", "bool": "CASE {c} WHEN '是' THEN TRUE WHEN '否' THEN FALSE END",
          "decimal": "CAST(NULLIF({c}, '') AS DECIMAL(14,2))", "int": "CAST(NULLIF({c}, '') AS BIGINT)",
          "double": "CAST(NULLIF({c}, '') AS DOUBLE)"}


def _load_generated(con, folder: Path) -> None:
    """The generator's clean (defect-free) CSVs typed straight into clean.* — a stand-in for
    ingest + the data-quality gate, fast enough for the default test run."""
    con.execute(warehouse_sql("ddl/warehouse.sql"))
    for t in schema.TABLES.values():
        con.execute(f"CREATE TABLE clean.{t.name} AS SELECT * FROM staging.{t.name}")
        cols = [c for c in t.columns if not c.pii]
        select = ", ".join(_CASTS[c.type].format(c=c.name) + f" AS {c.name}" for c in cols)
        con.execute(f"INSERT INTO clean.{t.name} BY NAME SELECT {select} "
                    f"FROM read_csv($files, all_varchar = true, header = true)",
                    {"files": sorted(str(p) for p in folder.glob(f"{t.name}_*.csv"))})


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    import synthetic

    out = tmp_path_factory.mktemp("landing")
    synthetic.generate(synthetic.GeneratorConfig(scope="3204", years=(2025,), records_per_year=4000, seed=3,
                                                 out_dir=out, defect_rate=0.0, pii_in_content=0.0))
    return out


def test_synthetic_output(generated):
    con = duckdb.connect()
    _load_generated(con, generated)
    assert con.execute("SELECT count(*) FROM clean.complaints").fetchall()[0][0] >= 4000
    df = compute_indicators(con, "3204", "2025", raw_spec())
    assert len(df) == N_IND * 6
    w = df.pivot(index="region_code", columns="indicator_id", values="value")
    # the generator keeps every statutory limit (decision 0-6 WD, report check 1-14 WD, correction <= 60
    # and re-inspection <= 75 days): our working-day and calendar-day counts must agree exactly
    for iid in ("acceptance_within_7wd_rate", "report_checked_within_15wd_rate", "failed_disposed_on_time_rate"):
        assert (w[iid].dropna() == 1.0).all(), iid
    assert w["acceptance_within_7wd_rate"].notna().all()
    shares = [i for i, d in definitions().items() if d.kind == "share"]
    assert ((w[shares] >= 0) & (w[shares] <= 1) | w[shares].isna()).all().all()
    assert w["mediation_success_rate"].between(0.2, 0.85).all()
    assert w["sampling_pass_rate"].between(0.5, 1.0).all()
    # hotline centres are prefecture-level: no county has a value
    assert w["hotline_first_answer_rate"].isna().all()
    # profiles: the generator writes one row per county
    assert w["protection_staff_per_10k_residents"].notna().all()
    write_indicator_values(con, "3204", "2025", df)
    assert con.execute("SELECT count(*) FROM mart.indicator_values").fetchall()[0][0] == N_IND * 6


@pytest.mark.slow
def test_synthetic_through_ingest(generated, con):
    """The same through the real ingestion (staging), clean = staging (no quarantine)."""
    from ingestion.loader import ingest_paths

    ingest_paths(con, [generated])
    for t in schema.TABLES:
        con.execute(f"CREATE TABLE clean.{t} AS SELECT * FROM staging.{t}")
    df = compute_indicators(con, "32", "2025", raw_spec())
    cz = df[df.region_code == "320400"].set_index("indicator_id").value
    assert cz["acceptance_within_7wd_rate"] == 1.0 and cz["report_checked_within_15wd_rate"] == 1.0
    assert 0 < cz["hotline_first_answer_rate"] < 1
