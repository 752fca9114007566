"""Run the indicator SQL files (``sql/indicators/*.sql``) with bound parameters.

Every statement the indicator layer executes is the verbatim text of one of these files; values
(scope units, period bounds, cut-off dates, statutory limits, the indicator and region of a
drill-down) reach DuckDB only as ``$name`` parameters or as registered frames, never spliced into
SQL text. A file names its parameters; :func:`run` binds exactly those (DuckDB rejects extra
ones) and fails, naming the file, when one is missing.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "indicators"



@lru_cache(maxsize=None)
def sql_text(name: str) -> str:
    path = SQL_DIR / name
    if path.parent != SQL_DIR or path.suffix != ".sql":
        raise ValueError(f"not an indicator SQL file: {name!r}")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def parameters(name: str) -> frozenset[str]:
    """The ``$name`` parameters a file uses (comments ignored: DuckDB does not bind those)."""
    from ingestion.sqlfiles import parameters as used  # one scan of SQL text for the project

    return used(sql_text(name))


def run(con, name: str, params: Mapping[str, Any] | None = None):
    """Execute ``sql/indicators/<name>`` binding the parameters it uses; returns the DuckDB result."""
    text, bound = _bound(name, params)
    return con.execute(text, bound) if bound else con.execute(text)


def _bound(name: str, params: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The file's text and the parameters it uses, taken from ``params`` (a missing one is an error)."""
    wanted = parameters(name)
    given = dict(params or {})
    missing = sorted(wanted - given.keys())
    if missing:
        raise ValueError(f"sql/indicators/{name} needs parameter(s) {', '.join('$' + m for m in missing)}")
    return sql_text(name), {k: given[k] for k in sorted(wanted)}


def stream(con, name: str, params: Mapping[str, Any] | None = None, batch_rows: int = 100_000):
    """Execute ``sql/indicators/<name>`` like :func:`run`, as a ``pyarrow.RecordBatchReader`` of
    about ``batch_rows`` rows a batch: the rows come as DuckDB produces them, never all at once (a
    DB-API result's Arrow reader copies the whole result first)."""
    text, bound = _bound(name, params)
    rel = con.sql(text, params=bound) if bound else con.sql(text)
    return rel.to_arrow_reader(batch_rows)


def all_files() -> list[str]:
    return sorted(p.name for p in SQL_DIR.glob("*.sql"))


def replace_rows(con, frame_name: str, frame, delete_file: str, delete_params: Mapping[str, Any], insert_file: str) -> None:
    """Delete a slice (``delete_file``) and insert ``frame`` (registered as ``frame_name``, read by
    ``insert_file``) in one transaction — joining the caller's transaction when one is open."""
    import duckdb

    con.register(frame_name, frame)
    try:
        try:
            con.begin()
            own = True
        except duckdb.TransactionException:  # the caller's transaction makes it atomic
            own = False
        try:
            run(con, delete_file, delete_params)
            run(con, insert_file)
            if own:
                con.commit()
        except BaseException:
            if own:
                con.rollback()
            raise
    finally:
        con.unregister(frame_name)
