"""index_model uncertainty (Monte-Carlo ranks), strengths/weaknesses, contributions, change attribution."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from index_model import (
    compute_index,
    contributions,
    default_spec,
    explain_change,
    load_spec,
    run_uncertainty,
    spec_from_coinr_imeta,
    strengths_weaknesses,
)

ASEM = Path(__file__).parent / "data" / "verification" / "coinr_asem"


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(ASEM / name, float_precision="round_trip")


@pytest.fixture(scope="module")
def asem_a():
    spec = spec_from_coinr_imeta(read("input_iMeta.csv"), spec_version="asem_a")
    return compute_index(read("input_iData.csv"), spec)


@pytest.fixture(scope="module")
def asem_b_data():
    return read("caseB_expected_treated.csv")


# ------------------------------------------------------------------------------------------ uncertainty
def test_no_injected_uncertainty_gives_zero_width(asem_a):
    u = run_uncertainty(asem_a, runs=20, seed=1, weights="none", normalisations=[{"method": "minmax"}],
                        aggregations=["arithmetic"])
    s = u.summary
    assert (s["rank_low"].fillna(-1) == s["nominal_rank"].fillna(-1)).all()
    assert (s["rank_high"].fillna(-1) == s["nominal_rank"].fillna(-1)).all()
    assert np.nanmax(s["mean_abs_rank_shift"]) == 0
    assert len(s) == len(asem_a.units) * len(asem_a.spec.preorder)


def test_weight_noise_is_seeded_and_brackets_nominal(asem_a):
    u1 = run_uncertainty(asem_a, runs=200, seed=7, weights={"method": "uniform", "spread": 0.25})
    u2 = run_uncertainty(asem_a, runs=200, seed=7, weights={"method": "uniform", "spread": 0.25})
    u3 = run_uncertainty(asem_a, runs=200, seed=8, weights={"method": "uniform", "spread": 0.25})
    pd.testing.assert_frame_equal(u1.summary, u2.summary)
    assert not u1.summary["median_rank"].equals(u3.summary["median_rank"])
    idx = u1.for_node("Index")
    assert (idx["rank_low"] <= idx["median_rank"]).all() and (idx["median_rank"] <= idx["rank_high"]).all()
    inside = (idx["rank_low"] <= idx["nominal_rank"]) & (idx["nominal_rank"] <= idx["rank_high"])
    assert inside.mean() >= 0.9
    assert idx["mean_abs_rank_shift"].gt(0).any() and (idx["rank_high"] > idx["rank_low"]).any()
    # indicators do not depend on weights: zero width
    lpi = u1.for_node("LPI")
    assert (lpi["rank_low"] == lpi["rank_high"]).all()


def test_more_noise_wider_intervals(asem_a):
    def width(**kw):
        s = run_uncertainty(asem_a, runs=150, seed=3, **kw).for_node("Index")
        return (s["rank_high"] - s["rank_low"]).mean()

    assert width(weights={"method": "uniform", "spread": 0.5}) > width(weights={"method": "uniform", "spread": 0.05})
    assert width(weights={"method": "dirichlet", "concentration": 5}) > width(weights={"method": "dirichlet", "concentration": 500})


def test_method_alternatives_are_sampled(asem_a):
    u = run_uncertainty(asem_a, runs=120, seed=11, weights="none",
                        normalisations=[{"method": "minmax"}, {"method": "zscore"}, {"method": "percentile_rank"}],
                        aggregations=["arithmetic", "geometric"])  # geometric runs get positive rescaling
    assert set(u.runs["aggregation"]) == {"arithmetic", "geometric"}
    assert u.runs["normalisation"].nunique() == 3
    assert u.node_shift.set_index("node_id").loc["Index", "mean_abs_rank_shift"] > 0
    assert u.settings["runs"] == 120 and u.rank_samples.shape == (120, 51, len(asem_a.spec.preorder))


def test_mart_rows(asem_a):
    u = run_uncertainty(asem_a, runs=50, seed=2)
    m = asem_a.to_mart("asem", "2018", u)
    assert list(m.columns) == ["scope", "period", "region_code", "node_id", "score", "rank", "rank_low", "rank_high",
                               "spec_version"]
    assert len(m) == 51 * 60 and set(m["node_id"]) == set(asem_a.spec.preorder)
    assert (m["spec_version"] == "asem_a").all()
    row = m[(m.region_code == "CHE") & (m.node_id == "Index")].iloc[0]
    assert row["rank"] == asem_a.ranks.loc["CHE", "Index"]
    no_unc = asem_a.to_mart("asem", "2018")
    assert (no_unc["rank_low"].dropna() == no_unc["rank"].dropna().astype(float)).all()


def test_default_spec_uncertainty_block_runs():
    spec = default_spec()
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"region_code": [f"3201{k:02d}" for k in range(1, 12)]})
    for i in spec.indicator_ids:
        data[i] = rng.uniform(0.2, 1.0, len(data))
    res = compute_index(data, spec)
    u = run_uncertainty(res, runs=60)  # spec: seed, ±25 % weights, 2 aggregations (default_v2: own goalposts)
    assert u.settings["seed"] == 12315 and len(u.settings["normalisations"]) == 1
    assert set(u.runs["aggregation"]) == {"arithmetic", "geometric"}


# ------------------------------------------------------------------------------------------ explanation
def test_strengths_and_weaknesses(asem_a):
    sw = strengths_weaknesses(asem_a, n=3, units=["CHE"])
    strong = sw[sw.kind == "strength"]
    weak = sw[sw.kind == "weakness"]
    ranks = asem_a.ranks.loc["CHE", asem_a.spec.indicator_ids].dropna()
    assert list(strong["rank"]) == sorted(ranks)[:3]
    assert list(weak["rank"]) == sorted(ranks, reverse=True)[:3]
    assert not set(strong.node_id) & set(weak.node_id)
    assert set(sw["dimension_id"]) <= {"Conn", "Sust"}
    by_score = strengths_weaknesses(asem_a, n=2, units=["CHE"], by="score", level=2)
    assert set(by_score["node_id"]) <= {"Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social", "SusEcFin"}
    top2 = asem_a.scores.loc["CHE", by_score["node_id"].unique()]
    assert by_score[by_score.kind == "strength"]["score"].tolist() == sorted(top2, reverse=True)[:2]


def test_contributions_sum_to_the_composite(asem_a):
    c = contributions(asem_a)
    total = c.groupby("unit")["contribution"].sum()
    np.testing.assert_allclose(total.loc[asem_a.units].to_numpy(), asem_a.scores["Index"].to_numpy(), rtol=1e-12)
    ew = c.groupby("unit")["effective_weight"].sum()
    np.testing.assert_allclose(ew.to_numpy(), 1.0, rtol=1e-12)  # missing indicators get 0, the rest renormalised


def _small(aggregation: str = "arithmetic"):
    return load_spec({
        "spec_version": "t", "unit_id": "unit",
        "methods": {"normalisation": {"method": "minmax", "low": 1, "high": 100}, "aggregation": aggregation},
        "aggregates": [{"id": "top", "children": ["d1", "d2"]}, {"id": "d1", "children": ["x1", "x2"]},
                       {"id": "d2", "children": ["x3", "x4", "x5"]}],
        "indicators": [{"id": f"x{k}", "direction": 1 if k != 2 else -1} for k in range(1, 6)],
    })


def _periods(seed: int, missing_in_after: bool = False):
    rng = np.random.default_rng(seed)
    units = [f"r{k}" for k in range(8)]
    before = pd.DataFrame({"unit": units, **{f"x{k}": rng.uniform(0, 10, 8) for k in range(1, 6)}})
    after = before.copy()
    for k in range(1, 6):
        after[f"x{k}"] = after[f"x{k}"] + rng.normal(0, 2, 8)
    if missing_in_after:
        after.loc[3, "x4"] = np.nan
    return before, after


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric"])
def test_change_attribution_sums_exactly(aggregation):
    spec = _small(aggregation)
    b, a = _periods(1, missing_in_after=True)
    rb, ra = compute_index(b, spec), compute_index(a, spec)
    ex = explain_change(rb, ra)
    s = ex.summary.set_index("unit")
    np.testing.assert_allclose(s["delta"], ra.scores["top"] - rb.scores["top"], rtol=1e-12)
    assert np.max(np.abs(s["residual"])) < 1e-10
    sums = ex.effects.groupby("unit")["effect"].sum()
    np.testing.assert_allclose(sums.loc[s.index], s["delta"], atol=1e-10)
    r3 = ex.effects[ex.effects.unit == "r3"]
    assert (("x4", "coverage") in set(zip(r3.component_id, r3.kind)))
    assert "weight" in set(r3.kind)  # siblings of the missing x4 gained weight
    assert set(ex.effects[ex.effects.unit == "r0"]["kind"]) == {"indicator"}
    assert (s["rank_change"] == s["rank_before"] - s["rank_after"]).all()


def test_change_attribution_is_effective_weight_times_delta_for_arithmetic():
    spec = _small("arithmetic")
    b, a = _periods(2)
    rb, ra = compute_index(b, spec), compute_index(a, spec)
    ex = explain_change(rb, ra, units=["r5"])
    eff = rb.effective_weights()
    got = ex.effects.set_index("component_id")["effect"]
    for k in range(1, 6):
        i = f"x{k}"
        assert got[i] == pytest.approx(eff[i] * (ra.normalised.loc["r5", i] - rb.normalised.loc["r5", i]), rel=1e-12)
    # a dimension can be explained too
    d2 = explain_change(rb, ra, node="d2", units=["r5"])
    assert set(d2.effects["component_id"]) == {"x3", "x4", "x5"}


def test_change_attribution_between_coinr_cases(asem_a):
    """Case A (raw, missing values) vs case B (imputed, treated): every unit's change is fully attributed."""
    spec_b = spec_from_coinr_imeta(read("input_iMeta.csv"), spec_version="asem_b")
    rb = compute_index(read("caseB_expected_treated.csv"), spec_b)
    ex = explain_change(asem_a, rb)
    assert np.max(np.abs(ex.summary["residual"])) < 1e-9
    assert {"indicator", "weight", "coverage"} <= set(ex.effects["kind"])


def test_common_normalisation_reference_isolates_own_change():
    """With pooled min/max over both periods a unit whose values did not move has an unchanged score,
    whatever its peers did; per-period min-max would move it."""
    spec = _small("arithmetic")
    b, a = _periods(4)
    a.loc[0, [f"x{k}" for k in range(1, 6)]] = b.loc[0, [f"x{k}" for k in range(1, 6)]]  # r0 unchanged
    pooled = pd.concat([b, a], ignore_index=True)
    rb = compute_index(b, spec, normalisation_reference=pooled)
    ra = compute_index(a, spec, normalisation_reference=pooled)
    assert ra.scores.loc["r0", "top"] == pytest.approx(rb.scores.loc["r0", "top"], abs=1e-12)
    ex = explain_change(rb, ra, units=["r0"])
    assert ex.effects["effect"].abs().max() < 1e-12
    per_period = explain_change(compute_index(b, spec), compute_index(a, spec), units=["r0"])
    assert per_period.effects["effect"].abs().max() > 1e-6
    u = run_uncertainty(ra, runs=10, seed=1, weights="none")  # MC keeps the reference
    assert (u.for_node("top")["rank_low"] == ra.ranks["top"]).all()
