"""SQL access for the reports: run ``sql/reports/<name>.sql`` with bound ``$params`` -> DataFrame.

All values (scope prefix, dates, limits, thresholds) are bound by DuckDB; none is spliced into SQL
text. Query names are fixed strings in this package (checked against the files that exist).
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from ingestion.sqlfiles import SQL_DIR, sql_text

REPORT_SQL_DIR = SQL_DIR / "reports"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=None)
def report_sql(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name) or not (REPORT_SQL_DIR / f"{name}.sql").is_file():
        raise ValueError(f"unknown report query {name!r}")
    return sql_text(f"reports/{name}.sql")


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


@lru_cache(maxsize=None)
def query_params(name: str) -> frozenset[str]:
    """The ``$names`` a query uses (comments ignored)."""
    return frozenset(_PARAM.findall(_strip_comments(report_sql(name))))


def run(con, name: str, **params) -> pd.DataFrame:
    """Run a report query; ``params`` must cover its ``$names`` (extra ones are an error too)."""
    needed = query_params(name)
    missing = needed - params.keys()
    extra = params.keys() - needed
    if missing or extra:
        raise TypeError(f"query {name}: missing parameters {sorted(missing)}, unexpected {sorted(extra)}")
    return con.execute(report_sql(name), params).df()


def table_exists(con, schema: str, table: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $s AND table_name = $t",
        {"s": schema, "t": table},
    ).fetchall()
    return rows[0][0] > 0
