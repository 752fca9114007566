"""End to end on the synthetic generator: landing files -> ingest -> clean (= staging here) -> reports.

Marked slow (≈20 s): ``make test-slow``. The surge test must find the surges the generator planted
(manifest ``planted_surges``) for the report year.
"""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from tests.helpers import TEST_PII_KEY, env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic_warehouse(tmp_path_factory):
    import synthetic
    from ingestion.loader import ingest_paths

    root = tmp_path_factory.mktemp("synthetic")
    summary = synthetic.generate(synthetic.GeneratorConfig(scope="3204", years=(2024, 2025), records_per_year=20000,
                                                           seed=11, out_dir=root / "landing", file_format="parquet"))
    con = duckdb.connect(str(root / "wh.duckdb"))
    with env(CEI_PII_KEY=TEST_PII_KEY):  # set for the load only: no variable outlives the fixture
        ingest_paths(con, [root / "landing"])
    for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles"):
        con.execute(f"CREATE OR REPLACE TABLE clean.{t} AS SELECT * FROM staging.{t}")
    yield root, con, summary
    con.close()


def test_planted_surges_are_found(synthetic_warehouse):
    from reports.complaints_analysis import collect, prepare
    from reports.periods import parse_period
    from reports.scope import load_scope

    root, con, _ = synthetic_warehouse
    scope, period = load_scope("3204"), parse_period("2025")
    surges = prepare(collect(con, scope, period), scope, period, "zh")["surges"]
    manifest = json.loads((root / "landing" / "manifest.json").read_text(encoding="utf-8"))
    planted = [p for p in manifest["planted_surges"] if p["year"] == 2025]
    assert planted
    for p in planted:
        month = dt.date.fromisoformat(p["month"] + "-01")
        if p["kind"] == "respondent":
            r = surges["respondent"]
            hit = r[r.surge & (r.month == month) & (r.series == p["respondent_name"])]
        else:
            r = surges["category"]
            hit = r[r.surge & (r.month == month) & (r.category == p["category"])]
        assert len(hit) == 1, p


def test_reports_render_from_synthetic_data(synthetic_warehouse):
    from reports import build_reports

    root, con, _ = synthetic_warehouse
    for lang in ("zh", "en"):
        idx = build_reports(con, "3204", "2025", root / "out" / lang, lang=lang)
        for page in ("complaints_analysis.html", "kpi_scorecard.html", "sampling_report.html"):
            text = (idx.parent / page).read_text(encoding="utf-8")
            assert 'id="tbl-' in text and "Plotly.newPlot" in text
        assert len(list((idx.parent).rglob("*.js"))) == 1
