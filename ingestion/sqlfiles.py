"""Locate and run the project's SQL files (``sql/`` at the repository root).

SQL lives in files, parameterised with ``$name`` and bound by DuckDB; Python never splices
values into SQL text. Table names come only from ``ingestion.schema.TABLES`` (never from input)
and are checked against it before use.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ingestion.schema import TABLES

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@lru_cache(maxsize=None)
def sql_text(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def known_table(name: str) -> str:
    """Guard for the few places a table name is part of SQL text: only contract tables pass."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of {sorted(TABLES)}")
    return name


def install_ingest_macros(con) -> None:
    """Normalisation macros plus the data-quality code macros (ID number check) staging uses."""
    from data_quality.sql_macros import install_macros

    install_macros(con)
    con.execute(sql_text("ingest/normalise_macros.sql"))


def create_warehouse_tables(con) -> None:
    con.execute(sql_text("ddl/warehouse.sql"))


def table_exists(con, schema: str, table: str | None = None) -> bool:
    """Whether ``schema.table`` (or, without ``table``, any table of ``schema``) exists in the warehouse."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = $s AND ($t IS NULL OR table_name = $t)",
        {"s": schema, "t": table}).fetchall()[0][0])
