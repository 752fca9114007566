"""The rulebook run by the engine on small synthetic batches: every injected defect of the eight
generator families is caught by an error rule of its own family (precision = recall = 1.0), clean
rows raise no error, and the engine's plumbing (row refs, skipped rules, relations) works."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_quality import engine
from data_quality.codes import make_uscc, uscc_check_char
from data_quality.rulebook import GENERATOR_FAMILIES, load_rulebook_full
from ingestion.schema import CHANNELS, GOODS_CATEGORIES, MEDIATION_RESULTS, SATISFACTION_LEVELS
from reference.calendar import WorkdayCalendar
from tests.helpers import first_uncovered_year

CAL = WorkdayCalendar.default()


@pytest.fixture(scope="module")
def engine_con():
    """In-memory DuckDB prepared for the rule engine (macros, calendar tables)."""
    c = duckdb.connect()
    engine.prepare(c)
    yield c
    c.close()
LOADED = pd.Timestamp("2026-06-30 08:00")
REGIONS = ["320812", "320105", "320506", "440305", "110105"]  # valid 2016–2025


def _uscc(rng, region: str) -> str:
    return make_uscc(region, "MA" + "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 6)))


def clean_complaints(n: int, seed: int = 1) -> pd.DataFrame:
    return _clean_complaints(n, seed).copy()


@lru_cache(maxsize=8)
def _clean_complaints(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rtype = ["投诉", "投诉", "投诉", "举报", "咨询"][i % 5]
        received = pd.Timestamp("2024-01-02") + pd.Timedelta(days=int(rng.integers(0, 700)), hours=int(rng.integers(8, 18)))
        region = REGIONS[i % len(REGIONS)]
        row = dict(record_id=f"C{i:05d}", record_type=rtype, channel=CHANNELS[i % len(CHANNELS)],
                   received_at=received, accepted_at=pd.NaT, closed_at=pd.NaT, accept_decision=None,
                   entry_unit_id=f"U{region}", handling_region_code=region, respondent_name=f"测试商贸有限公司{i}",
                   respondent_uscc=_uscc(rng, region), respondent_region_code=region, object_type="商品",
                   category=GOODS_CATEGORIES[i % len(GOODS_CATEGORIES)], problem_type="质量", is_online=bool(i % 2),
                   platform_name=None, amount_disputed=float(rng.integers(50, 5000)), amount_recovered=None,
                   mediation_result=None, settled_by_business=False, case_filed=False, report_substantiated=None,
                   satisfaction=SATISFACTION_LEVELS[i % 4], complainant_key=f"k{i:05d}", complainant_id_valid=True,
                   content=f"第{i}号诉求：购买的商品存在质量问题，要求退货。", loaded_at=LOADED)
        if rtype == "投诉":
            # add_workdays(d, 0) on a weekend gives the working day before d: start counting at 1
            row["accepted_at"] = pd.Timestamp(CAL.add_workdays(received.date(), int(rng.integers(1, 8)))) + pd.Timedelta(hours=18)
            if i % 10 == 0:
                row.update(accept_decision="不予受理", closed_at=row["accepted_at"])
            else:
                res = MEDIATION_RESULTS[i % 3]  # 达成调解协议 / 协商和解成功 / 消费者撤回
                row.update(accept_decision="受理", mediation_result=res,
                           closed_at=pd.Timestamp(CAL.add_workdays(row["accepted_at"].date(), int(rng.integers(1, 45)))),
                           amount_recovered=row["amount_disputed"] if res != "消费者撤回" else 0.0)
        elif rtype == "举报":
            row.update(accept_decision="受理", report_substantiated=bool(i % 2),
                       accepted_at=pd.Timestamp(CAL.add_workdays(received.date(), int(rng.integers(1, 15)))))
        else:
            row.update(amount_disputed=None)
        rows.append(row)
    return pd.DataFrame(rows)


def inject_complaints(df: pd.DataFrame, seed: int = 2) -> tuple[pd.DataFrame, dict[str, set[int]]]:
    """Inject one defect per chosen row (like the synthetic generator); returns row positions per family."""
    rng = np.random.default_rng(seed)
    df = df.copy()
    complaints = [i for i in df.index if df.at[i, "record_type"] == "投诉" and df.at[i, "accept_decision"] == "受理"]
    pool = list(rng.permutation(complaints))
    take = lambda k: [int(pool.pop()) for _ in range(k)]  # noqa: E731
    injected: dict[str, set[int]] = {}
    rows = take(6)
    for j, i in enumerate(rows):
        col = ["received_at", "record_type", "record_id", "handling_region_code", "entry_unit_id", "respondent_name"][j]
        df.at[i, col] = pd.NaT if col == "received_at" else None
    injected["missing_required"] = set(rows)
    rows = take(4)
    for j, i in enumerate(rows):
        u = df.at[i, "respondent_uscc"]
        letter_region = u[:2] + "A" + u[3:17]
        df.at[i, "respondent_uscc"] = [u.lower(),                                   # lower case: strict refusal
                                       u[:17] + ("0" if u[17] != "0" else "1"),      # wrong check character
                                       u[:16],                                       # wrong length
                                       letter_region + uscc_check_char(letter_region)  # letter in positions 3–8
                                       ][j]
    injected["uscc_check"] = set(rows)
    rows = take(3)
    for j, i in enumerate(rows):
        df.at[i, ["handling_region_code", "respondent_region_code", "handling_region_code"][j]] = ["320802", "320811", "999999"][j]
    injected["region_code"] = set(rows)
    rows = take(3)
    for j, i in enumerate(rows):
        if j == 0:
            df.at[i, "accepted_at"] = df.at[i, "received_at"] - pd.Timedelta(days=3)
        elif j == 1:
            df.at[i, "closed_at"] = df.at[i, "accepted_at"] - pd.Timedelta(days=5)
        else:
            df.at[i, "closed_at"] = df.at[i, "received_at"] - pd.Timedelta(hours=1)
            df.at[i, "accepted_at"] = pd.NaT
            df.at[i, "accept_decision"] = "受理"
    injected["chronology"] = set(rows)
    rows = take(2)
    for j, i in enumerate(rows):
        if j == 0:  # acceptance decided after 7 working days
            acc = pd.Timestamp(CAL.add_workdays(df.at[i, "received_at"].date(), 12)) + pd.Timedelta(hours=9)
            df.at[i, "accepted_at"] = acc
            df.at[i, "closed_at"] = pd.Timestamp(CAL.add_workdays(acc.date(), 5))
        else:  # mediation beyond 45 working days
            df.at[i, "closed_at"] = pd.Timestamp(CAL.add_workdays(df.at[i, "accepted_at"].date(), 60))
    injected["statutory_deadline"] = set(rows)
    rows = take(2)
    new = []
    for i in rows:
        dup = df.loc[i].copy()
        dup["record_id"] = df.at[i, "record_id"] + "-D"
        dup["channel"] = "12345转办" if dup["channel"] != "12345转办" else "电话"
        dup["received_at"] = dup["received_at"] + pd.Timedelta(days=4)
        dup["accepted_at"] = dup["closed_at"] = pd.NaT
        dup["accept_decision"] = dup["mediation_result"] = dup["amount_recovered"] = None
        new.append(dup)
    injected["cross_channel_duplicate"] = set(range(len(df), len(df) + len(new)))
    df = pd.concat([df, pd.DataFrame(new).astype(df.dtypes.to_dict())], ignore_index=True)
    rows = take(2)
    df.at[rows[0], "amount_disputed"] = -120.0
    df.at[rows[1], "amount_recovered"] = df.at[rows[1], "amount_disputed"] * 20 + 5000
    injected["impossible_amount"] = set(rows)
    return df, injected


def clean_sampling(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sampled = pd.Timestamp("2024-03-01") + pd.Timedelta(days=int(rng.integers(0, 500)))
        failed = i % 4 == 0
        notified = sampled + pd.Timedelta(days=20)
        region = REGIONS[i % len(REGIONS)]
        rows.append(dict(
            sample_id=f"S{i:05d}", plan_id="P1", sampled_on=sampled, region_code=region,
            venue_type="电商" if i % 5 == 0 else "超市", is_online=i % 5 == 0, product_category="家用电子电器",
            product_name="电水壶", brand="某牌", seller_name=f"销售者{i}", seller_uscc=_uscc(rng, region),
            manufacturer_name="生产者", manufacturer_uscc=_uscc(rng, "440305"), standard_code="GB 4706.19",
            result="不合格" if failed else "合格", failed_items="标志和说明" if failed else None,
            failed_safety_item=False if failed else None, failed_label_item=True if failed else None,
            notified_on=notified, stop_sale_on=notified + pd.Timedelta(days=1) if failed else pd.NaT,
            correction_due_on=notified + pd.Timedelta(days=60) if failed else pd.NaT,
            corrected_on=notified + pd.Timedelta(days=30) if failed else pd.NaT,
            reinspected_on=notified + pd.Timedelta(days=50) if failed else pd.NaT,
            reinspection_result="合格" if failed else None, loaded_at=LOADED))
    return pd.DataFrame(rows)


def inject_sampling(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, set[int]]]:
    df = df.copy()
    failed = [i for i in df.index if df.at[i, "result"] == "不合格"]
    passed = [i for i in df.index if df.at[i, "result"] == "合格"]
    inj = {}
    n0 = df.at[failed[0], "notified_on"]
    df.at[failed[0], "corrected_on"] = n0 + pd.Timedelta(days=61)
    df.at[failed[1], "reinspected_on"] = df.at[failed[1], "notified_on"] + pd.Timedelta(days=90)
    df.at[failed[2], "correction_due_on"] = df.at[failed[2], "notified_on"] + pd.Timedelta(days=75)
    df.at[passed[0], "corrected_on"] = df.at[passed[0], "notified_on"] + pd.Timedelta(days=10)
    inj["sampling_disposal"] = {failed[0], failed[1], failed[2], passed[0]}
    df.at[failed[3], "sampled_on"] = df.at[failed[3], "notified_on"] + pd.Timedelta(days=2)  # notice before sampling
    inj["chronology"] = {failed[3]}
    df.at[passed[1], "seller_uscc"] = df.at[passed[1], "seller_uscc"].lower()
    inj["uscc_check"] = {passed[1]}
    df.at[passed[2], "region_code"] = "320802"
    inj["region_code"] = {passed[2]}
    df.at[passed[3], "result"] = None
    inj["missing_required"] = {passed[3]}
    return df, inj


# Families reported as warnings: late handling is a true fact the index measures, not bad data.
WARN_FAMILIES = {"statutory_deadline"}
LATE_RULES = {"CMP-DDL-001", "CMP-DDL-002", "CMP-DDL-004", "SMP-DSP-002", "SMP-DSP-003", "SMP-DSP-008"}


def _by_family(results: pd.DataFrame) -> dict[str, set[int]]:
    """Rows reported per family: error rules, plus the late-handling warn rules."""
    hit = results[(results.severity == "error") | results.rule_id.isin(LATE_RULES)]
    return {f: set(hit[hit.family == f].row_ref.astype(int)) for f in hit.family.unique()}


def test_clean_complaints_raise_no_errors(engine_con):
    res = engine.evaluate_frame(clean_complaints(400), "complaints", engine_con)
    assert res[res.severity == "error"].empty, res[res.severity == "error"].head(10).to_string()
    assert res.attrs["skipped"] == {}


def test_generator_families_complaints_precision_recall(engine_con):
    df, injected = inject_complaints(clean_complaints(400))
    res = engine.evaluate_frame(df, "complaints", engine_con)
    found = _by_family(res)
    for fam, rows in injected.items():
        assert found.get(fam, set()) == rows, (fam, found.get(fam), rows)
    # and no other family's error rule fired on an injected row (one defect, one family)
    every = set().union(*(rows for fam, rows in injected.items() if fam not in WARN_FAMILIES))
    assert set(res[res.severity == "error"].row_ref.astype(int)) == every


def test_generator_families_sampling_precision_recall(engine_con):
    clean = clean_sampling(200)
    assert engine.evaluate_frame(clean, "sampling_results", engine_con).query("severity == 'error'").empty
    df, injected = inject_sampling(clean)
    found = _by_family(engine.evaluate_frame(df, "sampling_results", engine_con))
    for fam, rows in injected.items():
        assert found.get(fam, set()) == rows, fam
    assert set(found) == set(injected)
    # between them, the complaint and sampling batches inject every family the generator knows
    _, injected_complaints = inject_complaints(clean_complaints(400))
    assert set(injected) | set(injected_complaints) == set(GENERATOR_FAMILIES)


def test_warnings_do_not_quarantine(engine_con):
    df = clean_complaints(50)
    df.at[3, "respondent_uscc"] = "91999999" + "MA1K3BTP2"  # region digits 999999: no GB/T 2260 code
    df.at[3, "respondent_uscc"] += uscc_check_char(df.at[3, "respondent_uscc"])
    df.at[4, "complainant_id_valid"] = False
    df.at[5, "channel"] = None
    res = engine.evaluate_frame(df, "complaints", engine_con)
    assert res[res.severity == "error"].empty
    assert set(res.rule_id) >= {"CMP-USC-002", "CMP-IDN-001", "CMP-REQ-004"}
    assert engine.quarantined(res).empty


def test_deadline_in_uncovered_year_warns_not_errors(engine_con):
    year = first_uncovered_year(CAL)  # the first year without holiday data, from the calendar itself
    df = clean_complaints(5)
    df.loc[0, ["received_at", "accepted_at", "closed_at"]] = [pd.Timestamp(f"{year - 1}-12-20"),
                                                              pd.Timestamp(f"{year}-01-20"), pd.NaT]
    df.loc[0, ["mediation_result", "amount_recovered"]] = [None, None]
    df.loc[0, "loaded_at"] = pd.Timestamp(f"{year}-02-01")
    res = engine.evaluate_frame(df, "complaints", engine_con)
    assert res[res.severity == "error"].empty
    assert "CMP-DDL-005" in set(res.rule_id)


def test_order_121_records_are_judged_with_the_same_numbers(engine_con):
    df = clean_complaints(5).iloc[[0]].copy()
    df["received_at"] = pd.Timestamp("2026-04-15 09:00")
    df["accepted_at"] = pd.Timestamp(CAL.add_workdays(dt.date(2026, 4, 15), 8))
    df["closed_at"] = df["accepted_at"] + pd.Timedelta(days=1)
    res = engine.evaluate_frame(df, "complaints", engine_con)
    hit = res[res.rule_id == "CMP-DDL-001"]
    assert len(hit) == 1 and hit.detail.iloc[0].startswith("SAMR-121: 8 working days > 7")


def test_hotline_and_profiles(engine_con):
    hot = pd.DataFrame({"unit_id": ["U1", "U1", "U2", "U2", None], "region_code": ["320812", "320812", "320802", "320105", "320105"],
                        "month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01", "2025-03-01", "2025-03-01"]),
                        "calls_offered": [1000, 1000, 900, 800, 10], "calls_answered_first": [950, 950, 850, 900, 9],
                        "calls_answered": [990, 990, 880, 790, 10], "loaded_at": LOADED})
    res = engine.evaluate_frame(hot, "hotline_stats", engine_con)
    err = res[res.severity == "error"]
    assert dict(zip(err.rule_id, err.row_ref.astype(int))) == {"HOT-DUP-001": 1, "HOT-REG-001": 2, "HOT-CNT-001": 3,
                                                                "HOT-REQ-001": 4}
    prof = pd.DataFrame({"region_code": ["320800", "320800", "320802", "320105"], "year": [2024, 2025, 2024, 2025],
                         "population": [4_550_000, 4_560_000, 300_000, -5], "market_entities": [500_000] * 4,
                         "annual_report_rate": [0.9, 0.92, 1.2, 0.9], "special_equipment_units": [100] * 4,
                         "special_equipment_accidents": [1, 0, 0, 0], "loaded_at": LOADED})
    for c in ("service_stations", "consumer_org_branches", "protection_staff", "protection_funding_10k_yuan"):
        prof[c] = 10
    res = engine.evaluate_frame(prof, "region_profiles", engine_con)
    err = res[res.severity == "error"]
    assert sorted(zip(err.rule_id, err.row_ref.astype(int))) == [("PRF-PLS-001", 2), ("PRF-PLS-001", 3), ("PRF-REG-001", 2)]


def test_engine_on_a_duckdb_table_with_source_rows():
    df = clean_complaints(20)
    df.insert(0, "load_id", 7)
    df.insert(1, "source_row", range(1, 21))
    df.at[5, "amount_disputed"] = -1.0
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.register("df", df)
    con.execute("CREATE TABLE staging.complaints AS SELECT * FROM df")
    res = engine.evaluate(con, "complaints", "staging.complaints")
    assert res[["record_key", "row_ref", "rule_id"]].values.tolist() == [["C00005", "7:6", "CMP-AMT-001"]], res
    assert set(res.attrs["seconds"]) == {r.id for r in load_rulebook_full().for_table("complaints")}


def test_missing_columns_are_reported_not_fatal(engine_con):
    df = clean_complaints(10).drop(columns=["loaded_at", "complainant_key"])
    res = engine.evaluate_frame(df, "complaints", engine_con)
    assert {"CMP-CHR-002", "CMP-DUP-002"} <= set(res.attrs["skipped"])
    assert "loaded_at" in res.attrs["skipped"]["CMP-CHR-002"]


def test_relation_name_is_checked():
    with pytest.raises(ValueError, match="plain identifiers"):
        engine.evaluate(duckdb.connect(), "complaints", "x; drop table y")


@pytest.mark.slow  # importing GX alone takes ~3 s
def test_gx_suite_flags_the_same_rows_as_sql(engine_con):
    """Two engines, one rulebook: GX on a pandas batch = the SQL engine, for rules with a gx entry."""
    from data_quality.gx_suite import validate_frame

    df, _ = inject_complaints(clean_complaints(120))
    rb = load_rulebook_full()
    gx_rules = {r.id for r in rb.for_table("complaints") if r.gx}
    assert {"CMP-REQ-001", "CMP-COD-001", "CMP-USC-001", "CMP-AMT-001"} <= gx_rules
    sql = engine.evaluate_frame(df, "complaints", engine_con, rule_ids=gx_rules)
    gx_hits = validate_frame(df, "complaints")
    assert set(zip(sql.row_ref, sql.rule_id)) == set(zip(gx_hits.row_ref, gx_hits.rule_id))
    assert len(sql) > 5


def test_report_check_extension_warns_then_errors(engine_con):
    df = clean_complaints(10)
    reports = df.index[df.record_type == "举报"][:2]
    for i, wd in zip(reports, (20, 31)):
        df.at[i, "accepted_at"] = pd.Timestamp(CAL.add_workdays(df.at[i, "received_at"].date(), wd)) + pd.Timedelta(hours=18)
    res = engine.evaluate_frame(df, "complaints", engine_con)
    hits = {(r.rule_id, int(r.row_ref)) for r in res.itertuples()}
    assert ("CMP-DDL-003", reports[0]) in hits and ("CMP-DDL-004", reports[0]) not in hits
    assert ("CMP-DDL-004", reports[1]) in hits and ("CMP-DDL-003", reports[1]) not in hits
    assert res[res.rule_id == "CMP-DDL-003"].severity.unique().tolist() == ["warn"]


def test_repeated_record_id_keeps_the_earliest_loaded_row_on_a_tie():
    """Same record id, same received time, in loads 9 and 10: the survivor is load 9's row. (As text,
    row_ref '10:1' sorts before '9:1', which kept the later delivery.)"""
    df = clean_complaints(3)
    df.insert(0, "load_id", [9, 10, 10])
    df.insert(1, "source_row", [1, 1, 2])
    df.at[1, "record_id"] = df.at[0, "record_id"]
    df.at[1, "received_at"] = df.at[0, "received_at"]
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.register("df", df)
    con.execute("CREATE TABLE staging.complaints AS SELECT * FROM df")
    res = engine.evaluate(con, "complaints", "staging.complaints")
    dup = res[res.rule_id == "CMP-DUP-001"]
    assert dup.row_ref.tolist() == ["10:1"], res


@pytest.mark.slow  # importing GX alone takes ~3 s
def test_gx_partitions_validate_bounded_month_samples():
    """The quality check's GX run (issue 12): each month's batch is at most sample_rows staged rows (the
    whole month when smaller: then the same hits as validate_frame on the month), only counts are kept."""
    from data_quality.gx_suite import validate_frame, validate_partitions
    from data_quality.rulebook import load_rulebook

    df, _ = inject_complaints(clean_complaints(120))
    df = df.reset_index(drop=True)
    df["partition_key"] = ["2025-01" if i % 3 else "2025-02" for i in range(len(df))]
    df["load_id"], df["source_row"] = 1, range(len(df))
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.register("frame", df)
    con.execute("CREATE TABLE staging.complaints AS SELECT * FROM frame")
    errors = [r.id for r in load_rulebook() if r.severity == "error"]
    whole = validate_partitions(con, "complaints", ["2025-01", "2025-02", "2025-03"], errors)
    assert whole.rows_validated == df.partition_key.value_counts().to_dict()  # no rows in March: no batch
    for month, n in whole.rows_validated.items():
        hits = validate_frame(df[df.partition_key == month].drop(columns=["load_id", "source_row"]), "complaints")
        assert whole.rows_failing[month] == hits[hits.rule_id.isin(errors)].row_ref.nunique() > 0
        assert whole.share[month] == whole.rows_failing[month] / n
    assert sum(whole.unexpected_by_rule.values()) == len(validate_frame(df, "complaints"))
    small = validate_partitions(con, "complaints", ["2025-01", "2025-02"], errors, sample_rows=25)
    assert small.rows_validated == {"2025-01": 25, "2025-02": 25}
    assert small.rows_failing == validate_partitions(con, "complaints", ["2025-01", "2025-02"], errors,
                                                     sample_rows=25).rows_failing  # the same rows every run
