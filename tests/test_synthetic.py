"""The synthetic data generator (synthetic/): contract, realism, calibration, determinism, defects.

Small runs only (province 32 with 6–8k records a year, prefecture 3204 with 1.5k): the whole file
takes well under a minute. Identifier checks use python-stdnum, deadline checks the reference
working-day calendar — independent of the generator's own code.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from ingestion.schema import (
    ACCEPT_DECISIONS, CHANNELS, COMPLAINTS, GOODS_CATEGORIES, HOTLINE, MEDIATION_RESULTS, MEDIATION_SUCCESS,
    PROBLEM_TYPES, RECORD_TYPES, REGION_PROFILES, SAMPLING, SAMPLING_RESULTS, SATISFACTION_LEVELS,
    SERVICE_CATEGORIES, TABLES, VENUE_TYPES,
)
from reference import admin_divisions_history, resolve_scope
from reference.calendar import WorkdayCalendar
from synthetic import GeneratorConfig, as_years, generate
from synthetic import validate as V
from synthetic.defects import FAMILIES
from synthetic.regions import TRAITS
from synthetic.text import car_summaries

CLEAN = dict(scope="32", years=(2024, 2025), records_per_year=8000, seed=11)
DEFECTIVE = dict(scope="32", years=(2024, 2025), records_per_year=6000, seed=5, defect_rate=0.05)
SMALL = dict(scope="3204", years=(2025,), records_per_year=1500, seed=3, defect_rate=0.04)
CAL = WorkdayCalendar.default()


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d %H:%M:%S")


def _d(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None))


def spearman(a, b) -> float:
    a, b = pd.Series(np.asarray(a, dtype=float)), pd.Series(np.asarray(b, dtype=float))
    return float(a.rank().corr(b.rank()))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    summary = generate(GeneratorConfig(**CLEAN, out_dir=out))
    tables = {t: V.read_table(out, t) for t in TABLES}
    return out, summary, tables


@pytest.fixture(scope="module")
def defective(tmp_path_factory):
    out = tmp_path_factory.mktemp("defective")
    summary = generate(GeneratorConfig(**DEFECTIVE, out_dir=out))
    return out, summary


def _all_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- contract ------------------------------------------------------------------------------------------
def test_files_columns_and_manifest(clean):
    out, summary, tables = clean
    names = {p.name for p in out.iterdir()}
    for y in CLEAN["years"]:
        for m in range(1, 13):
            assert f"complaints_{y}-{m:02d}.csv" in names
            assert f"sampling_results_{y}-{m:02d}.csv" in names
        assert {f"hotline_stats_{y}.csv", f"region_profiles_{y}.csv"} <= names
    assert {"ground_truth_defects.csv", "region_traits.csv", "manifest.json"} <= names
    assert not [n for n in names if n.startswith(".")], "no temporary files left behind"
    for table, schema in TABLES.items():
        for p in out.glob(V.FILE_PATTERNS[table] + ".csv"):
            assert p.read_text(encoding="utf-8").split("\n", 1)[0] == ",".join(schema.column_names), p.name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == CLEAN["seed"] and manifest["parameters"]["years"] == list(CLEAN["years"])
    import hashlib

    for f in manifest["files"]:
        data = (out / f["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
    assert manifest["rows"] == summary["rows"]
    assert summary["rows"]["complaints"] == len(tables["complaints"]) == 2 * CLEAN["records_per_year"]
    gt = pd.read_csv(out / "ground_truth_defects.csv", dtype=str)
    assert list(gt.columns) == ["file", "record_id", "family"] and gt.empty  # defect_rate 0
    assert all(v == 0 for v in summary["defects"].values())
    assert manifest["planted_surges"], "bursts for surge detection are listed"
    # complaints are in the file of the month they were received, sorted by receipt
    c = tables["complaints"]
    assert (c._file.str[11:18] == c.received_at.str[:7]).all()
    assert c.record_id.is_unique and c.record_id.str.fullmatch(r"\d{19}").all()
    assert (c.record_id.str[:6] == c.handling_region_code).all()
    s = tables["sampling_results"]
    assert s.sample_id.is_unique and (s._file.str[17:24] == s.sampled_on.str[:7]).all()


def test_vocabularies_and_parsing(clean):
    c, s, h, p = (clean[2][t] for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles"))
    assert set(c.record_type) <= set(RECORD_TYPES)
    assert set(c.channel) <= set(CHANNELS)
    assert set(c.accept_decision) <= set(ACCEPT_DECISIONS) | {""}
    assert set(c.object_type) <= {"商品", "服务"}
    assert set(c.category[c.object_type == "商品"]) <= set(GOODS_CATEGORIES)
    assert set(c.category[c.object_type == "服务"]) <= set(SERVICE_CATEGORIES)
    assert set(c.problem_type) <= set(PROBLEM_TYPES)
    assert set(c.mediation_result) <= set(MEDIATION_RESULTS) | {""}
    assert set(c.satisfaction) <= set(SATISFACTION_LEVELS) | {""}
    for col in ("is_online", "settled_by_business", "case_filed", "failed_safety_item", "failed_label_item"):
        frame = s if col.startswith("failed") else c
        assert set(frame[col]) <= {"是", "否"}, col
    assert set(c.report_substantiated) <= {"是", "否", ""}
    money = re.compile(r"^\d+\.\d{2}$")
    for col in ("amount_disputed", "amount_recovered"):
        v = c[col][c[col] != ""]
        assert v.str.match(money).all(), col
    for col in ("received_at", "accepted_at", "closed_at"):
        _ts(c[col])  # raises if any value is not 'YYYY-MM-DD HH:MM:SS'
    assert set(s.venue_type) <= set(VENUE_TYPES) and set(s.result) <= set(SAMPLING_RESULTS)
    assert set(s.product_category) <= set(GOODS_CATEGORIES)
    for col in ("sampled_on", "notified_on", "stop_sale_on", "correction_due_on", "corrected_on", "reinspected_on"):
        _d(s[col])
    assert h.month.str.fullmatch(r"\d{4}-\d{2}-01").all()
    for col in ("calls_offered", "calls_answered_first", "calls_answered"):
        assert h[col].str.fullmatch(r"\d+").all()
    assert p.protection_funding_10k_yuan.str.fullmatch(r"\d+\.\d{2}").all()
    assert p.annual_report_rate.str.fullmatch(r"0\.\d{4}|1\.0000").all()


def test_planted_surges(clean):
    """Bad-actor respondents and (prefecture, category) cells get a burst in one month (manifest)."""
    out, _, tables = clean
    c = tables["complaints"]
    surges = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["planted_surges"]
    kinds = {s["kind"] for s in surges}
    assert kinds == {"respondent", "category"}
    month = c.received_at.str[:7]
    for s in surges:
        if s["kind"] == "respondent":
            mine = month[(c.respondent_uscc == s["respondent_uscc"]) & (c.respondent_name == s["respondent_name"])]
        else:
            mine = month[(c.handling_region_code.str[:4] == s["region_code"][:4]) & (c.category == s["category"])]
        per_month = mine.value_counts().reindex(sorted(set(month)), fill_value=0)
        others = per_month.drop(s["month"])
        assert per_month[s["month"]] >= s["records"] and per_month[s["month"]] > 3 * max(1.0, others.median()), s


# --- identifiers -------------------------------------------------------------------------------------------
def test_identifiers_valid(clean):
    c, s = clean[2]["complaints"], clean[2]["sampling_results"]
    ids = c.complainant_id_number[c.complainant_id_number != ""].unique()
    assert len(ids) > 1000 and all(ric.is_valid(x) for x in ids)
    assert c.complainant_phone[c.complainant_phone != ""].str.fullmatch(r"1[3-9]\d{9}").all()
    codes = pd.concat([c.respondent_uscc, s.seller_uscc, s.manufacturer_uscc])
    codes = codes[codes != ""].unique()
    assert len(codes) > 500 and all(uscc.is_valid(x) for x in codes)
    resp = c[c.respondent_uscc != ""]
    assert (resp.respondent_uscc.str[2:8] == resp.respondent_region_code).all()  # registered in its county
    assert resp.respondent_uscc.str[:2].isin(["91", "92"]).all() and (resp.respondent_uscc.str[:2] == "92").any()
    no_code = c[(c.respondent_name != "") & (c.respondent_uscc == "")]
    assert 0 < len(no_code) < 0.1 * (c.respondent_name != "").sum(), "a few respondents have no USCC"
    # every region code is valid in the record's year; every county of the scope handles records
    for frame, col, year in ((c, "handling_region_code", _ts(c.received_at).dt.year),
                             (c, "respondent_region_code", _ts(c.received_at).dt.year),
                             (s, "region_code", _d(s.sampled_on).dt.year)):
        assert not V._bad_region(frame[col], year).any(), col
    scope = resolve_scope("32")
    assert set(scope["counties"].code) == set(c.handling_region_code)
    assert c.entry_unit_id.str.fullmatch(r"EU\d{8}").all() and (c.entry_unit_id.str[2:8] == c.handling_region_code).all()


# --- lifecycle and statutory deadlines ---------------------------------------------------------------------
def test_lifecycle_and_deadlines(clean):
    c = clean[2]["complaints"]
    rec, acc, clo = _ts(c.received_at), _ts(c.accepted_at), _ts(c.closed_at)
    assert not (acc < rec).any() and not (clo < acc).any() and not (clo < rec).any()
    cons = c.record_type == "咨询"
    assert (c.accept_decision[cons] == "").all() and (c.accepted_at[cons] == "").all()
    span = (clo[cons].dt.normalize() - rec[cons].dt.normalize()).dt.days.dropna()
    assert span.isin([0, 1]).all(), "咨询 close the same or the next day"
    wd_acc = CAL.workdays_between(rec, acc)
    wd_close = CAL.workdays_between(acc, clo)
    comp, rep = (c.record_type == "投诉").to_numpy(), (c.record_type == "举报").to_numpy()
    assert np.nanmax(wd_acc[comp]) <= 7 and np.nanmax(wd_acc[rep]) <= 15
    accepted = comp & (c.accept_decision == "受理").to_numpy()
    assert np.nanmax(wd_close[accepted]) <= 45
    rejected = comp & (c.accept_decision == "不予受理").to_numpy()
    assert (c.closed_at[rejected] == c.accepted_at[rejected]).all() and (c.mediation_result[rejected] == "").all()
    closed_acc = accepted & (c.closed_at != "").to_numpy()
    assert (c.mediation_result[closed_acc] != "").all()
    assert (c.mediation_result[~closed_acc] == "").all()
    assert (c.report_substantiated[~rep] == "").all() and (c.report_substantiated[rep] != "").any()
    assert (c.settled_by_business[c.mediation_result.isin(["", *set(MEDIATION_RESULTS) - set(MEDIATION_SUCCESS)])] == "否").all()
    # money: recovered only with a successful mediation, never above 4 × disputed (退一赔三)
    d, r = _num(c.amount_disputed), _num(c.amount_recovered)
    assert ((r > 0) <= c.mediation_result.isin(MEDIATION_SUCCESS)).all()
    both = r.notna() & d.notna()
    assert (r[both] <= 4 * d[both] + 0.005).all() and (d.dropna() > 0).all() and d.max() < 1e7
    assert r.notna().sum() > 0 and (r.isna() | d.notna()).all()
    assert (d[cons].isna()).all()
    # records still open at the export cutoff: from the end of the last year, plus ~2 % of accepted
    # complaints never closed (未按期办结, what 办结率 measures) — those and only those from earlier
    open_ = c[(c.closed_at == "")]
    assert 0 < len(open_) < 0.05 * len(c)
    stuck = open_[open_.received_at < "2025-11-01"]
    assert ((stuck.record_type == "投诉") & (stuck.accept_decision == "受理") & (stuck.accepted_at != "")).all()
    assert (stuck.mediation_result == "").all() and (stuck.satisfaction == "").all() and (stuck.amount_recovered == "").all()
    early = c[(c.record_type == "投诉") & (c.accept_decision == "受理") & (c.received_at < "2025-11-01")]
    assert 0.01 <= len(stuck) / len(early) <= 0.03


# --- calibration -------------------------------------------------------------------------------------------
def test_calibration(clean):
    k = V.calibration(clean[0])
    t = k["type_mix"]
    assert 0.35 <= t["投诉"] <= 0.50 and 0.12 <= t["举报"] <= 0.20 and 0.35 <= t["咨询"] <= 0.50
    assert 0.55 <= k["goods_share_of_complaints"] <= 0.65
    pm = k["problem_mix_of_complaints"]
    assert 0.21 <= pm["质量"] <= 0.25 and 0.16 <= pm["售后服务"] <= 0.20 and 0.08 <= pm["合同"] <= 0.11
    assert 0.07 <= pm["食品安全"] <= 0.11 and 0.025 <= pm["广告"] <= 0.055 and 0.015 <= pm["价格"] <= 0.035
    assert pm["虚假宣传"] + pm["欺诈"] > 0.05 and pm["安全"] > 0.02
    online = k["online_share_of_complaints_reports_by_year"]
    assert all(0.28 <= v <= 0.43 for v in online.values()) and online[2025] >= online[2024] - 0.01
    assert 0.45 <= k["channel_mix"]["电话"] <= 0.80
    oc = k["online_channel_share_by_year"]
    assert 0.20 <= oc[2024] <= 0.57 and oc[2025] > oc[2024]
    assert 0.68 <= k["acceptance_ratio"] <= 0.78
    assert 0.47 <= k["mediation_success_of_closed_accepted"] <= 0.57
    assert 300 <= k["amount_disputed_median"] <= 1500 and k["amount_disputed_p95"] > 5 * k["amount_disputed_median"]
    assert 100 <= k["amount_recovered_median_positive"] <= 350
    assert 0.01 <= k["case_filed_rate_complaints_reports"] <= 0.13
    assert 0.8 <= k["satisfied_of_called_back"] <= 0.97
    assert k["satisfaction_mix"]["满意"] + k["satisfaction_mix"]["基本满意"] > 0.5
    assert 0.05 <= k["settled_by_business_of_closed_accepted"] <= 0.35
    assert 0.12 <= k["pii_in_content_share"] <= 0.26
    assert 0.09 <= k["sampling_fail_rate_store"] <= 0.20 and 0.15 <= k["sampling_fail_rate_ecommerce"] <= 0.30
    assert k["sampling_fail_rate_ecommerce"] > k["sampling_fail_rate_store"]
    assert 0.88 <= k["hotline_answer_rate"] <= 0.99 and k["hotline_first_attempt_rate"] < k["hotline_answer_rate"]


def test_seasonality_and_hours(clean):
    c = clean[2]["complaints"]
    rec = _ts(c.received_at)
    for year in CLEAN["years"]:
        months = rec[rec.dt.year == year].dt.month.value_counts()
        med = months.median()
        assert months[3] > med and months[11] > med, (year, months.to_dict())
    hour = rec.dt.hour + rec.dt.minute / 60
    assert ((hour >= 8.5) & (hour < 17.5)).mean() > 0.6, "mostly in office hours"
    assert (CAL.is_workday_arr[(rec.dt.normalize().values.astype("datetime64[D]") - np.datetime64("2004-01-01")).astype(int)]).mean() > 0.75


def test_content_and_pii(clean):
    c = clean[2]["complaints"]
    assert (c.content.str.len() > 8).all()
    digits = c.content.str.replace(" ", "", regex=False)
    has_phone = (c.complainant_phone != "") & np.array([p in t for p, t in zip(c.complainant_phone, digits)])
    has_id = (c.complainant_id_number != "") & np.array([i in t for i, t in zip(c.complainant_id_number, c.content)])
    has_name = (c.complainant_name != "") & np.array([n in t for n, t in zip(c.complainant_name, c.content)])
    share = (has_phone | has_id | has_name).mean()
    assert 0.15 <= share <= 0.25, share
    assert has_phone.sum() > 50 and has_id.sum() > 50
    cars = set(car_summaries())
    vehicle = c[(c.category == "交通工具") & (c.record_type == "投诉")]
    assert vehicle.content.map(lambda t: t.split("，")[0] in cars).mean() > 0.3
    # no two records of one identified complainant about one respondent read the same (clean data)
    ident = (c.complainant_name != "") | (c.complainant_phone != "") | (c.complainant_id_number != "")
    key = ["complainant_name", "complainant_phone", "complainant_id_number", "respondent_name", "content"]
    assert not c[ident].duplicated(key).any()
    assert c.complainant_id_number[c.complainant_id_number != ""].is_unique
    assert c.complainant_phone[c.complainant_phone != ""].is_unique


# --- sampling, hotline, profiles ------------------------------------------------------------------------------
def test_sampling_disposal(clean):
    s = clean[2]["sampling_results"]
    assert (s.is_online == np.where(s.venue_type == "电商", "是", "否")).all()
    failed = s.result == "不合格"
    assert (s.failed_items[failed] != "").all() and (s.failed_items[~failed] == "").all()
    assert ((s.failed_safety_item == "是") | (s.failed_label_item == "是"))[failed].mean() > 0.6
    for col in ("notified_on", "stop_sale_on", "correction_due_on", "corrected_on", "reinspected_on", "reinspection_result"):
        assert (s[col][~failed] == "").all(), col
    f = s[failed]
    n, stop, due, cor, rei, samp = (_d(f[c]) for c in ("notified_on", "stop_sale_on", "correction_due_on",
                                                        "corrected_on", "reinspected_on", "sampled_on"))
    assert (n > samp).all()
    assert not (stop < n).any() and ((due - n).dt.days == 60).all()
    assert not (cor > due).any() and not ((rei - n).dt.days > 75).any() and not (rei < cor).any()
    # a few product lines fail far above average
    by_product = s.groupby("product_name").result.apply(lambda x: (x == "不合格").mean())
    assert by_product.max() > 2 * (s.result == "不合格").mean()


def test_hotline_and_profiles(clean):
    h, p = clean[2]["hotline_stats"], clean[2]["region_profiles"]
    off, ans, first = _num(h.calls_offered), _num(h.calls_answered), _num(h.calls_answered_first)
    assert ((first <= ans) & (ans <= off)).all() and (off > 0).all()
    scope = resolve_scope("32")
    assert set(h.region_code) == set(scope["prefectures"].code)
    assert len(h) == len(h.drop_duplicates(["unit_id", "month"])) == h.unit_id.nunique() * 12 * 2
    for y in CLEAN["years"]:
        py = p[p.year == str(y)]
        assert set(py.region_code) == set(scope["prefectures"].code) | set(scope["counties"].code)
        pop = _num(py.set_index("region_code").population)
        for pref in scope["prefectures"].code:
            kids = [c for c in scope["counties"].code if c.startswith(pref[:4])]
            assert pop[pref] == pop[kids].sum()
    num = p.drop(columns=["region_code", "year", "_file"]).apply(_num)
    assert (num >= 0).all().all() and (num.annual_report_rate <= 1).all()
    per_capita = num.market_entities / num.population
    assert per_capita.between(0.04, 0.30).all()


# --- traits drive observable rates ----------------------------------------------------------------------------
def test_traits_file_and_effects(clean, tmp_path):
    out, _, tables = clean
    tr = pd.read_csv(out / "region_traits.csv", dtype={"region_code": str})
    assert list(tr.columns) == ["region_code", "level", "trait", "value"]
    assert set(tr.trait) == set(TRAITS) and set(tr.level) == {"province", "prefecture", "county"}
    assert len(tr[tr.level == "county"]) == 95 * len(TRAITS)
    pref = tr[tr.level == "prefecture"].pivot(index="region_code", columns="trait", values="value")
    c = tables["complaints"]
    c = c.assign(pref=c.handling_region_code.str[:4] + "00")
    comp = c[(c.record_type == "投诉") & (c.accept_decision == "受理") & (c.closed_at != "")]
    med = comp.groupby("pref").mediation_result.apply(lambda x: x.isin(MEDIATION_SUCCESS).mean())
    online = c.groupby("pref").channel.apply(lambda x: x.isin(["互联网", "微信", "APP"]).mean())
    allc = c[c.record_type == "投诉"]
    fraud = allc.groupby("pref").problem_type.apply(lambda x: x.isin(["欺诈", "虚假宣传"]).mean())
    h = tables["hotline_stats"]
    ans = _num(h.calls_answered).groupby(h.region_code).sum() / _num(h.calls_offered).groupby(h.region_code).sum()
    p = tables["region_profiles"]
    p = p[p.region_code.isin(pref.index)]
    p = (_num(p.protection_staff) / _num(p.population)).groupby(p.region_code).mean()
    checks = {
        "mediation_effectiveness": spearman(pref.mediation_effectiveness[med.index], med),
        "service_access": spearman(pref.service_access[online.index], online),
        "business_integrity": spearman(pref.business_integrity[fraud.index], -fraud),
        "hotline_capacity": spearman(pref.hotline_capacity[ans.index], ans),
        "protection_resources": spearman(pref.protection_resources[p.index], p),
    }
    assert all(v > 0.5 for v in checks.values()), checks
    # product quality -> sampling pass rate (needs more batches than the shared run has)
    out2 = tmp_path / "sampling"
    generate(GeneratorConfig(scope="32", years=(2025,), records_per_year=1000, seed=2, out_dir=out2,
                             sampling_batches_per_year=12000))
    s = V.read_table(out2, "sampling_results")
    pass_rate = s.groupby(s.region_code.str[:4] + "00").result.apply(lambda x: (x == "合格").mean())
    tr2 = pd.read_csv(out2 / "region_traits.csv", dtype={"region_code": str})
    q = tr2[(tr2.level == "prefecture") & (tr2.trait == "product_quality")].set_index("region_code").value
    assert spearman(q[pass_rate.index], pass_rate) > 0.5


# --- determinism and formats ------------------------------------------------------------------------------------
def test_deterministic(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(GeneratorConfig(**SMALL, out_dir=a))
    generate(GeneratorConfig(**SMALL, out_dir=b))
    generate(GeneratorConfig(**{**SMALL, "seed": SMALL["seed"] + 1}, out_dir=c))
    fa, fb, fc = _all_bytes(a), _all_bytes(b), _all_bytes(c)
    assert fa.keys() == fb.keys() == fc.keys()
    assert fa == fb, [k for k in fa if fa[k] != fb[k]]
    assert fa["complaints_2025-03.csv"] != fc["complaints_2025-03.csv"]
    assert fa["sampling_results_2025-05.csv"] != fc["sampling_results_2025-05.csv"]


def test_formats_encodings_and_chinese_headers(tmp_path):
    base_cfg = {**SMALL, "records_per_year": 800}
    generate(GeneratorConfig(**base_cfg, out_dir=tmp_path / "csv"))
    variants = {
        "xlsx": dict(file_format="xlsx"),
        "parquet": dict(file_format="parquet"),
        "gb": dict(encoding="gb18030", chinese_headers=True),
        "xlsx_zh": dict(file_format="xlsx", chinese_headers=True),
    }
    for name, extra in variants.items():
        generate(GeneratorConfig(**base_cfg, **extra, out_dir=tmp_path / name))
    for table, schema in TABLES.items():
        ref = V.read_table(tmp_path / "csv", table).drop(columns="_file")
        for name in variants:
            got = V.read_table(tmp_path / name, table).drop(columns="_file")
            pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False,
                                          obj=f"{table} as {name}")
    # raw headers: Chinese in the gb18030 files, and the file really is GB18030 (not UTF-8)
    raw = (tmp_path / "gb" / "complaints_2025-03.csv").read_bytes()
    assert raw.decode("gb18030").split("\n", 1)[0] == ",".join(c.zh for c in COMPLAINTS.columns)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    head = pd.read_excel(tmp_path / "xlsx_zh" / "sampling_results_2025-03.xlsx", dtype=str, nrows=0)
    assert list(head.columns) == [c.zh for c in SAMPLING.columns]
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "xlsx" / "hotline_stats_2025.xlsx")
    ws = wb.active
    assert [c.value for c in ws[1]] == HOTLINE.column_names
    offered = [c.value for c in ws["D"][1:] if c.value is not None]  # a defect may blank a row's calls_offered
    assert len(offered) >= len(ws["D"]) - 3 and all(isinstance(v, str) for v in offered)
    with zipfile.ZipFile(tmp_path / "xlsx" / "region_profiles_2025.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert REGION_PROFILES.column_names == list(pd.read_parquet(tmp_path / "parquet" / "region_profiles_2025.parquet").columns)
    # xlsx and parquet are deterministic too
    generate(GeneratorConfig(**base_cfg, file_format="xlsx", out_dir=tmp_path / "xlsx2"))
    assert _all_bytes(tmp_path / "xlsx") == _all_bytes(tmp_path / "xlsx2")


# --- injected defects --------------------------------------------------------------------------------------------
def test_ground_truth_defects(defective):
    out, summary = defective
    gt = pd.read_csv(out / "ground_truth_defects.csv", dtype=str, keep_default_na=False)
    assert not gt.duplicated(["file", "record_id"]).any(), "one defect per row"
    assert set(gt.family) == set(FAMILIES)
    rate = DEFECTIVE["defect_rate"]
    n_c = summary["rows"]["complaints"]
    n_s = summary["rows"]["sampling_results"]
    got_c = gt.file.str.startswith("complaints_").sum()
    got_s = gt.file.str.startswith("sampling_results_").sum()
    assert abs(got_c - rate * n_c) <= 0.1 * rate * n_c and abs(got_s - rate * n_s) <= 0.15 * rate * n_s + 2
    assert n_c > 2 * DEFECTIVE["records_per_year"], "duplicates add rows"
    # every defective row violates its family, and no clean row violates any family
    sc = V.score(out).set_index("family")
    assert (sc.precision == 1.0).all() and (sc.recall == 1.0).all(), sc
    # defects concentrate in the sloppier entry units
    c = V.read_table(out, "complaints")
    bad_ids = set(gt.record_id[gt.file.str.startswith("complaints_")])
    unit_rate = c.assign(bad=c.record_id.isin(bad_ids)).groupby("entry_unit_id").bad.mean()
    assert unit_rate.max() > 3 * rate
    # defective values still parse as their types
    for col in ("received_at", "accepted_at", "closed_at"):
        _ts(c[col])
    _num(c.amount_disputed), _num(c.amount_recovered)
    # abolished codes used for region_code defects were gone before the record's year
    hist = admin_divisions_history()
    reg = c[c.record_id.isin(gt.record_id[gt.family == "region_code"])]
    abolished = reg[reg.handling_region_code.isin(hist.code)]
    last = hist.groupby("code").valid_to_year.max()
    assert len(abolished) and (last[abolished.handling_region_code].to_numpy() < _ts(abolished.received_at).dt.year.to_numpy()).all()


def test_config_validation_and_progress(tmp_path):
    with pytest.raises(ValueError):
        GeneratorConfig(file_format="json").validated()
    with pytest.raises(ValueError):
        GeneratorConfig(file_format="xlsx", encoding="gb18030").validated()
    with pytest.raises(ValueError):
        GeneratorConfig(defect_rate=0.9).validated()
    with pytest.raises(ValueError):
        GeneratorConfig(years=(1999,)).validated()
    assert as_years("2024,2025") == (2024, 2025) and as_years("2021-2023") == (2021, 2022, 2023)
    calls = []
    generate(GeneratorConfig(scope="3204", years=(2025,), records_per_year=200, seed=1, out_dir=tmp_path),
             progress=lambda msg, done, total: calls.append((msg, done, total)))
    assert [d for _, d, _ in calls] == list(range(1, len(calls) + 1)) and calls[-1][1] == calls[-1][2]
