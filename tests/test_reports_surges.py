"""Surge detection (reports/surges.py) on constructed monthly series."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from reports.surges import (SurgeMethod, benjamini_hochberg, binom_sf, detect_surges, rate_ratio_pvalue,
                            months_with_history)

MONTHS = list(pd.date_range("2024-01-01", periods=24, freq="MS").date)
TEST = MONTHS[12:]  # 2025


def series(values: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame([{"key": k, "month": m, "n": int(x)} for k, xs in values.items() for m, x in zip(MONTHS, xs)])


def test_finds_a_planted_surge_among_flat_series():
    rng = np.random.default_rng(20250601)
    data = {f"s{i}": list(rng.poisson(10, 24)) for i in range(30)}
    data["s7"][17] = 45  # 2025-06
    res = detect_surges(series(data), ["key"], TEST)
    hits = res[res.surge]
    assert list(zip(hits.key, hits.month)) == [("s7", dt.date(2025, 6, 1))]
    assert hits.iloc[0]["count"] == 45 and hits.iloc[0].q_value < 1e-6
    assert res.attrs["tested"] == 30 * 12


@pytest.mark.parametrize("lam", [2, 10, 50, 400])
def test_nothing_in_flat_poisson_series(lam):
    rng = np.random.default_rng(12345 + lam)
    data = {f"s{i}": list(rng.poisson(lam, 24)) for i in range(200)}
    res = detect_surges(series(data), ["key"], TEST)
    assert not res.surge.any()
    assert res.attrs["tested"] == 200 * 12


def test_seasonal_peak_below_ratio_is_not_a_surge():
    """A 3·15-style 1.6× March peak on a large series is 'significant' for Poisson, but under the effect size."""
    base = [1000] * 24
    base[14] = 1600  # 2025-03
    res = detect_surges(series({"big": base}), ["key"], TEST)
    row = res[res.month == dt.date(2025, 3, 1)].iloc[0]
    assert row.p_value < 1e-50 and row.ratio == pytest.approx(1.6)
    assert not row.surge


def test_new_series_with_empty_baseline():
    """A respondent never seen before with 12 complaints in a month: exact test, no rate estimate needed."""
    vals = [0] * 24
    vals[20] = 12
    res = detect_surges(series({"gym": vals}), ["key"], TEST)
    row = res.iloc[0]
    assert row.surge and row.baseline_sum == 0 and row.ratio == np.inf
    assert row.p_value == pytest.approx((1 / 13) ** 12)


def test_minimum_count_and_history():
    vals = [0] * 24
    vals[20] = 9  # below min_count: never flagged, not even listed
    res = detect_surges(series({"x": vals}), ["key"], TEST)
    assert res.empty and res.attrs["tested"] == 12
    # data begin in 2025-01: the first months of 2025 lack 6 months of history
    late = pd.DataFrame([{"key": "x", "month": m, "n": 40 if m == dt.date(2025, 3, 1) else 5} for m in TEST])
    res = detect_surges(late, ["key"], TEST, observed_from=dt.date(2025, 1, 1))
    assert dt.date(2025, 3, 1) not in set(res.month)
    assert res.attrs["untested_history"] == 1
    assert months_with_history(TEST, dt.date(2025, 1, 1)) == TEST[6:]


def test_months_before_the_data_are_not_zeros():
    """Without observed_from the baseline would be zeros and every month a surge."""
    vals = [0] * 12 + [20] * 12
    res = detect_surges(series({"x": vals}), ["key"], TEST[6:], observed_from=dt.date(2025, 1, 1))
    assert not res.surge.any()


def test_extra_cells_make_bh_more_conservative():
    vals = [3] * 24
    vals[18] = 14
    res_small = detect_surges(series({"x": vals}), ["key"], TEST)
    res_big = detect_surges(series({"x": vals}), ["key"], TEST, extra_cells=100_000)
    assert res_small.iloc[0].surge and not res_big.iloc[0].surge
    assert res_big.attrs["tested"] == 12 + 100_000


def test_multi_key_series():
    rng = np.random.default_rng(3)
    rows = []
    for unit in ("320402", "320404"):
        for cat in ("服装鞋帽", "交通工具"):
            for m in MONTHS:
                n = int(rng.poisson(8)) + (40 if (unit, cat, m) == ("320404", "交通工具", dt.date(2025, 10, 1)) else 0)
                rows.append({"unit_code": unit, "category": cat, "month": m, "n": n})
    res = detect_surges(pd.DataFrame(rows), ["unit_code", "category"], TEST)
    hits = res[res.surge]
    assert list(zip(hits.unit_code, hits.category, hits.month)) == [("320404", "交通工具", dt.date(2025, 10, 1))]


def test_empty_input():
    res = detect_surges(pd.DataFrame(columns=["key", "month", "n"]), ["key"], TEST)
    assert res.empty and "surge" in res.columns


def test_binomial_tail_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for n, k, p in [(10, 3, 0.1), (130, 10, 1 / 13), (100, 40, 1 / 13), (500_000, 40_000, 1 / 13), (50, 50, 0.3),
                    (200, 5, 0.5), (13, 1, 1 / 13), (1000, 0, 0.2), (1000, 1001, 0.2)]:
        expected = stats.binom.sf(k - 1, n, p)
        assert binom_sf(k, n, p) == pytest.approx(expected, rel=1e-8, abs=1e-300)


def test_rate_ratio_pvalue_is_the_conditional_binomial():
    assert rate_ratio_pvalue(10, [10] * 12) > 0.4
    assert rate_ratio_pvalue(40, [10] * 12) < 1e-10
    assert np.isnan(rate_ratio_pvalue(5, []))


def test_benjamini_hochberg_known_values():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    q = benjamini_hochberg(p)
    assert q[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[4])
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    pv = rng.random(50) ** 3
    assert benjamini_hochberg(pv) == pytest.approx(stats.false_discovery_control(pv, method="bh"))


def test_method_is_configurable():
    vals = [100] * 24
    vals[16] = 170  # 1.7× the baseline: significant, but under the default 2× effect size
    strict = detect_surges(series({"x": vals}), ["key"], TEST)
    loose = detect_surges(series({"x": vals}), ["key"], TEST, method=SurgeMethod(min_ratio=1.5))
    assert not strict.surge.any()
    assert list(loose[loose.surge].month) == [dt.date(2025, 5, 1)]
