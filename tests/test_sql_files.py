"""SQL lives in files (project standard): the ingestion modules and the data-quality gate run SQL only
through ``ingestion.sqlfiles`` — the text of one file under ``sql/``, with exactly its parameters.

Strings inside their functions hold no SQL either: besides the standard, mutmut would put such text in
another case, an equivalent mutant (DuckDB ignores the case), and `run` checks parameter names exactly,
which DuckDB does not. The rule engine (``data_quality/engine.py``) is the one exception: it renders each
rule's SQL from the rulebook (``data_quality/rules.yaml``), which is where those rules live.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ingestion import sqlfiles

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "ingestion").glob("*.py")) + [ROOT / "data_quality" / "gate.py"]
SQL_WORDS = re.compile(r"\b(select|insert|create|drop|delete|update|cast|varchar|bigint|join|temp|rowid|coalesce|"
                       r"begin|commit|rollback|describe)\b|\$[A-Za-z_]", re.IGNORECASE)
SQL_PATH = re.compile(r"^(ingest|dq|ddl|staging)/[\w/]+\.sql$")
RUNNERS = {"execute", "executemany", "sql", "query"}
OWN_FOLDERS = ("ingest/load", "ingest/read", "dq/gate")  # every file in these is some module's


def _function_strings(path: Path):
    """(line, text) of every string constant in the functions of ``path`` (docstrings aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
            for stmt in body:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        yield node.lineno, node.value


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_function_holds_sql_text(path):
    offenders = [f"{path.name}:{line}: {text[:60]!r}" for line, text in _function_strings(path)
                 if SQL_WORDS.search(text) and not SQL_PATH.match(text)]
    assert offenders == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_sql_is_executed_only_as_the_text_of_a_file(path):
    """execute / executemany / sql get a name bound to a file's text, never a literal or a sum of strings."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS and node.args:
            first = node.args[0]
            assert not isinstance(first, (ast.Constant, ast.JoinedStr, ast.BinOp)), f"{path.name}:{node.lineno}"


def test_every_sql_file_named_exists_and_every_file_of_the_modules_folders_is_used():
    named = {text for path in MODULES for _, text in _function_strings(path) if SQL_PATH.match(text)}
    for relative in named:
        assert (sqlfiles.SQL_DIR / relative).is_file(), relative
    for folder in OWN_FOLDERS:
        for f in (sqlfiles.SQL_DIR / folder).glob("*.sql"):
            assert f.relative_to(sqlfiles.SQL_DIR).as_posix() in named, f"{f} is used by no module"
