"""Issue 13: the readers' SQL lives in sql/ingest/read/ and runs through ingestion.sqlfiles.

Python strings inside the reader functions hold no SQL: mutmut would mutate their case (equivalent
mutants, DuckDB ignores it), and the project standard keeps SQL in files."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("csv_reader", "readers", "xlsx_reader", "profiles", "pii", "record_count", "encoding")
READ_SQL = ROOT / "sql" / "ingest" / "read"
SQL_WORDS = re.compile(r"\b(select|insert|create|drop|delete|update|cast|varchar|bigint|join|temp|rowid|coalesce)\b"
                       r"|\$[A-Za-z_]", re.I)


def _function_strings(module: str):
    """(line, text) of every string constant in the functions of ``ingestion/<module>.py`` (docstrings aside)."""
    tree = ast.parse((ROOT / "ingestion" / f"{module}.py").read_text(encoding="utf-8"))
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
            for stmt in body:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        yield node.lineno, node.value


def test_reader_functions_hold_no_sql_text():
    offenders = [f"{m}.py:{line}: {text[:60]!r}" for m in MODULES for line, text in _function_strings(m)
                 if SQL_WORDS.search(text) and not text.startswith("ingest/read/")]
    assert offenders == []


def test_the_readers_execute_only_sql_files():
    """execute / executemany / sql get the text of a file (sqlfiles.statement), never a literal."""
    for m in MODULES:
        tree = ast.parse((ROOT / "ingestion" / f"{m}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("execute", "executemany", "sql", "query"):
                first = node.args[0]
                assert isinstance(first, ast.Subscript) and isinstance(first.value, ast.Call) \
                    and getattr(first.value.func, "id", None) == "statement", f"{m}.py:{node.lineno}"


def test_every_read_sql_file_is_used_and_every_used_one_exists():
    used = {text for m in MODULES for _, text in _function_strings(m) if text.startswith("ingest/read/")}
    files = {f"ingest/read/{p.name}" for p in READ_SQL.glob("*.sql")}
    assert used == files
