"""Install the data-quality SQL macros (``sql/macros/*.sql``) on a DuckDB connection.

The heavy, row-wise rules of the gate (GB 32100 USCC check character, GB 11643 ID check) run
as DuckDB macros rather than Python: ``Series.map`` over millions of codes is ~10x slower
(docs: engineering-notes §2.4, §6 item 17), and GX's SQL path on DuckDB is broken in 1.24.1,
so SQL rules are written as plain DuckDB SQL and GX is used only on pandas batches.

The macros are ``TEMP``: they belong to the connection, not to the warehouse file, so they
work on read-only connections and must be installed on every new connection (cheap: a few ms).
Installing twice is harmless (``CREATE OR REPLACE``).

    >>> import duckdb
    >>> from data_quality.sql_macros import install_macros
    >>> con = duckdb.connect()
    >>> install_macros(con)
    ['codes.sql']
    >>> con.sql("select uscc_is_valid('91110000600037341L')").fetchone()[0]
    True
"""
from __future__ import annotations

from pathlib import Path

# sql/ sits next to the Python packages at the repository root (editable install). If the
# project is ever installed as a wheel, sql/ has to move into a package (pyproject's
# package-data ships *.sql only inside packages).
SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
MACRO_DIR = SQL_DIR / "macros"

# Order matters when one file's macros call another's; codes.sql has no dependencies.
MACRO_FILES: tuple[str, ...] = ("codes.sql",)


def macro_sql(name: str = "codes.sql") -> str:
    """The text of one macro file (for people who want to paste it into a DuckDB shell)."""
    return (MACRO_DIR / name).read_text(encoding="utf-8")


def install_macros(con, files: tuple[str, ...] | None = None) -> list[str]:
    """Run the macro files on ``con`` (a ``duckdb.DuckDBPyConnection``); returns the files run.

    ``files`` defaults to every file in MACRO_FILES followed by any other ``*.sql`` in
    ``sql/macros`` (sorted), so a new macro file is picked up without touching this module.
    """
    if files is None:
        extra = sorted(p.name for p in MACRO_DIR.glob("*.sql") if p.name not in MACRO_FILES)
        files = MACRO_FILES + tuple(extra)
    for name in files:
        path = MACRO_DIR / name
        if not path.is_file():
            raise FileNotFoundError(f"macro file {path} not found")
        # execute() runs every statement of the script; consume nothing (DDL returns no rows)
        con.execute(path.read_text(encoding="utf-8"))
    return list(files)
