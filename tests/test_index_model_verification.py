"""index_model against results of other tools (copies of shared/verification in tests/data/verification).

* COINr 1.1.14 on its ASEM example (README in coinr_asem/): cases A, B (every stage), C1-C3, D.
* UNDP HDI 2021: all 191 published values (3 dp) and ranks.
* AHP: Saaty's drinks example (published weights and CR), ArcGIS Pro 5x5 example (published
  weights; inconsistent, so the spec loader must refuse it).
* Entropy weights: Hwang & Yoon aircraft matrix under three variants.

Everything goes through the public API (``index_model``). Relative error tolerance 1e-9, ranks exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from index_model import (
    SpecError,
    ahp_weights,
    coherence_report,
    compute_index,
    entropy_weights,
    load_spec,
    spec_from_coinr_imeta,
)

DATA = Path(__file__).parent / "data" / "verification"
ASEM = DATA / "coinr_asem"
REL = 1e-9


def read(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip", **kw)


def max_rel_err(got: pd.DataFrame, expected: pd.DataFrame, key: str = "uCode") -> float:
    """Max relative error over all cells (absolute error where the expected value is 0); NaN must match."""
    exp = expected.set_index(key)
    assert set(exp.columns) <= set(got.columns), set(exp.columns) - set(got.columns)
    assert set(exp.index) == set(got.index)
    g = got.loc[exp.index, exp.columns].to_numpy(dtype=float)
    e = exp.to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
    ok = ~np.isnan(e)
    diff = np.abs(g[ok] - e[ok])
    scale = np.abs(e[ok])
    return float(np.max(np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)))


def assert_ranks_equal(got: pd.DataFrame, expected: pd.DataFrame, key: str = "uCode") -> None:
    exp = expected.set_index(key)
    g = got.loc[exp.index, exp.columns].to_numpy(dtype=float)
    np.testing.assert_array_equal(g, exp.to_numpy(dtype=float))


@pytest.fixture(scope="module")
def imeta() -> pd.DataFrame:
    return read(ASEM / "input_iMeta.csv")


@pytest.fixture(scope="module")
def idata() -> pd.DataFrame:
    return read(ASEM / "input_iData.csv")


@pytest.fixture(scope="module")
def case_b(imeta, idata):
    spec = spec_from_coinr_imeta(imeta, spec_version="asem_case_b", use_denominators=True, methods={
        "imputation": {"method": "group_mean", "group_column": "EurAsia_group"},
        "screening": {"min_unit_coverage": 0.9},
        "treatment": {"method": "winsorise", "skew_threshold": 2, "kurtosis_threshold": 3.5, "max_points": 5},
    })
    return compute_index(idata, spec)


# ---------------------------------------------------------------------------------------------- COINr A
def test_coinr_case_a_every_value_and_rank(imeta, idata):
    spec = spec_from_coinr_imeta(imeta, spec_version="asem_case_a")
    assert spec.methods.normalisation["method"] == "minmax" and spec.methods.aggregation == "arithmetic"
    res = compute_index(idata, spec)
    assert res.prepared.isna().to_numpy().sum() == 63  # the 63 missing cells stay missing
    assert max_rel_err(res.normalised, read(ASEM / "caseA_expected_normalised.csv")) <= REL
    assert max_rel_err(res.scores, read(ASEM / "caseA_expected_scores.csv")) <= REL
    assert_ranks_equal(res.ranks, read(ASEM / "caseA_expected_ranks.csv"))


# ---------------------------------------------------------------------------------------------- COINr B
def test_coinr_case_b_every_stage(case_b):
    res = case_b
    assert max_rel_err(res.stages["denominated"], read(ASEM / "caseB_expected_denominated.csv")) <= REL
    assert max_rel_err(res.stages["imputed"], read(ASEM / "caseB_expected_imputed.csv")) <= REL
    assert max_rel_err(res.stages["screened"], read(ASEM / "caseB_expected_screened.csv")) <= REL
    kept = read(ASEM / "caseB_units_kept.csv", dtype=str)["uCode"]
    assert sorted(res.units) == sorted(kept) and res.excluded_units == []
    assert max_rel_err(res.stages["treated"], read(ASEM / "caseB_expected_treated.csv")) <= REL
    assert max_rel_err(res.normalised, read(ASEM / "caseB_expected_normalised.csv")) <= REL
    assert max_rel_err(res.scores, read(ASEM / "caseB_expected_scores.csv")) <= REL
    assert_ranks_equal(res.ranks, read(ASEM / "caseB_expected_ranks.csv"))


def test_coinr_case_b_treatment_log_and_points(case_b):
    log = read(ASEM / "caseB_treatment_log.csv").set_index("iCode")
    got = case_b.treatment_log.set_index("indicator").loc[log.index]
    assert (got["pass_before"].astype(bool) == log["check_SkewKurt0.Pass"].astype(bool)).all()
    assert np.max(np.abs(got["skew_before"] - log["check_SkewKurt0.Skew"]) / np.abs(log["check_SkewKurt0.Skew"])) <= REL
    assert np.max(np.abs(got["kurt_before"] - log["check_SkewKurt0.Kurt"]) / np.abs(log["check_SkewKurt0.Kurt"])) <= REL
    treated = log["winsorise.nwin"].notna()
    assert treated.sum() == 15
    assert (got.loc[treated, "n_winsorised"].astype(int) == log.loc[treated, "winsorise.nwin"].astype(int)).all()
    assert got.loc[treated, "pass_after"].astype(bool).all()
    for col in ("Skew", "Kurt"):
        e = log.loc[treated, f"check_SkewKurt1.{col}"]
        g = got.loc[treated, f"{col.lower()}_after"]
        assert np.max(np.abs(g - e) / np.abs(e)) <= REL
    points = pd.read_csv(ASEM / "caseB_treated_points.csv", keep_default_na=False, dtype=str).set_index("uCode")
    mine = case_b.treated_points.loc[points.index, points.columns]
    assert (mine == points).all().all()


def test_coinr_case_b_presentation_table(case_b):
    """COINr's get_results(tab_type = "Aggs"): 2-dp scores sorted by Index rank."""
    tab = read(ASEM / "caseB_get_results_Aggs.csv").set_index("uCode")
    scores = case_b.scores.loc[tab.index, [c for c in tab.columns if c != "Rank"]]
    np.testing.assert_array_equal(scores.round(2).to_numpy(), tab.drop(columns="Rank").to_numpy())
    assert (case_b.ranks.loc[tab.index, "Index"].astype(int) == tab["Rank"]).all()


# ---------------------------------------------------------------------------------------------- COINr C
@pytest.fixture(scope="module")
def treated():
    return read(ASEM / "caseB_expected_treated.csv")


def test_coinr_case_c1_zscore(imeta, treated):
    spec = spec_from_coinr_imeta(imeta, spec_version="c1", methods={"normalisation": {"method": "zscore", "mean": 0, "sd": 1}})
    res = compute_index(treated, spec)
    assert max_rel_err(res.normalised, read(ASEM / "caseC1_zscore_normalised.csv")) <= REL
    assert max_rel_err(res.scores, read(ASEM / "caseC1_zscore_amean_scores.csv")) <= REL


def test_coinr_case_c2_minmax_1_100_geometric(imeta, treated):
    spec = spec_from_coinr_imeta(imeta, spec_version="c2", methods={
        "normalisation": {"method": "minmax", "low": 1, "high": 100}, "aggregation": "geometric"})
    res = compute_index(treated, spec)
    assert max_rel_err(res.normalised, read(ASEM / "caseC2_minmax1to100_normalised.csv")) <= REL
    assert max_rel_err(res.scores, read(ASEM / "caseC2_gmean_scores.csv")) <= REL
    assert_ranks_equal(res.ranks, read(ASEM / "caseC2_gmean_ranks.csv"))


def test_coinr_case_c3_percentile_rank(imeta, treated):
    spec = spec_from_coinr_imeta(imeta, spec_version="c3", methods={"normalisation": {"method": "percentile_rank"}})
    res = compute_index(treated, spec)
    assert max_rel_err(res.normalised, read(ASEM / "caseC3_prank_normalised.csv")) <= REL
    assert max_rel_err(res.scores, read(ASEM / "caseC3_prank_amean_scores.csv")) <= REL
    # the README's pitfall: TolMin values that print alike are different doubles, so not ties
    tol = treated.set_index("uCode")["TolMin"]
    assert tol["GRC"] != tol["BGR"] and res.normalised.loc["GRC", "TolMin"] != res.normalised.loc["BGR", "TolMin"]


# ---------------------------------------------------------------------------------------------- COINr D
def test_coinr_case_d_coherence(case_b):
    coh = coherence_report(case_b)
    alpha = coh["alpha"]
    exp = read(ASEM / "caseD_cronbach_alpha.csv")
    for _, r in exp.iterrows():
        items = "indicators" if r["group"] == "Index" else "children"
        got = alpha[(alpha["node_id"] == r["group"]) & (alpha["items"] == items)]["cronbach_alpha"]
        assert len(got) == 1
        assert abs(got.iloc[0] - r["cronbach_alpha"]) <= REL * abs(r["cronbach_alpha"]), r["group"]
    corr = coh["correlations"]
    corr = corr[corr["relation"] == "parent"].set_index("node_id")
    e = read(ASEM / "caseD_indicator_parent_correlation.csv").set_index("iCode")
    assert (corr.loc[e.index, "other_id"] == e["Parent"]).all()
    rel = np.abs(corr.loc[e.index, "pearson"] - e["pearson_with_parent"]) / np.abs(e["pearson_with_parent"])
    assert rel.max() <= REL
    flagged = set(coh["flags"]["node_id"])
    assert "SusEcFin" in flagged and "P2P" not in flagged  # negative alpha flagged, alpha 0.85 not


# ---------------------------------------------------------------------------------------------- HDI
@pytest.fixture(scope="module")
def hdi():
    data = read(DATA / "hdi_2021" / "hdi_2021_input_and_published.csv")
    spec = load_spec(DATA / "specs" / "hdi_2021.yaml")
    return data, spec, compute_index(data, spec)


def test_hdi_2021_published_values_and_ranks(hdi):
    data, spec, res = hdi
    pub = data.set_index("iso3")
    assert len(res.units) == 191
    np.testing.assert_array_equal(res.scores["hdi"].round(3).loc[pub.index].to_numpy(), pub["hdi_2021_published"].to_numpy())
    np.testing.assert_array_equal(res.ranks["hdi"].loc[pub.index].to_numpy(), pub["hdi_rank_2021_published"].to_numpy())
    ref = read(DATA / "hdi_2021" / "hdi_2021_recomputed_reference.csv").set_index("iso3")
    for mine, theirs in (("le_2021", "health_index"), ("education", "education_index"), ("gnipc_2021", "income_index"),
                         ("hdi", "hdi_unrounded")):
        assert np.max(np.abs(res.scores[mine].loc[ref.index] - ref[theirs])) <= 1e-12
    assert res.scores.loc["HKG", "hdi"].round(3) == 0.952  # LE above the 85 goalpost is capped


def test_hdi_ranking_unrounded_changes_29_ranks(hdi):
    data, spec, res = hdi
    full = compute_index(data, spec.with_methods(ranking={"ties": "min", "decimals": None}))
    assert int((full.ranks["hdi"] != res.ranks["hdi"]).sum()) == 29


# ---------------------------------------------------------------------------------------------- AHP
W = DATA / "weights_ahp_entropy"


def test_ahp_saaty_drinks():
    m = pd.read_csv(W / "ahp_saaty_drinks_matrix.csv", index_col=0, dtype=str)
    exp = pd.read_csv(W / "ahp_saaty_drinks_expected.csv", float_precision="round_trip", nrows=7).set_index("item")
    extra = pd.read_csv(W / "ahp_saaty_drinks_expected.csv", header=None, skiprows=9, float_precision="round_trip")
    extra = dict(zip(extra[0], extra[1]))
    res = ahp_weights(m.to_numpy().tolist(), method="eigenvector", random_index="saaty_2005")
    w = pd.Series(res.weights, index=m.index)
    assert np.max(np.abs(w[exp.index] - exp["weight_eigenvector_computed"]) / exp["weight_eigenvector_computed"]) <= REL
    np.testing.assert_array_equal(w[exp.index].round(3).to_numpy(), exp["weight_published_3dp"].to_numpy())
    assert abs(res.lambda_max - float(extra["lambda_max_computed"])) <= REL * 7
    assert abs(res.ci - float(extra["CI_computed"])) <= REL * float(extra["CI_computed"])
    assert res.ri == 1.35 and round(res.cr, 3) == float(extra["CR_published_3dp"]) == 0.022
    assert round(ahp_weights(m.to_numpy().tolist(), random_index="saaty_classic").cr, 4) == 0.0223
    # the row-geometric-mean approximation differs in the 3rd decimal (water 0.324), as the README says
    assert round(float(ahp_weights(m.to_numpy().tolist(), method="geometric_mean").weights[-1]), 3) == 0.324


def test_ahp_arcgis_inconsistent_example():
    t = pd.read_csv(W / "ahp_arcgis_5x5_example.csv", nrows=5, float_precision="round_trip").set_index("row_vs_col")
    extra = pd.read_csv(W / "ahp_arcgis_5x5_example.csv", header=None, skiprows=7, float_precision="round_trip")
    extra = dict(zip(extra[0], extra[1]))
    mat = t.iloc[:, :5].to_numpy()
    res = ahp_weights(mat, method="column_normalise", random_index="saaty_classic")
    assert np.max(np.abs(res.weights - t["weight_colnorm_rowmean_computed"].to_numpy()) / res.weights) <= REL
    np.testing.assert_array_equal(res.weights.round(3), t["weight_published_3dp"].to_numpy())
    assert abs(res.lambda_max - extra["lambda_max_computed (mean of (Aw)_i/w_i)"]) <= REL * 5
    assert abs(res.ci - extra["CI_computed"]) <= REL * extra["CI_computed"]
    assert abs(res.cr - extra["CR_computed_RI_1.12"]) <= REL * extra["CR_computed_RI_1.12"]
    assert not res.consistent and res.ri == 1.12

    # through a spec: refused with a message naming the node and the CR, accepted when explicitly allowed
    items = list(t.index)
    raw = {
        "spec_version": "arcgis",
        "methods": {},
        "aggregates": [{"id": "site", "children": items,
                        "weighting": {"method": "ahp", "estimator": "column_normalise", "random_index": "saaty_classic",
                                      "matrix": mat.tolist()}}],
        "indicators": [{"id": i, "direction": 1} for i in items],
    }
    with pytest.raises(SpecError, match=r"aggregate 'site': AHP matrix is inconsistent: CR = 0\.3262 > 0\.1"):
        load_spec(raw)
    raw["aggregates"][0]["weighting"]["allow_inconsistent"] = True
    spec = load_spec(raw)
    data = pd.DataFrame({"u": ["a", "b", "c"], **{i: [1.0, 2.0, 3.0 + k] for k, i in enumerate(items)}})
    out = compute_index(data, spec, unit_col="u")
    np.testing.assert_allclose(out.weights["site"].to_numpy(), t["weight_colnorm_rowmean_computed"].to_numpy(), rtol=REL)
    assert out.weight_info["site"]["random_index_table"] == "saaty_classic"


def test_random_index_tables_match_file():
    from index_model import RANDOM_INDEX_TABLES

    t = pd.read_csv(W / "ahp_random_index_tables.csv")
    for mine, col in (("saaty_classic", "RI_saaty_classic"), ("chinese_textbook", "RI_common_chinese_textbook"),
                      ("saaty_2005", "RI_saaty_2005_anp_book")):
        np.testing.assert_array_equal(np.array(RANDOM_INDEX_TABLES[mine]), t[col].to_numpy())


# ---------------------------------------------------------------------------------------------- entropy
def test_entropy_hwang_yoon_three_variants():
    raw = pd.read_csv(W / "entropy_hwang_yoon_aircraft.csv", header=None, float_precision="round_trip")
    x = raw.iloc[1:5, 1:7].astype(float).to_numpy()
    direction = raw.iloc[5, 1:7].astype(float).astype(int).to_numpy()
    rows = {r[0]: np.array([float(v) for v in r[1:7]]) for r in raw.iloc[6:].to_numpy() if isinstance(r[0], str)}
    for variant, prefix in (("raw", "V1_raw_proportion"), ("minmax", "V2_minmax_then_proportion"),
                            ("minmax_shifted", "V3_minmax*0.99+0.01")):
        res = entropy_weights(x, direction, variant=variant)
        e_key = [k for k in rows if k.startswith(prefix) and "entropy" in k][0]
        w_key = [k for k in rows if k.startswith(prefix) and "weight" in k][0]
        assert np.max(np.abs(res.entropy - rows[e_key]) / rows[e_key]) <= REL, variant
        assert np.max(np.abs(res.weights - rows[w_key]) / rows[w_key]) <= REL, variant
        assert abs(res.weights.sum() - 1) < 1e-12
