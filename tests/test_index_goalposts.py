"""Fixed goalposts (default_v2): an absolute, comparable scale (issue 9, point 1).

Pure index_model API for the properties (no warehouse), plus the resolution of base-relative
goalposts from stored indicator values (indicators.scores).
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from index_model import (
    SpecError,
    compute_index,
    default_spec,
    load_spec,
    resolve_goalposts,
    shipped_spec_path,
)
from index_model.spec import DEFAULT_SPEC_VERSION, relative_goalposts


def _spec(normalisation_a=None, normalisation_b=None, method="goalposts"):
    """Two dimensions, three indicators; a (+), b (−) and c (+)."""
    na = normalisation_a or {"method": "goalposts", "low": 0.5, "high": 1.0}
    nb = normalisation_b or {"method": "goalposts", "low": 0.0, "high": 20.0}
    nc = {"method": "goalposts", "low": 0.0, "high": 0.05}
    inds = [
        {"id": "a", "direction": 1, "normalisation": na},
        {"id": "b", "direction": -1, "normalisation": nb},
        {"id": "c", "direction": 1, "normalisation": nc},
    ]
    if method == "minmax":
        for i in inds:
            del i["normalisation"]
    return load_spec({
        "spec_version": "t", "unit_id": "unit",
        "methods": {"normalisation": {"method": method} if method == "minmax" else {"method": "goalposts"},
                    "grades": [{"label": "优", "min": 85}, {"label": "良", "min": 70}, {"label": "中", "min": 60},
                               {"label": "差", "min": None}]},
        "aggregates": [{"id": "top", "children": ["d1", "d2"]}, {"id": "d1", "children": ["a", "b"]},
                       {"id": "d2", "children": ["c"]}],
        "indicators": inds,
    })


DATA = pd.DataFrame({"unit": ["A", "B", "C", "D"], "a": [0.90, 0.60, 0.75, 0.99],
                     "b": [5.0, 12.0, 18.0, 1.0], "c": [0.03, 0.01, 0.08, 0.0]})


def test_goalpost_scores_are_exact_and_capped():
    r = compute_index(DATA, _spec(), unit_col="unit")
    s = r.scores
    # a: (0.90 - 0.5) / 0.5 * 100 = 80; b (−): (20 - 5) / 20 * 100 = 75; c: 0.03 / 0.05 * 100 = 60
    assert s.loc["A", "a"] == pytest.approx(80.0) and s.loc["A", "b"] == pytest.approx(75.0)
    assert s.loc["A", "c"] == pytest.approx(60.0)
    assert s.loc["A", "d1"] == pytest.approx(77.5) and s.loc["A", "top"] == pytest.approx((77.5 + 60.0) / 2)
    # beyond the goalposts: capped at 100 (case rate 8 % >= the 5 % target) and 0 (a below its floor)
    assert s.loc["C", "c"] == 100.0
    low = compute_index(DATA.assign(a=[0.2, 0.6, 0.75, 0.99]), _spec(), unit_col="unit").scores
    assert low.loc["A", "a"] == 0.0
    assert s.to_numpy().min() >= 0 and s.to_numpy().max() <= 100


def test_a_region_whose_values_do_not_change_keeps_its_scores():
    """Other regions change (values, and one region leaves): region A's scores at every node stay."""
    spec = _spec()
    before = compute_index(DATA, spec, unit_col="unit")
    others = DATA.copy()
    others.loc[others.unit != "A", ["a", "b", "c"]] = [[0.51, 19.0, 0.0], [1.0, 0.0, 0.2], [0.7, 2.0, 0.04]]
    after = compute_index(others, spec, unit_col="unit")
    fewer = compute_index(DATA[DATA.unit.isin(["A", "B"])], spec, unit_col="unit")
    pd.testing.assert_series_equal(before.scores.loc["A"], after.scores.loc["A"])
    pd.testing.assert_series_equal(before.scores.loc["A"], fewer.scores.loc["A"])
    assert before.grades().loc["A", "top"] == after.grades().loc["A", "top"]
    # ... which min-max within the period does not give (the property the test guards)
    mm = _spec(method="minmax")
    assert not np.allclose(compute_index(DATA, mm, unit_col="unit").scores.loc["A"],
                           compute_index(others, mm, unit_col="unit").scores.loc["A"])


def test_the_shipped_default_keeps_a_region_score_when_others_change():
    spec = default_spec()
    assert spec.spec_version == DEFAULT_SPEC_VERSION == "default_v2"
    rel = relative_goalposts(spec)
    spec = resolve_goalposts(spec, {i: 2.0 for i in rel})
    rng = np.random.default_rng(5)
    ids = spec.indicator_ids
    table = pd.DataFrame(rng.uniform(0.2, 3.0, (6, len(ids))), columns=ids)
    table.insert(0, "region_code", [f"32{k:02d}00" for k in range(1, 7)])
    before = compute_index(table, spec, unit_col="region_code").scores.loc["320100"]
    table.loc[1:, ids] = rng.uniform(0.2, 3.0, (5, len(ids)))
    after = compute_index(table, spec, unit_col="region_code").scores.loc["320100"]
    pd.testing.assert_series_equal(before, after)


def test_default_v2_goalposts_are_documented_and_use_the_published_targets():
    spec = default_spec()
    for i in spec.indicators:
        n = spec.normalisation_of(i.id)
        assert n["method"] == "goalposts" and n["low"] < n["high"], i.id
        assert i.goalpost_basis and len(i.goalpost_basis) > 40, i.id
    # 100 points at the published target (常工商消〔2018〕1号 五率, 诉转案率 >= 5 %)
    hi = {i: spec.normalisation_of(i)["high"] for i in spec.indicator_ids}
    assert hi["hotline_first_answer_rate"] == 0.95 and hi["mediation_success_rate"] == 0.80
    assert hi["closure_rate"] == 1.0 and hi["satisfaction_rate"] == 0.95 and hi["complaint_to_case_rate"] == 0.05
    for iid in ("hotline_first_answer_rate", "mediation_success_rate", "closure_rate", "satisfaction_rate",
                "complaint_to_case_rate"):
        assert "常工商消〔2018〕1号" in spec.nodes[iid].goalpost_basis
    # 识别便利 is an L2 of 便利度 with two profile indicators
    assert "identification_convenience" in spec.children("convenience")
    assert spec.label("identification_convenience") == "识别便利"
    assert spec.children("identification_convenience") == ("price_licence_display_rate", "online_licence_emark_rate")
    # every band says what it means; the methodology text says values are capped
    assert set(spec.methods.grade_meanings) == {"优", "良", "中", "差"}
    assert "capped" in spec.methodology
    # min-max within the period stays available as the v1 spec
    v1 = load_spec(shipped_spec_path("default_v1"))
    assert v1.spec_version == "default_v1" and v1.methods.normalisation["method"] == "minmax"


def test_resolve_goalposts_base_multiples_and_period_share():
    spec = _spec(normalisation_b={"method": "goalposts", "low": 0.5, "high": 1.5, "relative_to": "base",
                                  "per_year": True})
    # no base given: the table's median is the base, and the result says so
    fb = compute_index(DATA, spec, unit_col="unit")
    assert fb.spec.normalisation_of("b")["base_value"] == 8.5 and any("median" in n for n in fb.notes)
    with pytest.raises(ValueError, match="resolve_goalposts"):  # the bare normalisation refuses
        from index_model import normalise
        normalise(DATA.b, -1, spec.normalisation_of("b"))
    with pytest.raises(SpecError, match="'b'"):
        resolve_goalposts(spec, {})
    year = resolve_goalposts(spec, {"b": 10.0})
    assert (year.normalisation_of("b")["low"], year.normalisation_of("b")["high"]) == (5.0, 15.0)
    assert year.spec_version == spec.spec_version
    quarter = resolve_goalposts(spec, {"b": 10.0}, period_fraction=0.25)
    assert (quarter.normalisation_of("b")["low"], quarter.normalisation_of("b")["high"]) == (1.25, 3.75)
    assert quarter.normalisation_of("a") == spec.normalisation_of("a")  # fixed, not per period
    again = resolve_goalposts(quarter, {}, period_fraction=0.25)  # already resolved: not scaled twice
    assert again.normalisation_of("b")["high"] == 3.75
    s = compute_index(DATA, year, unit_col="unit").scores
    assert s.loc["A", "b"] == pytest.approx(100.0)  # 5 <= the low goalpost 5 (best): capped at 100
    assert s.loc["B", "b"] == pytest.approx(30.0)  # (15 - 12) / 10


def _store(con, scope, period, rows):
    from indicators.compute import write_indicator_values

    df = pd.DataFrame(rows, columns=["region_code", "indicator_id", "value", "scope_value"])
    df["numerator"] = df["denominator"] = np.nan
    df["record_count"] = pd.array([pd.NA] * len(df), dtype="Int64")
    write_indicator_values(con, scope, period, df)


def test_index_for_fixes_base_relative_goalposts_on_the_base_period_for_every_year():
    """Year-on-year on one scale: 2024 and 2025 are scored on the same goalposts (base period 2024)."""
    from indicators.scores import index_for

    spec = default_spec()
    con = duckdb.connect()
    units = ["320100", "320200"]
    for period, level, pooled in (("2024", 1.0, 2.0), ("2025", 1.0, 4.0)):
        rows = []
        for iid in spec.indicator_ids:
            for u in units:
                rows.append((u, iid, level if u == "320100" else 3.0, pooled))
        _store(con, "32", period, rows)
    r24 = index_for(con, "32", "2024", spec, runs=0)
    r25 = index_for(con, "32", "2025", spec, runs=0)
    g = "complaints_per_10k_entities"
    assert r24.spec.normalisation_of(g)["base_value"] == 2.0 == r25.spec.normalisation_of(g)["base_value"]
    assert (r24.spec.normalisation_of(g)["low"], r24.spec.normalisation_of(g)["high"]) == (0.0, 4.0)  # 0 and 2× base
    # region 320100 has the same values in both years: same scores although the scope's pool doubled
    pd.testing.assert_series_equal(r24.result.scores.loc["320100"], r25.result.scores.loc["320100"])
    assert any("base period 2024" in n for n in r25.notes)
    # a quarter: counts per period get a quarter of the annual goalposts
    _store(con, "32", "2025Q1", [(u, i, 1.0, 9.0) for i in spec.indicator_ids for u in units])
    rq = index_for(con, "32", "2025Q1", spec, runs=0)
    assert rq.spec.normalisation_of(g)["high"] == pytest.approx(1.0)  # 2 × 2.0 × 0.25
    assert rq.spec.normalisation_of("money_recovery_ratio")["high"] == pytest.approx(4.0)  # a ratio: not scaled


def test_closure_rate_leaves_complaints_still_within_their_handling_period_out():
    """办结率 over complaints whose handling period has ended: one still in mediation is 在办, not a failure."""
    import datetime as dt

    from indicators import compute_indicators
    from ingestion.sqlfiles import sql_text as warehouse_sql

    con = duckdb.connect()
    con.execute(warehouse_sql("ddl/warehouse.sql"))
    con.execute("CREATE TABLE clean.complaints AS SELECT * FROM staging.complaints")
    con.execute("CREATE TABLE clean.region_profiles AS SELECT * FROM staging.region_profiles")

    def c(rid, accepted, closed=None):
        return dict(record_id=rid, record_type="投诉", channel="电话", received_at=pd.Timestamp(accepted) - pd.Timedelta(days=1),
                    accepted_at=pd.Timestamp(accepted), closed_at=pd.Timestamp(closed) if closed else None,
                    accept_decision="受理", entry_unit_id="EU32040201", handling_region_code="320402",
                    object_type="商品", category="服装鞋帽", problem_type="质量")
    rows = [c("C1", "2025-09-02", "2025-09-20"),  # closed
            c("C2", "2025-09-03"),                 # open, accepted > 45 working days before the cut-off: unfinished
            c("C3", "2025-12-22")]                 # open, 10 working days before the cut-off: 在办, left out
    con.register("r", pd.DataFrame(rows))
    con.execute("INSERT INTO clean.complaints BY NAME SELECT * FROM r")
    df = compute_indicators(con, "3204", "2025", indicators=["closure_rate"], treatment="none", as_of=dt.date(2026, 1, 6))
    r = df.set_index("region_code").loc["320402"]
    assert (r.numerator, r.denominator, r.value) == (1.0, 2.0, 0.5)


def test_report_rank_change_is_on_the_report_period_spec_when_the_previous_period_was_stored_under_another():
    from indicators.scores import index_for, write_index_scores
    from reports.index_report import load_index_data

    v1 = load_spec(shipped_spec_path("default_v1"))
    v2 = default_spec()
    con = duckdb.connect()
    units = ["320100", "320200", "320300"]
    rng = np.random.default_rng(9)
    for period in ("2024", "2025"):
        _store(con, "32", period, [(u, i, float(rng.uniform(0.5, 1.5)), 1.0) for i in v2.indicator_ids for u in units])
    write_index_scores(con, index_for(con, "32", "2024", v1, runs=0))
    write_index_scores(con, index_for(con, "32", "2025", v2, runs=0))
    d = load_index_data(con, "32", "2025", "zh")
    assert d.spec.spec_version == "default_v2"
    want = index_for(con, "32", "2024", v2, runs=0).result.ranks["cei"]
    got = d.node("cei")["prev_rank"]
    assert got.reindex(want.index).astype(float).tolist() == want.astype(float).tolist()
    assert any("重新计算" in n for n in d.notes)


def test_an_indicator_with_no_positive_base_is_left_out_not_the_index():
    """Zero events everywhere (a county with two months of data, no accidents): a base-relative
    goalpost has nothing to scale by. The indicator is not scored, with a note; the rest is."""
    spec = _spec(normalisation_b={"method": "goalposts", "low": 0.0, "high": 2.0, "relative_to": "base"})
    zero_b = DATA.assign(b=0.0)
    r = compute_index(zero_b, spec, unit_col="unit")
    assert r.scores["b"].isna().all()
    assert any("not scored" in n and "b" in n for n in r.notes)
    # d1 rests on a alone: A's a = 80 (see above), so d1 = 80, and top = (80 + 60) / 2
    assert r.scores.loc["A", "d1"] == pytest.approx(80.0)
    assert r.scores.loc["A", "top"] == pytest.approx(70.0)


def test_a_base_value_of_exactly_one_still_resolves_the_goalposts():
    spec = _spec(normalisation_b={"method": "goalposts", "low": 0.0, "high": 2.0, "relative_to": "base"})
    resolved = resolve_goalposts(spec, {"b": 1.0})
    assert relative_goalposts(resolved) == []
    assert resolved.normalisation_of("b")["high"] == 2.0 and resolved.normalisation_of("b")["base_value"] == 1.0
