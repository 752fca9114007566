"""index_model.noise (intervals from counts, changes judged against their noise) and index_model.short_boards
(weakest / strongest indicators and sub-dimensions with values), on hand-made tables.

Issue 9 point 4: "Test with a city whose only change is a few more accidents" — city A below: 10 -> 13
special-equipment accidents on 100,000 units, everything else equal; its composite moves by -3.75 points
and the attribution says that change is within noise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pytest import approx

from index_model import (
    attribute_change,
    change_interval,
    change_verdicts,
    compute_index,
    explain_change,
    load_spec,
    noise_models,
    noise_table,
    poisson_interval,
    short_boards,
    value_interval,
    wilson_interval,
)
from index_model.spec import SpecError

SPEC = {
    "spec_version": "noise_test",
    "unit_id": "region_code",
    "methods": {"normalisation": {"method": "goalposts"}, "aggregation": {"method": "arithmetic"},
                "noise": {"level": 0.95, "by_kind": {"share": "binomial", "per10k": "poisson"}}},
    "aggregates": [
        {"id": "cei", "children": ["safety", "handling"]},
        {"id": "safety", "children": ["accidents", "pass_rate"]},
        {"id": "handling", "children": ["closure_rate", "stations"]},
    ],
    "indicators": [
        {"id": "accidents", "direction": -1, "noise": "poisson",
         "normalisation": {"method": "goalposts", "low": 0.0, "high": 2.0}},
        {"id": "pass_rate", "direction": 1, "normalisation": {"method": "goalposts", "low": 0.75, "high": 0.95}},
        {"id": "closure_rate", "direction": 1, "target": 1.0,
         "normalisation": {"method": "goalposts", "low": 0.75, "high": 1.0}},
        {"id": "stations", "direction": 1, "self_reported": True,
         "normalisation": {"method": "goalposts", "low": 0.0, "high": 10.0}},
    ],
}
KINDS = {"accidents": "profile", "pass_rate": "share", "closure_rate": "share", "stations": "profile"}
SCALES = {"accidents": 10000.0, "stations": 10000.0}
UNITS = 100_000  # special-equipment units of every city


def counts_2024() -> dict:
    # region -> indicator -> (numerator, denominator)
    return {
        "A": {"accidents": (10, UNITS), "pass_rate": (170, 200), "closure_rate": (450, 500), "stations": (40, 80_000)},
        "B": {"accidents": (10, UNITS), "pass_rate": (170, 200), "closure_rate": (450, 500), "stations": (40, 80_000)},
        "C": {"accidents": (10, UNITS), "pass_rate": (160, 200), "closure_rate": (490, 500), "stations": (60, 80_000)},
    }


def counts_2025() -> dict:
    c = counts_2024()
    c["A"]["accidents"] = (13, UNITS)  # A: only a few more accidents
    c["B"]["accidents"] = (40, UNITS)  # B: four times as many
    c["C"]["pass_rate"] = (190, 200)  # C: pass rate 80 % -> 95 %
    return c


def long_rows(counts: dict) -> pd.DataFrame:
    rows = []
    for reg, inds in counts.items():
        for iid, (num, den) in inds.items():
            rows.append({"region_code": reg, "indicator_id": iid, "numerator": float(num), "denominator": float(den),
                         "raw_value": num / den * SCALES.get(iid, 1.0)})
    return pd.DataFrame(rows)


def wide(counts: dict) -> pd.DataFrame:
    return long_rows(counts).pivot(index="region_code", columns="indicator_id", values="raw_value").reset_index()


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC)


@pytest.fixture(scope="module")
def runs(spec):
    before = compute_index(wide(counts_2024()), spec)
    after = compute_index(wide(counts_2025()), spec)
    models = noise_models(spec, KINDS)
    nt = noise_table(long_rows(counts_2024()), long_rows(counts_2025()), models, SCALES)
    return before, after, nt


# ------------------------------------------------------------------------------------------ intervals
def test_wilson_interval_published_values():
    # 5 of 20: Wilson 95 % (0.1119, 0.4687); 0 of n: upper z²/(n + z²); n of n: lower n/(n + z²), z = 1.959964
    z2 = 1.959964 ** 2
    lo, hi = wilson_interval([5, 0, 20], [20, 10, 20])
    assert lo[0] == approx(0.111862, abs=1e-6) and hi[0] == approx(0.468701, abs=1e-6)
    assert lo[1] == approx(0.0, abs=1e-12) and hi[1] == approx(z2 / (10 + z2), abs=1e-6)
    assert hi[2] == approx(1.0) and lo[2] == approx(20 / (20 + z2), abs=1e-6)
    # not counts: no interval
    lo, hi = wilson_interval([2.5, 3, 1], [10, 0, np.nan])
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_poisson_exact_interval_published_values():
    # Garwood exact 95 % limits: 0 -> (0, 3.689), 10 -> (4.795, 18.390) (Ulm 1990 table)
    lo, hi = poisson_interval([0, 10, 1.5])
    assert lo[0] == 0.0 and hi[0] == approx(3.688879, abs=1e-6)
    assert lo[1] == approx(4.795389, abs=1e-6) and hi[1] == approx(18.390356, abs=1e-6)
    assert np.isnan(lo[2]) and np.isnan(hi[2])
    # as a rate per 10k units: scaled by 10000 / exposure
    lo, hi = value_interval("poisson", [10], [UNITS], 10000.0)
    assert lo[0] == approx(0.4795389, abs=1e-7) and hi[0] == approx(1.8390356, abs=1e-7)
    lo, hi = value_interval("none", [10], [UNITS])
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    with pytest.raises(ValueError, match="unknown noise model"):
        value_interval("normal", [1], [2])


def test_mover_interval_of_a_difference():
    # Newcombe (1998) method 10 written out: d = 0.3; lower = 0.3 - sqrt(0.1^2 + 0.2^2); upper = 0.3 + sqrt(0.3^2 + 0.1^2)
    d, lo, hi = change_interval(1.0, 0.9, 1.2, 1.3, 1.0, 1.6)
    assert d[0] == approx(0.3) and lo[0] == approx(0.3 - np.sqrt(0.09 + 0.04)) and hi[0] == approx(0.3 + np.sqrt(0.09 + 0.01))


def test_noise_models_from_kind_spec_and_indicator(spec):
    assert noise_models(spec, KINDS) == {"accidents": "poisson", "pass_rate": "binomial", "closure_rate": "binomial",
                                         "stations": "none"}


def test_spec_rejects_unknown_noise_model():
    bad = {**SPEC, "indicators": [dict(SPEC["indicators"][0], noise="gaussian")] + SPEC["indicators"][1:]}
    with pytest.raises(SpecError, match="noise 'gaussian' is not one of binomial, poisson, none"):
        load_spec(bad)
    bad = {**SPEC, "methods": {**SPEC["methods"], "noise": {"level": 1.5}}}
    with pytest.raises(SpecError, match="methods.noise.level 1.5"):
        load_spec(bad)


# ------------------------------------------------------------------------------------ change vs noise
def test_noise_table_values(runs):
    _, _, nt = runs
    a = nt.set_index(["region_code", "indicator_id"])
    r = a.loc[("A", "accidents")]
    assert r.value_before == approx(1.0) and r.value_after == approx(1.3)
    assert r.low_before == approx(0.4795389, abs=1e-7) and r.high_before == approx(1.8390356, abs=1e-7)
    lo13, hi13 = poisson_interval([13])
    exp_lo = 0.3 - np.sqrt((1.3 - lo13[0] / 10) ** 2 + (1.8390356 - 1.0) ** 2)
    exp_hi = 0.3 + np.sqrt((hi13[0] / 10 - 1.3) ** 2 + (1.0 - 0.4795389) ** 2)
    assert r.delta == approx(0.3) and r.delta_low == approx(exp_lo, abs=1e-6) and r.delta_high == approx(exp_hi, abs=1e-6)
    assert r.beyond_noise is False or r.beyond_noise == False  # noqa: E712  (pandas boolean)
    assert bool(a.loc[("B", "accidents"), "beyond_noise"]) is True  # 10 -> 40 accidents
    assert bool(a.loc[("C", "pass_rate"), "beyond_noise"]) is True  # 160/200 -> 190/200
    assert bool(a.loc[("A", "pass_rate"), "beyond_noise"]) is False  # unchanged counts
    assert pd.isna(a.loc[("A", "stations"), "beyond_noise"])  # no sampling model


def test_city_whose_only_change_is_a_few_more_accidents_is_within_noise(runs):
    before, after, nt = runs
    ch = explain_change(before, after)
    att = attribute_change(ch.effects, nt)
    v = change_verdicts(ch.summary, att).set_index("unit")
    # A: accidents 1.0 -> 1.3 per 10k on goalposts [0, 2] (direction -): 50 -> 35 points; weight 1/2 x 1/2
    assert v.at["A", "delta"] == approx(-3.75)
    assert v.at["A", "verdict"] == "within_noise"
    assert v.at["A", "signal"] == approx(0.0) and v.at["A", "noise"] == approx(-3.75)
    assert v.at["A", "drivers"] == []
    # B: 10 -> 40 accidents: 50 -> 0 points (capped), beyond noise, attributed to accidents
    assert v.at["B", "verdict"] == "attributed" and v.at["B", "delta"] == approx(-12.5)
    assert v.at["B", "drivers"] == [("accidents", approx(-12.5))]
    # C: pass rate 80 % -> 95 %: 25 -> 100 points, x 1/4
    assert v.at["C", "verdict"] == "attributed" and v.at["C", "drivers"] == [("pass_rate", approx(18.75))]
    a_rows = att[(att.unit == "A") & (att.component_id == "accidents")]
    assert len(a_rows) == 1 and not bool(a_rows["attributed"].iloc[0])


def test_unchanged_unit_verdict(spec):
    r = compute_index(wide(counts_2024()), spec)
    ch = explain_change(r, r)
    nt = noise_table(long_rows(counts_2024()), long_rows(counts_2024()), noise_models(spec, KINDS), SCALES)
    v = change_verdicts(ch.summary, attribute_change(ch.effects, nt)).set_index("unit")
    assert list(v["verdict"]) == ["unchanged"] * 3


# ------------------------------------------------------------------------------------------ short boards
def test_short_boards_values_gaps_and_trends(runs):
    before, after, nt = runs
    sb = short_boards(after, previous=before, noise=nt, n_indicators=2, n_subdimensions=1)
    a = sb[sb.unit == "A"].set_index(["level", "kind", "order"])
    # A 2025: accidents 1.3 (median of 1.3, 4.0, 1.0 = 1.3) gap 0; pass 0.85 (median 0.85) gap 0;
    # closure 0.9 vs target 1.0: gap -0.1 = -40 points on [0.75, 1.0]; stations 5.0 per 10k vs median 5.0: 0
    w1 = a.loc[("indicator", "weakest", 1)]
    assert w1.node_id == "closure_rate" and w1.reference == "target"
    assert w1.value == approx(0.9) and w1.target == approx(1.0) and w1["median"] == approx(0.9)
    assert w1.gap == approx(-0.1) and w1.gap_points == approx(-40.0)
    assert w1.previous_value == approx(0.9) and w1.change == approx(0.0) and w1.trend == "unchanged"
    # ties at 0 points keep hierarchy order: accidents before pass_rate before stations
    assert a.loc[("indicator", "weakest", 2)].node_id == "accidents"
    s1 = a.loc[("indicator", "strongest", 1)]
    assert s1.node_id == "pass_rate" and s1.gap_points == approx(0.0)
    acc = sb[(sb.unit == "A") & (sb.node_id == "accidents")].iloc[0]
    assert acc.value == approx(1.3) and acc.previous_value == approx(1.0) and acc.trend == "within_noise"
    assert acc.reference == "median" and np.isnan(acc.target)
    # B: accidents 4.0 vs median 1.3, direction -: -(2.7 / 2.0) x 100 = -135 points, worsened beyond noise
    b1 = sb[(sb.unit == "B") & (sb.level == "indicator") & (sb.kind == "weakest") & (sb.order == 1)].iloc[0]
    assert b1.node_id == "accidents" and b1.gap_points == approx(-135.0) and b1.trend == "worsened"
    # C: pass rate 0.95 vs median 0.85: +50 points, improved
    c1 = sb[(sb.unit == "C") & (sb.level == "indicator") & (sb.kind == "strongest") & (sb.order == 1)].iloc[0]
    assert c1.node_id == "pass_rate" and c1.gap_points == approx(50.0) and c1.trend == "improved"
    # sub-dimensions: scores vs the median score. A: safety (35 + 50)/2 = 42.5, median of 42.5, 25, 67.5 = 42.5
    sd = sb[(sb.unit == "A") & (sb.level == "sub_dimension")].set_index("kind")
    assert sd.at["weakest", "node_id"] == "safety" and sd.at["weakest", "value"] == approx(42.5)
    assert sd.at["weakest", "gap_points"] == approx(0.0) and sd.at["weakest", "trend"] == "within_noise"
    assert sd.at["weakest", "previous_value"] == approx(50.0)
    # handling: A (60 + 50)/2 = 55, median 55 (A = B), C (96 + 75)/2 = 85.5
    assert sd.at["strongest", "node_id"] == "handling" and sd.at["strongest", "self_reported"]
    assert not sd.at["weakest", "self_reported"]
    every = short_boards(after, n_indicators=4, n_subdimensions=0, units=["A"])
    assert every.set_index("node_id")["self_reported"].to_dict() == {
        "closure_rate": False, "accidents": False, "pass_rate": False, "stations": True}


def test_short_boards_without_previous_period(runs):
    _, after, _ = runs
    sb = short_boards(after, n_indicators=1, n_subdimensions=1, units=["C"])
    assert list(sb["kind"]) == ["weakest", "strongest", "weakest", "strongest"]
    assert sb["trend"].isna().all() and sb["previous_value"].isna().all()
