"""The notebooks an analyst starts from (notebooks/): each runs top to bottom with nbclient on the
demo-like pipeline warehouse (tests/conftest.py ``pipeline_warehouse``, province 32, 2024–2025),
reading a read-only snapshot of it (notebooks/snapshot.py), never the live file; and each is
stored without outputs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["month_data_quality", "city_score_explained", "weighting_side_by_side"]


@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_is_stored_without_outputs(name):
    import nbformat

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.slow  # a kernel per notebook, the index recomputed: 10–30 s each
@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_runs_on_demo_data_from_a_read_only_snapshot(name, pipeline_warehouse, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    before = pipeline_warehouse.path.stat().st_mtime_ns
    monkeypatch.setenv("CEI_WAREHOUSE", str(pipeline_warehouse.path))
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type in ("execute_result", "display_data") for o in outputs)
    assert pipeline_warehouse.path.stat().st_mtime_ns == before  # the live file untouched
