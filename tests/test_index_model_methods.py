"""index_model methods on small hand-checkable tables: normalisation, weights, aggregation, ranks,
grades, small counts, input errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from index_model import (
    AggregationError,
    DataError,
    compute_index,
    distance_to_target,
    goalposts,
    grade,
    load_spec,
    minmax,
    percentile_rank,
    rank_desc,
    zscore,
)
from index_model.aggregate import arithmetic_mean, geometric_mean


def small_spec(**methods) -> dict:
    """composite <- {dim_a <- (a1 +, a2 -), dim_b <- (b1 +, b2 +, b3 +)}."""
    return {
        "spec_version": "test",
        "unit_id": "unit",
        "methods": methods,
        "aggregates": [
            {"id": "top", "children": ["dim_a", "dim_b"]},
            {"id": "dim_a", "children": ["a1", "a2"]},
            {"id": "dim_b", "children": ["b1", "b2", "b3"]},
        ],
        "indicators": [
            {"id": "a1", "direction": 1, "target": 0.9},
            {"id": "a2", "direction": -1},
            {"id": "b1", "direction": 1},
            {"id": "b2", "direction": 1},
            {"id": "b3", "direction": 1},
        ],
    }


DATA = pd.DataFrame({
    "unit": ["u1", "u2", "u3", "u4"],
    "a1": [0.5, 0.7, 0.9, 1.0],
    "a2": [10.0, 20.0, 30.0, 40.0],
    "b1": [1.0, 2.0, 3.0, 4.0],
    "b2": [4.0, 3.0, 2.0, 1.0],
    "b3": [2.0, np.nan, 2.5, 3.0],
})


# ------------------------------------------------------------------------------------ normalisation
def test_minmax_any_range_and_direction():
    x = [2.0, 4.0, np.nan, 6.0]
    np.testing.assert_allclose(minmax(x), [0, 50, np.nan, 100])
    np.testing.assert_allclose(minmax(x, -1), [100, 50, np.nan, 0])
    np.testing.assert_allclose(minmax(x, low=1, high=100), [1, 50.5, np.nan, 100])
    assert np.isnan(minmax([3.0, 3.0])).all()  # constant: no information
    np.testing.assert_allclose(minmax([3.0, 3.0], constant_value=50), [50, 50])


def test_zscore_with_output_mean_and_sd():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    z = zscore(x)
    assert abs(z.mean()) < 1e-15 and abs(z.std(ddof=1) - 1) < 1e-15
    z2 = zscore(x, -1, mean=10, sd=2)  # "10 + 2z" style, reversed
    np.testing.assert_allclose(z2, 10 - 2 * z)


def test_distance_to_target_caps_and_rescales():
    x = [0.5, 0.7, 0.95, 1.0]
    np.testing.assert_allclose(distance_to_target(x, 0.95), [0, 200 / 4.5 * 1, 100, 100])
    np.testing.assert_allclose(distance_to_target(x, 0.95, cap=False)[-1], 0.5 / 0.45 * 100)
    np.testing.assert_allclose(distance_to_target(x, 0.95, reference=0), np.minimum(np.array(x) / 0.95, 1) * 100)
    # negative indicator: target 5 days, worst 20 days
    np.testing.assert_allclose(distance_to_target([20.0, 10.0, 5.0, 3.0], 5.0, -1), [0, 200 / 3, 100, 100])
    # everybody meets the target
    np.testing.assert_allclose(distance_to_target([0.96, 0.99], 0.95), [100, 100])


def test_percentile_rank_ties_share_min():
    np.testing.assert_allclose(percentile_rank([3.0, 1.0, 3.0, 2.0, np.nan]), [2 / 3, 0, 2 / 3, 1 / 3, np.nan])
    np.testing.assert_allclose(percentile_rank([3.0, 1.0, 2.0], -1, low=0, high=100), [0, 100, 50])


def test_goalposts_cap_and_log():
    np.testing.assert_allclose(goalposts([10.0, 52.5, 90.0], low=20, high=85, scale=1), [0, 0.5, 1])
    np.testing.assert_allclose(goalposts([100.0, 75000.0, 1e6], low=100, high=75000, log=True, scale=1), [0, 1, 1])


def test_rank_desc_ties_share_best_rank():
    np.testing.assert_array_equal(rank_desc([5.0, 7.0, 7.0, 1.0, np.nan, 5.0]), [3, 1, 1, 5, np.nan, 3])
    np.testing.assert_array_equal(rank_desc([0.9514, 0.9506, 0.9495], decimals=3), [1, 1, 3])


def test_grades_first_band_reached():
    bands = (("优", 85.0), ("良", 70.0), ("中", 60.0), ("差", None))
    assert grade([90, 85, 84.99, 60, 12, np.nan], bands) == ["优", "优", "良", "中", "差", None]


# ------------------------------------------------------------------------------------ aggregation
def test_missing_children_skipped_and_renormalised():
    x = np.array([[10.0, 20.0, np.nan], [np.nan, np.nan, np.nan], [30.0, np.nan, np.nan]])
    w = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(arithmetic_mean(x, w), [(5 + 6) / 0.8, np.nan, 30])
    # min coverage 1/2: the third unit (1 of 3 children) becomes missing
    np.testing.assert_allclose(arithmetic_mean(x, w, min_coverage=0.5), [(5 + 6) / 0.8, np.nan, np.nan])
    np.testing.assert_allclose(geometric_mean(x, w), [np.exp((0.5 * np.log(10) + 0.3 * np.log(20)) / 0.8), np.nan, 30])


def test_geometric_mean_refuses_zero_naming_node_and_unit():
    with pytest.raises(AggregationError, match="node 'dim_b'.*unit\\(s\\) u2"):
        geometric_mean(np.array([[1.0, 2.0], [0.0, 3.0]]), [0.5, 0.5], node="dim_b", units=["u1", "u2"])
    spec = load_spec(small_spec(aggregation="geometric"))
    with pytest.raises(AggregationError, match="strictly positive"):
        compute_index(DATA, spec)  # min-max 0-100 gives zeros


def test_small_spec_end_to_end_by_hand():
    res = compute_index(DATA, load_spec(small_spec()))
    n = res.normalised
    np.testing.assert_allclose(n["a1"], [0, 40, 80, 100])
    np.testing.assert_allclose(n["a2"], [100, 200 / 3, 100 / 3, 0])
    np.testing.assert_allclose(n["b3"], [0, np.nan, 50, 100])
    dim_b_u2 = (n.loc["u2", "b1"] + n.loc["u2", "b2"]) / 2  # b3 missing -> mean of two
    assert res.scores.loc["u2", "dim_b"] == pytest.approx(dim_b_u2)
    top = (res.scores["dim_a"] + res.scores["dim_b"]) / 2
    np.testing.assert_allclose(res.scores["top"], top)
    assert list(res.ranks["top"]) == list(rank_desc(top.to_numpy()))
    assert list(res.scores.columns) == ["top", "dim_a", "a1", "a2", "dim_b", "b1", "b2", "b3"]
    lg = res.long()
    assert len(lg) == 4 * 8 and set(lg["level"]) == {0, 1, 2}
    assert lg.loc[(lg.unit == "u2") & (lg.node_id == "b3"), "rank"].isna().all()


def test_fixed_weights_and_per_node_overrides():
    raw = small_spec(weighting={"method": "fixed"})
    w = {"dim_a": 0.25, "dim_b": 0.75, "a1": 0.5, "a2": 0.5, "b1": 0.2, "b2": 0.3, "b3": 0.5}
    for item in raw["aggregates"] + raw["indicators"]:
        if item["id"] in w:
            item["weight"] = w[item["id"]]
    raw["aggregates"][1]["aggregation"] = "geometric"
    raw["aggregates"][1]["min_coverage"] = 1.0
    raw["indicators"][0]["normalisation"] = {"method": "distance_to_target", "low": 1, "high": 100}
    raw["indicators"][1]["normalisation"] = {"method": "minmax", "low": 1, "high": 100}
    res = compute_index(DATA, load_spec(raw))
    n = res.normalised
    np.testing.assert_allclose(n["a1"], [1, 1 + 99 * 0.5, 100, 100])
    np.testing.assert_allclose(res.scores["dim_a"], np.sqrt(n["a1"] * n["a2"]))
    u2 = (0.2 * n.loc["u2", "b1"] + 0.3 * n.loc["u2", "b2"]) / 0.5
    assert res.scores.loc["u2", "dim_b"] == pytest.approx(u2)
    np.testing.assert_allclose(res.scores["top"], 0.25 * res.scores["dim_a"] + 0.75 * res.scores["dim_b"])
    eff = res.effective_weights()
    assert eff["b3"] == pytest.approx(0.375) and eff[["a1", "a2", "b1", "b2", "b3"]].sum() == pytest.approx(1)


def test_entropy_and_ahp_weights_inside_the_tree():
    raw = small_spec()
    raw["aggregates"][2]["weighting"] = {"method": "entropy", "variant": "minmax"}
    raw["aggregates"][0]["weighting"] = {"method": "ahp", "matrix": [[1, 3], ["1/3", 1]], "random_index": "saaty_2005"}
    res = compute_index(DATA, load_spec(raw))
    np.testing.assert_allclose(res.weights["top"].to_numpy(), [0.75, 0.25])
    assert res.weight_info["top"]["cr"] == 0.0
    from index_model import entropy_weights

    exp = entropy_weights(res.normalised[["b1", "b2", "b3"]].to_numpy(), variant="minmax").weights
    np.testing.assert_allclose(res.weights["dim_b"].to_numpy(), exp)
    assert any("entropy weights at 'dim_b'" in n for n in res.notes)


# ------------------------------------------------------------------------------------ small counts
@pytest.mark.parametrize("treatment", ["shrink", "missing", "flag"])
def test_small_count_treatments(treatment):
    raw = small_spec(small_count={"treatment": treatment, "min_records": 0})
    raw["indicators"][0]["min_records"] = 100
    counts = pd.DataFrame({"a1": [400, 25, 100, 1000]}, index=["u1", "u2", "u3", "u4"])
    res = compute_index(DATA, load_spec(raw), counts=counts)
    flags = res.small_count_flags
    assert list(flags["unit"]) == ["u2"] and flags["record_count"].iloc[0] == 25
    got = res.prepared.loc["u2", "a1"]
    if treatment == "shrink":
        pooled = (400 * 0.5 + 25 * 0.7 + 100 * 0.9 + 1000 * 1.0) / 1525
        z = np.sqrt(25 / 100)
        assert got == pytest.approx(z * 0.7 + (1 - z) * pooled)
        assert res.prepared.loc["u3", "a1"] == 0.9  # exactly at min_records: untouched
    elif treatment == "missing":
        assert np.isnan(got) and np.isnan(res.normalised.loc["u2", "a1"])
    else:
        assert got == 0.7
    assert res.long().query("node_id == 'a1' and unit == 'u2'")["record_count"].iloc[0] == 25


def test_counts_can_ride_along_as_suffixed_columns():
    raw = small_spec(small_count={"treatment": "missing", "min_records": 0})
    raw["indicators"][0]["min_records"] = 100
    data = DATA.assign(a1__n=[400, 25, 100, 1000])
    res = compute_index(data, load_spec(raw))
    assert np.isnan(res.prepared.loc["u2", "a1"])
    assert not any("a1__n" in n for n in res.notes)
    res2 = compute_index(DATA, load_spec(raw))
    assert any("no record counts supplied" in n for n in res2.notes)


# ------------------------------------------------------------------------------------ input errors
def test_bad_input_named():
    spec = load_spec(small_spec())
    bad = DATA.copy().astype({"b2": object})
    bad.loc[2, "b2"] = "n/a?"
    with pytest.raises(DataError, match="column 'b2' has a non-numeric value 'n/a\\?' for unit 'u3'"):
        compute_index(bad, spec)
    with pytest.raises(DataError, match="duplicate id\\(s\\): u1"):
        compute_index(pd.concat([DATA, DATA.iloc[[0]]]), spec)
    with pytest.raises(DataError, match="unit id column 'region' not found"):
        compute_index(DATA, spec, unit_col="region")
    blanks = DATA.astype({"b2": object})
    blanks.loc[1, "b2"] = " "
    assert np.isnan(compute_index(blanks, spec).prepared.loc["u2", "b2"])


def test_screening_and_imputation():
    raw = small_spec(screening={"min_unit_coverage": 0.9}, imputation={"method": "none"})
    res = compute_index(DATA, load_spec(raw))
    assert res.excluded_units == ["u2"] and "u2" not in res.scores.index
    raw = small_spec(imputation={"method": "group_mean", "group_column": "g"})
    res = compute_index(DATA.assign(g=["x", "x", "y", "y"]), load_spec(raw))
    assert res.prepared.loc["u2", "b3"] == 2.0 and bool(res.imputed_cells.loc["u2", "b3"])


def test_ahp_random_index_table_default_is_named():
    raw = small_spec()
    raw["aggregates"][2]["weighting"] = {"method": "ahp", "matrix": [[1, 2, 4], ["1/2", 1, 2], ["1/4", "1/2", 1]]}
    res = compute_index(DATA, load_spec(raw))
    info = res.weight_info["dim_b"]
    assert info["random_index_table"] == "chinese_textbook" and info["ri"] == 0.52
    np.testing.assert_allclose(res.weights["dim_b"].to_numpy(), [4 / 7, 2 / 7, 1 / 7])  # consistent matrix
    assert abs(info["cr"]) < 1e-12
    from index_model import methodology_table

    meth = methodology_table(res)
    assert meth["value"].str.contains("table chinese_textbook").any()
