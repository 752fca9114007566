"""index_model.compute_index_files: analyst-brought CSV/XLSX -> CSVs + one XLSX for every node."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from index_model import (
    DataError,
    compute_index_files,
    default_spec,
    default_spec_path,
    dump_spec,
    long_to_wide,
    read_table,
    spec_from_coinr_imeta,
)

ASEM = Path(__file__).parent / "data" / "verification" / "coinr_asem"


def _cities(n: int = 9, seed: int = 3) -> pd.DataFrame:
    spec = default_spec()
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"region_code": [f"0{k}1000" for k in range(1, n + 1)]})  # leading zero must survive
    for ind in spec.indicators:
        d[ind.id] = rng.uniform(0.3, 1.0, n) if ind.unit == "share" else rng.uniform(1, 30, n)
        if spec.min_records_of(ind.id):
            d[f"{ind.id}__n"] = rng.integers(5, 300, n)
    d.loc[2, "closure_rate"] = np.nan
    return d


def test_files_from_csv_every_node_and_xlsx(tmp_path):
    data = _cities()
    src = tmp_path / "cities.csv"
    data.to_csv(src, index=False)
    out = tmp_path / "out"
    summary = compute_index_files(src, default_spec_path(), out, uncertainty_runs=30, seed=1)
    spec = default_spec()
    assert summary["spec_version"] == "default_v2" and summary["units"] == 9 and summary["nodes"] == 48
    assert summary["uncertainty_runs"] == 30 and len(summary["top"]) == 9
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["units"] == 9
    scores = pd.read_csv(out / "scores.csv", encoding="utf-8-sig", dtype={"region_code": str})
    ranks = pd.read_csv(out / "ranks.csv", encoding="utf-8-sig", dtype={"region_code": str})
    norm = pd.read_csv(out / "normalised.csv", encoding="utf-8-sig", dtype={"region_code": str})
    assert list(scores.columns) == ["region_code", *spec.preorder] == list(ranks.columns)
    assert list(norm.columns) == ["region_code", *spec.indicator_ids]
    assert scores["region_code"].iloc[0] == "011000"
    long = pd.read_csv(out / "index_long.csv", encoding="utf-8-sig", dtype={"unit": str})
    assert {"unit", "node_id", "level", "score", "rank", "grade", "rank_low", "rank_high"} <= set(long.columns)
    assert len(long) == 9 * 48 and set(long["level"]) == {0, 1, 2, 3}
    book = openpyxl.load_workbook(out / "index_results.xlsx", read_only=True)
    for sheet in ("index_long", "normalised", "scores", "ranks", "weights", "methodology", "coherence_alpha",
                  "coherence_correlation", "strengths_weaknesses", "small_count_flags", "uncertainty"):
        assert sheet in book.sheetnames
    x = pd.read_excel(out / "index_results.xlsx", sheet_name="scores", dtype={"region_code": str})
    np.testing.assert_allclose(x["cei"].to_numpy(), scores["cei"].to_numpy(), rtol=1e-15)
    meth = pd.read_csv(out / "methodology.csv", encoding="utf-8-sig")
    assert "spec_version" in set(meth["item"]) and "uncertainty" in set(meth["section"])
    flags = pd.read_csv(out / "small_count_flags.csv", encoding="utf-8-sig")
    assert len(flags) > 0 and (flags["record_count"] < flags["min_records"]).all()


def test_files_reproduce_coinr_case_a_from_xlsx(tmp_path):
    idata = pd.read_csv(ASEM / "input_iData.csv", float_precision="round_trip")
    spec = spec_from_coinr_imeta(pd.read_csv(ASEM / "input_iMeta.csv"), spec_version="asem_a")
    spec_path = dump_spec(spec, tmp_path / "asem.yaml")
    src = tmp_path / "asem.xlsx"
    idata.to_excel(src, index=False)
    summary = compute_index_files(src, spec_path, tmp_path / "out", uncertainty_runs=0)
    assert summary["units"] == 51 and summary["uncertainty_runs"] == 0
    got = pd.read_csv(tmp_path / "out" / "scores.csv", encoding="utf-8-sig", float_precision="round_trip").set_index("uCode")
    exp = pd.read_csv(ASEM / "caseA_expected_scores.csv", float_precision="round_trip").set_index("uCode")
    np.testing.assert_allclose(got.loc[exp.index, exp.columns].to_numpy(), exp.to_numpy(), rtol=1e-12)
    ranks = pd.read_csv(tmp_path / "out" / "ranks.csv", encoding="utf-8-sig").set_index("uCode")
    exp_r = pd.read_csv(ASEM / "caseA_expected_ranks.csv").set_index("uCode")
    np.testing.assert_array_equal(ranks.loc[exp_r.index, exp_r.columns].to_numpy(), exp_r.to_numpy())
    assert not (tmp_path / "out" / "uncertainty.csv").exists()


def test_gb18030_csv_and_explicit_unit_column(tmp_path):
    data = _cities(5).rename(columns={"region_code": "地区代码"})
    src = tmp_path / "gbk.csv"
    data.to_csv(src, index=False, encoding="gb18030")
    assert list(read_table(src).columns)[0] == "地区代码"
    summary = compute_index_files(src, default_spec_path(), tmp_path / "o", unit_col="地区代码", uncertainty_runs=0)
    assert summary["unit_column"] == "地区代码" and summary["units"] == 5


def test_long_table_input(tmp_path):
    wide = _cities(6)
    spec = default_spec()
    long = wide.melt(id_vars="region_code", value_vars=spec.indicator_ids, var_name="indicator_id", value_name="value")
    long["record_count"] = 500
    src = tmp_path / "indicator_values.csv"
    long.to_csv(src, index=False)
    values, counts = long_to_wide(long)
    assert counts.shape == (6, len(spec.indicator_ids))
    summary = compute_index_files(src, default_spec_path(), tmp_path / "o", uncertainty_runs=0)
    assert summary["units"] == 6
    flags = pd.read_csv(tmp_path / "o" / "small_count_flags.csv", encoding="utf-8-sig")
    assert len(flags) == 0  # 500 records everywhere


def test_unusable_files_fail_clearly(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        compute_index_files(tmp_path / "none.csv", default_spec_path(), tmp_path / "o")
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(DataError, match="unsupported file type"):
        read_table(p)
    bad = _cities(4).drop(columns=["closure_rate"])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    from index_model import SpecError

    with pytest.raises(SpecError, match="data lacks indicator\\(s\\) closure_rate"):
        compute_index_files(tmp_path / "bad.csv", default_spec_path(), tmp_path / "o")
