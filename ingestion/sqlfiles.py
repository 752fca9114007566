"""Locate and run the project's SQL files (``sql/`` at the repository root).

SQL lives in files, parameterised with ``$name`` and bound by DuckDB; Python never splices
values into SQL text. Table names come only from ``ingestion.schema.TABLES`` (never from input)
and are checked against it before use.

:func:`run` is the one way the ingestion and gate modules execute SQL: the text of one file, with
exactly the ``$parameters`` that file uses bound (a missing or unused one is an error naming the
file: DuckDB matches parameter names without regard to case, so a misspelt name would otherwise
be bound silently), and ``{placeholders}`` filled only with contract table names or with SQL
fragments the code derives from the contract (column lists, key conditions), never with input.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from ingestion.schema import TABLES

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
# what DuckDB binds no parameter in: quoted identifiers (a delivered header such as "price $USD"),
# string literals and line comments, taken in one pass so that "--" inside quotes is no comment
_NOT_BOUND = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|--[^\n]*')
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_FILL = re.compile(r"--[^\n]*|\{([a-z_]+)\}")  # a line comment (kept as written) or a placeholder


@lru_cache(maxsize=None)
def sql_text(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def parameters(text: str) -> frozenset[str]:
    """The ``$name`` parameters SQL text uses (not in comments, quoted names or string literals)."""
    return frozenset(_PARAM.findall(_NOT_BOUND.sub("", text)))


def statement(relative: str, params: Mapping[str, Any] | None = None, table: str | None = None,
              **fragments: str) -> tuple[str, dict[str, Any]]:
    """The text of ``sql/<relative>`` with its placeholders filled, and the parameters to bind.

    ``{table}`` takes a contract table (checked by :func:`known_table`); any other ``{name}`` takes
    the fragment of that name. Every placeholder must be given and every fragment used; the
    parameters given must be exactly those the text uses."""
    text = sql_text(relative)
    fills = dict(fragments)
    if table is not None:
        fills["table"] = known_table(table)
    wanted = set(_PLACEHOLDER.findall(_LINE_COMMENT.sub("", text)))
    if wanted != fills.keys():
        raise ValueError(f"sql/{relative}: placeholders {sorted(wanted)}, given {sorted(fills)}")
    if fills:  # outside comments only: a fragment of several lines or with a quote would break out of one
        text = _FILL.sub(lambda m: fills[m.group(1)] if m.group(1) else m.group(0), text)
    given = dict(params or {})
    used = parameters(text)
    if used != given.keys():
        missing, unused = sorted(used - given.keys()), sorted(given.keys() - used)
        raise ValueError(f"sql/{relative}: parameters missing {missing}, not used {unused}")
    return text, given


def run(con, relative: str, params: Mapping[str, Any] | None = None, table: str | None = None, **fragments: str):
    """Execute ``sql/<relative>`` (see :func:`statement`); returns the DuckDB result."""
    text, bound = statement(relative, params, table, **fragments)
    return con.execute(text, bound) if bound else con.execute(text)


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
    return bool(run(con, "ingest/table_exists.sql", {"schema": schema, "table": table}).fetchall()[0][0])
