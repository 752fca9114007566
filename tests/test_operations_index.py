"""The index takes its scope from the data and is never written when a blocking check fails:
no NaN score, at least two regions, every region of the scope present, weights summing to 1."""
from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.index_guards import INDEX_CHECKS, index_problems, scope_from_regions


@pytest.mark.parametrize("rows, scope", [
    ([("32", "3204")], "3204"),                          # one prefecture: its counties
    ([("32", None), ("32", "3204")], "3204"),            # plus the provincial centre 320000
    ([("32", "3204"), ("32", "3201")], "32"),            # several prefectures: the province
    ([("32", "3204"), ("11", "1101")], "CN"),            # several provinces
    ([("11", "1101")], "11"),                            # a 直辖市's districts rank under the province
    ([("44", "4419")], "44"),                            # 东莞: a prefecture without counties
    ([], "CN"),
])
def test_the_default_scope_comes_from_the_data(rows, scope):
    assert scope_from_regions(rows) == scope


def _run(scores: dict, weights: dict):
    spec = SimpleNamespace(root="cei", children=lambda node: ("safety", "rights") if node == "cei" else ())
    result = SimpleNamespace(scores=pd.DataFrame(scores), weights={k: pd.Series(v) for k, v in weights.items()})
    return SimpleNamespace(spec=spec, result=result)


def test_index_problems_name_each_failure():
    good = _run({"cei": {"320402": 60.0, "320404": 55.0}, "safety": {"320402": 50.0, "320404": 40.0},
                 "rights": {"320402": 70.0, "320404": 70.0}},
                {"cei": {"safety": 0.5, "rights": 0.5}})
    assert index_problems(good, ["320402", "320404"]) == {name: [] for name in INDEX_CHECKS}

    bad = _run({"cei": {"320402": 61.0, "320404": float("nan")}, "safety": {"320402": 50.0, "320404": 40.0},
                "rights": {"320402": float("nan"), "320404": 70.0}},
               {"cei": {"safety": 0.5, "rights": 0.4}})
    found = index_problems(bad, ["320402", "320404", "320411"])
    assert found["no_nan_scores"] == ["320404 cei", "320402 rights"]
    # a row of NaN is no ranking: 320404 counts as missing, one region is ranked
    assert found["at_least_two_regions"] == ["1 region(s) ranked"]
    assert found["expected_regions_present"] == ["missing 320404, 320411"]
    assert found["weights_sum_to_one"] == ["cei 0.900000"]


def test_a_prefectures_data_is_ranked_by_its_counties_and_never_as_its_province(tmp_path, warehouse):
    landing = tmp_path / "landing"
    runner = CliRunner()
    res = runner.invoke(main, ["generate", "--scope", "3204", "--years", "2025", "--records-per-year", "500",
                               "--seed", "5", "--out", str(landing)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing)])  # no --scope
    assert res.exit_code == 0, res.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT scope, count(*), count(*) FILTER (WHERE isnan(score)) FROM mart.index_scores "
                           "WHERE node_id = 'cei' GROUP BY scope").fetchall()
    assert rows == [("3204", 6, 0)]  # 常州市's six counties, no NaN score
    assert (warehouse.parent / "reports" / "3204_2025" / "index.html").is_file()

    # asked to rank the province from one prefecture's data: the checks refuse, nothing is written
    res = runner.invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing),
                               "--scope", "32", "--period", "2025"])
    assert res.exit_code == 3, res.output
    assert "expected_regions_present" in res.output and "at_least_two_regions" in res.output, res.output
    assert "expected_regions_present (2025: missing 320100, 320200" in res.output  # names what it found
    assert "no_nan_scores (2025: 320100 cei" in res.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM mart.index_scores WHERE scope = '32'").fetchall()[0][0] == 0
    assert not (warehouse.parent / "reports" / "32_2025").exists()  # the reports were held back
