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
