"""End to end on the synthetic generator's output: generate → ingest → staging → rulebook.

For each of the eight injected families, the rows the gate's rules of that family report equal the
generator's ground truth (precision = recall = 1.0), and no row without an injected defect gets an
error. Late handling (statutory deadlines, late sampling disposal) is reported as a warning: it is
a true fact about handling that the index measures, not a defect to quarantine. Slow (generation + ingestion ≈ 15 s): ``make test-slow``.
"""
from __future__ import annotations

import warnings

import duckdb
import pandas as pd
import pytest

from tests.helpers import TEST_PII_KEY, env

pytestmark = pytest.mark.slow

FILE_PREFIX = {"complaints": "complaints_", "sampling_results": "sampling_results_", "hotline_stats": "hotline_stats_"}


@pytest.fixture(scope="module")
def staged_defects(tmp_path_factory):
    """Generated province 32 with 5% injected defects, ingested to staging (no gate): (connection, ground truth)."""
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
    with env(CEI_PII_KEY=TEST_PII_KEY):  # set for the load only: no variable outlives the fixture
        ingest_paths(con, files, warehouse=wh)
    truth = pd.read_csv(landing / "ground_truth_defects.csv", dtype=str)
    yield con, truth
    con.close()


@pytest.mark.parametrize("table", ["complaints", "sampling_results", "hotline_stats"])
def test_precision_recall_per_family(staged_defects, table):
    from data_quality import engine

    con, truth = staged_defects
    res = engine.evaluate(con, table, f"staging.{table}")
    assert res.attrs["skipped"] == {}
    gt = truth[truth.file.str.startswith(FILE_PREFIX[table])]
    assert len(gt) > 0
    for family in sorted(set(gt.family)):
        expected = set(gt[gt.family == family].record_id)
        found = set(res[res.family == family].record_key)
        assert found == expected, (family, sorted(found - expected)[:5], sorted(expected - found)[:5])
    # no error on a row without an injected defect, and every error is of the row's own family
    err = res[res.severity == "error"]
    defect_family = dict(zip(gt.record_id, gt.family))
    stray = err[~err.record_key.isin(defect_family)]
    assert stray.empty, stray.head().to_dict("records")
    wrong = err[err.record_key.map(defect_family) != err.family]
    assert wrong.empty, wrong.head().to_dict("records")
