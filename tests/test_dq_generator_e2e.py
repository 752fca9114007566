"""End to end on the synthetic generator's output: generate → ingest → staging → rulebook.

For each of the eight injected families, the rows the gate's *error* rules of that family flag
equal the generator's ground truth (precision = recall = 1.0), and no other error rule fires on
generator output. Slow (generation + ingestion ≈ 15 s): ``make test-slow``.
"""
from __future__ import annotations

import warnings

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

FILE_PREFIX = {"complaints": "complaints_", "sampling_results": "sampling_results_", "hotline_stats": "hotline_stats_"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from ingestion.loader import ingest_paths
    from synthetic.config import GeneratorConfig
    from synthetic.generate import generate

    root = tmp_path_factory.mktemp("dq_e2e")
    landing, wh = root / "landing", root / "wh.duckdb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generate(GeneratorConfig(scope="32", years=(2024, 2025), records_per_year=10000, seed=23, out_dir=landing,
                                 defect_rate=0.05))
    con = duckdb.connect(str(wh))
    files = [p for p in landing.iterdir()
             if p.suffix == ".csv" and not p.name.startswith(("ground_truth", "region_traits"))]
    ingest_paths(con, files, warehouse=wh)
    truth = pd.read_csv(landing / "ground_truth_defects.csv", dtype=str)
    yield con, truth
    con.close()


@pytest.mark.parametrize("table", ["complaints", "sampling_results", "hotline_stats"])
def test_precision_recall_per_family(warehouse, table):
    from data_quality import engine

    con, truth = warehouse
    res = engine.evaluate(con, table, f"staging.{table}")
    assert res.attrs["skipped"] == {}
    err = res[res.severity == "error"]
    gt = truth[truth.file.str.startswith(FILE_PREFIX[table])]
    assert len(gt) > 0
    for family in sorted(set(gt.family) | set(err.family)):
        expected = set(gt[gt.family == family].record_id)
        found = set(err[err.family == family].record_key)
        assert found == expected, (family, sorted(found - expected)[:5], sorted(expected - found)[:5])
