"""SQL lives in files (project standard): the ingestion modules and the data-quality gate run SQL only
through ``ingestion.sqlfiles`` — the text of one file under ``sql/``, with exactly its parameters.

The rule engine (``data_quality/engine.py``) is the one exception: it renders each rule's SQL from the
rulebook (``data_quality/rules.yaml``), which is where those rules live.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ingestion import sqlfiles

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "ingestion").glob("*.py")) + [ROOT / "data_quality" / "gate.py"]
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|WITH|COPY|ALTER|BEGIN|COMMIT|ROLLBACK|DESCRIBE)\b",
                       re.IGNORECASE)
RUNNERS = {"execute", "executemany", "sql", "query"}


def _literal_text(node: ast.AST) -> str | None:
    """The literal text an expression starts with, when it is a string, an f-string or a sum of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return first.value if isinstance(first, ast.Constant) else ""
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left)
    return None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_sql_is_run_from_files_never_from_python_strings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS and node.args:
            if _literal_text(node.args[0]) is not None:
                found.append(f"{path.name}:{node.lineno} runs SQL text written in Python")
        text = _literal_text(node) if isinstance(node, (ast.Constant, ast.JoinedStr)) else None
        if text and SQL_START.match(text):
            found.append(f"{path.name}:{node.lineno} holds SQL in a Python string: {text[:40]!r}")
    # docstrings are no SQL: drop the findings that are a module/function docstring
    docstrings = {n.body[0].value.lineno for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    assert [f for f in found if int(f.split(":")[1].split()[0]) not in docstrings] == []


def test_every_sql_file_the_modules_name_exists_and_every_gate_and_ingest_file_is_used():
    named = set()
    for path in MODULES:
        named |= set(re.findall(r"[\"']((?:ingest|dq|ddl|staging)/[\w/]+\.sql)[\"']", path.read_text(encoding="utf-8")))
    for relative in named:
        assert (sqlfiles.SQL_DIR / relative).is_file(), relative
    for folder in ("ingest/load", "ingest/read", "dq/gate"):
        for f in (sqlfiles.SQL_DIR / folder).glob("*.sql"):
            assert f.relative_to(sqlfiles.SQL_DIR).as_posix() in named, f"{f} is used by no module"
