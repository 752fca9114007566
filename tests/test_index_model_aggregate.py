"""index_model.aggregate on hand-checkable tables: coverage thresholds at their boundary, defaults,
missing values given as None, ranks with ties at the top and a single unit, the exact refusal
messages, and no numpy warning for a unit with nothing to aggregate.

Written to kill the mutants `make mutation` found surviving in index_model/aggregate.py (TESTING.md).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from index_model.aggregate import (AggregationError, aggregate, arithmetic_mean, geometric_mean, rank_matrix,
                                   renormalised_weights)
from index_model.normalise import rank_desc

NAN = np.nan
# 4 children: row 0 all present, row 1 half present (coverage exactly 0.5), row 2 one of four, row 3 none
X = np.array([[10.0, 20.0, 40.0, 80.0],
              [10.0, NAN, 40.0, NAN],
              [NAN, NAN, NAN, 80.0],
              [NAN, NAN, NAN, NAN]])
W = [0.1, 0.2, 0.3, 0.4]


@pytest.fixture(autouse=True)
def numpy_warnings_are_errors():
    """A unit with no present child must come out NaN quietly, not through a 0/0 RuntimeWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def test_arithmetic_mean_coverage_threshold_is_inclusive():
    row0 = 0.1 * 10 + 0.2 * 20 + 0.3 * 40 + 0.4 * 80
    row1 = (0.1 * 10 + 0.3 * 40) / 0.4
    np.testing.assert_allclose(arithmetic_mean(X, W), [row0, row1, 80.0, NAN])  # default: any child suffices
    np.testing.assert_allclose(arithmetic_mean(X, W, min_coverage=0.5), [row0, row1, NAN, NAN])  # 2 of 4 = 0.5 kept
    np.testing.assert_allclose(arithmetic_mean(X, W, min_coverage=0.51), [row0, NAN, NAN, NAN])
    np.testing.assert_allclose(aggregate(X, W), [row0, row1, 80.0, NAN])  # default method arithmetic, no threshold
    np.testing.assert_allclose(aggregate(X, W, "arithmetic", 0.75), [row0, NAN, NAN, NAN])


def test_geometric_mean_coverage_threshold_is_inclusive_and_per_unit():
    row0 = np.exp(0.1 * np.log(10) + 0.2 * np.log(20) + 0.3 * np.log(40) + 0.4 * np.log(80))
    row1 = np.exp((0.1 * np.log(10) + 0.3 * np.log(40)) / 0.4)
    np.testing.assert_allclose(geometric_mean(X, W), [row0, row1, 80.0, NAN])
    np.testing.assert_allclose(geometric_mean(X, W, 0.5), [row0, row1, NAN, NAN])
    np.testing.assert_allclose(geometric_mean(X, W, 0.51), [row0, NAN, NAN, NAN])
    np.testing.assert_allclose(aggregate(X, W, "geometric", 0.5, node="n"), [row0, row1, NAN, NAN])


def test_missing_values_given_as_none_are_missing():
    rows = [[10, None, 40, None], [None, None, None, None]]
    np.testing.assert_allclose(arithmetic_mean(rows, [1, 2, 3, 4]), [(10 + 120) / 4, NAN])
    np.testing.assert_allclose(geometric_mean(rows, [1, 2, 3, 4]), [np.exp((np.log(10) + 3 * np.log(40)) / 4), NAN])
    np.testing.assert_allclose(renormalised_weights(rows, [1, 2, 3, 4]), [[0.25, 0, 0.75, 0], [NAN] * 4])
    np.testing.assert_array_equal(rank_matrix([[3], [None], [5]]), [[2.0], [NAN], [1.0]])


def test_renormalised_weights_rows_sum_to_one_or_are_missing():
    out = renormalised_weights(X, W)
    np.testing.assert_allclose(out, [[0.1, 0.2, 0.3, 0.4], [0.25, 0, 0.75, 0], [0, 0, 0, 1], [NAN] * 4])
    np.testing.assert_allclose(renormalised_weights(X, W, 0.5), [[0.1, 0.2, 0.3, 0.4], [0.25, 0, 0.75, 0],
                                                                [NAN] * 4, [NAN] * 4])
    np.testing.assert_allclose(renormalised_weights(X, W, 0.51)[1:], [[NAN] * 4] * 3)
    # no children at all: every unit is missing, the shape is kept
    empty = renormalised_weights(np.empty((3, 0)), [])
    assert empty.shape == (3, 0)


def test_unknown_method_names_method_and_node():
    with pytest.raises(AggregationError) as e:
        aggregate(X, W, "median")
    assert str(e.value) == "unknown aggregation method 'median' at node '?'"
    with pytest.raises(AggregationError) as e:
        aggregate(X, W, "harmonic", node="safety")
    assert str(e.value) == "unknown aggregation method 'harmonic' at node 'safety'"


def _bad(n: int) -> np.ndarray:
    return np.array([[0.0, 1.0]] * n + [[2.0, 3.0]])


def test_geometric_refusal_message_is_exact():
    tail = (" have a zero or negative child value (normalise onto a positive range, e.g. minmax low: 1, high: 100)")
    with pytest.raises(AggregationError) as e:
        geometric_mean(_bad(5), [1, 1])  # five bad units, row numbers, no ellipsis, default node
    assert str(e.value) == "geometric mean of node '?' needs strictly positive values; unit(s) 0, 1, 2, 3, 4" + tail
    with pytest.raises(AggregationError) as e:
        geometric_mean(_bad(6), [1, 1], node="integrity")  # six: the first five and an ellipsis
    assert str(e.value) == ("geometric mean of node 'integrity' needs strictly positive values; "
                            "unit(s) 0, 1, 2, 3, 4 ..." + tail)
    units = [f"32{i:02d}00" for i in range(7)]
    with pytest.raises(AggregationError) as e:
        aggregate(_bad(2), [1, 1], "geometric", node="safety", units=units)  # through aggregate: node and units
    assert str(e.value) == ("geometric mean of node 'safety' needs strictly positive values; "
                            "unit(s) 320000, 320100" + tail)


def test_rank_matrix_ties_at_the_top_missing_and_one_unit():
    v = np.array([[5.0, 1.0], [5.0, NAN], [3.0, 2.0], [NAN, 2.0]])
    np.testing.assert_array_equal(rank_matrix(v), [[1, 3], [1, NAN], [3, 1], [NAN, 1]])
    np.testing.assert_array_equal(rank_matrix([[7.0, NAN]]), [[1.0, NAN]])  # a single unit ranks first
    assert rank_matrix(np.empty((0, 2))).shape == (0, 2)
    rng = np.random.default_rng(3)
    m = rng.integers(0, 4, (40, 5)).astype(float)  # many ties
    m[rng.random(m.shape) < 0.1] = NAN
    for j in range(m.shape[1]):  # the vectorised ranks equal rank_desc column by column
        np.testing.assert_array_equal(rank_matrix(m)[:, j], rank_desc(m[:, j]))
