"""Shared fixtures.

- ``warehouse`` / ``con``: a throw-away warehouse per test (a path in tmp_path, with ``CEI_PII_KEY``
  set through monkeypatch, so it is unset again after the test) and a connection to it;
- ``pipeline_warehouse``: the synthetic generator's province run through the whole pipeline, built
  ONCE per session (tests/helpers.py ``build_generated_warehouse``). Tests only read it
  (``pipeline_warehouse.connect()`` opens it read-only); a test that writes copies it first
  (``pipeline_warehouse.copy(tmp_path)``). The session ends with a check that the file is unchanged;
- ``hostile_reports``: a copy of that warehouse with a hostile respondent and region name planted,
  and its report folders built by ``cei report`` in zh and en (tests/test_reports_index.py,
  tests/test_browser.py, tests/test_index_stage.py).

``complaint_rows`` and ``write_csv`` live in tests/helpers.py and are re-exported here, so
``from tests.conftest import complaint_rows, write_csv`` keeps working.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from tests.helpers import (  # noqa: F401  (re-exported for the test modules)
    TEST_PII_KEY,
    GeneratedWarehouse,
    build_generated_warehouse,
    complaint_rows,
    env,
    fake_person,
    id_check_char,
    write_csv,
)


@pytest.fixture(autouse=True, scope="module")
def _no_environment_leak(request):
    """Every module leaves the project's environment variables (CEI_*) as it found them: set them with
    monkeypatch in a test, or with tests.helpers.env around a session or module build."""
    before = {k: v for k, v in os.environ.items() if k.startswith("CEI_")}
    yield
    after = {k: v for k, v in os.environ.items() if k.startswith("CEI_")}
    assert after == before, f"{request.module.__name__} leaked environment variables: " + ", ".join(
        sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)))


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse):
    c = duckdb.connect(str(warehouse))
    yield c
    c.close()


@pytest.fixture(scope="session")
def pipeline_warehouse(tmp_path_factory) -> GeneratedWarehouse:
    """Province 32, 2024–2025, generated with ground-truth defects, through the whole pipeline."""
    built = build_generated_warehouse(tmp_path_factory.mktemp("pipeline"))
    assert built.outcome["held_back"] == [], built.outcome["held_back"]
    yield built
    assert built.unchanged(), "a test wrote to the shared pipeline warehouse: copy it first (pipeline_warehouse.copy)"


# The hostile strings planted in the report build (tests/test_reports_index.py, tests/test_browser.py)
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
XSS_REGION = "320100"  # 南京市 gets the hostile name in the built folders
SCOPE, PERIOD = "32", "2025"


@pytest.fixture(scope="session")
def hostile_reports(pipeline_warehouse, tmp_path_factory) -> dict:
    """Report folders (zh, en) built by ``cei report`` from a copy of the pipeline warehouse in which a
    hostile respondent name was planted in clean.complaints (after the index ran, so no value changes)
    and a hostile region name comes through ``reports.index_report.region_names``:
    ``<script>alert(1)</script>`` must show as text everywhere."""
    from click.testing import CliRunner

    import reports.index_report as ir
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("hostile_reports")
    wh = pipeline_warehouse.copy(root)
    with duckdb.connect(str(wh)) as c:
        c.execute("""UPDATE clean.complaints SET respondent_name = $x
                     WHERE record_id IN (SELECT record_id FROM clean.complaints
                                         WHERE handling_region_code LIKE '3201%' AND record_type = '投诉'
                                           AND received_at >= TIMESTAMP '2025-01-01'
                                         ORDER BY record_id LIMIT 40)""", {"x": XSS})
        c.execute("CHECKPOINT")
    real = ir.region_names

    def hostile(scope, codes, lang="zh"):
        names = real(scope, codes, lang)
        if XSS_REGION in names:
            names[XSS_REGION] = XSS
        return names

    out, results = root / "out", {}
    mp = pytest.MonkeyPatch()
    mp.setattr(ir, "region_names", hostile)
    try:
        for lang in ("zh", "en"):
            res = CliRunner().invoke(main, ["--warehouse", str(wh), "report", "--scope", SCOPE, "--period", PERIOD,
                                            "--out", str(out / lang), "--lang", lang])
            results[lang] = res
    finally:
        mp.undo()
    return {"zh": out / "zh", "en": out / "en", "xss_region": XSS_REGION, "root": root, "wh": wh,
            "cli": results}
