"""Dagster resources: the DuckDB warehouse (one writer at a time: every writing asset uses pool "duckdb")."""
from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.settings import duckdb_config, warehouse_path

DUCKDB_POOL = "duckdb"


def warehouse_resource(path: str | None = None) -> DuckDBResource:
    return DuckDBResource(database=str(warehouse_path(path)), connection_config=duckdb_config())


class LandingConfig(dg.Config):
    """Where delivered files arrive; ``source_id`` overrides the feed name taken from file names;
    ``encoding`` forces one encoding for the CSV files (``cei run --encoding``)."""

    landing_dir: str = "data/landing"
    source_id: str | None = None
    encoding: str | None = None
