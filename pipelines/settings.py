"""Where things live: the warehouse file and the landing folder (environment, then defaults)."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")
DEFAULT_LANDING = Path("data/landing")


def warehouse_path(explicit: str | os.PathLike | None = None) -> Path:
    """``--warehouse`` if given, else ``CEI_WAREHOUSE``, else ``data/warehouse.duckdb``."""
    p = Path(explicit or os.environ.get("CEI_WAREHOUSE") or DEFAULT_WAREHOUSE)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def landing_dir(explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get("CEI_LANDING") or DEFAULT_LANDING)


# DuckDB by default may take 80% of RAM for its buffers; the pipeline keeps to a budget and spills
# to disk beyond it (measured: 1M-record ingest peaks at ~1.3 GB RSS with 1200MB, ~2.4 GB without).
DEFAULT_MEMORY_LIMIT = "1200MB"


def duckdb_config() -> dict:
    return {"memory_limit": os.environ.get("CEI_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT}


def connect(path: str | os.PathLike, read_only: bool = False):
    """A DuckDB connection to the warehouse with the pipeline's settings."""
    import duckdb

    return duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
