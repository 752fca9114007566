"""A read-only snapshot of the warehouse for the notebooks (no Dagster, no pipeline settings).

DuckDB allows one writer: a notebook holding the live file would block the pipeline's runs. So
every notebook copies the warehouse (``CEI_WAREHOUSE``, else ``../data/warehouse.duckdb`` as
``make demo`` writes it) into a temporary folder, makes the copy read-only and opens it read-only.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import duckdb

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "warehouse.duckdb"


def open_snapshot(source: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """Copy the warehouse, make the copy read-only, and open it read-only."""
    src = Path(source or os.environ.get("CEI_WAREHOUSE") or DEFAULT)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no warehouse (run `make demo`, or set CEI_WAREHOUSE)")
    copy = Path(tempfile.mkdtemp(prefix="cei-snapshot-")) / "warehouse.duckdb"
    shutil.copyfile(src, copy)
    copy.chmod(stat.S_IRUSR | stat.S_IRGRP)
    return duckdb.connect(str(copy), read_only=True)
