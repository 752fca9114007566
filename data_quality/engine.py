"""Evaluate the rulebook on a DuckDB relation: one row per (violating row, rule).

Design (why it looks like this):

* **DuckDB SQL for every rule.** Row rules (formats, code lists, chronology, amounts) are a
  ``WHERE`` predicate; whole-table rules (duplicates, statutory deadlines, year-over-year) are a
  query. Heavy per-row work (USCC/ID checksums) sits in SQL macros (``sql/macros/codes.sql``),
  reference data in TEMP tables (region-code years, working-day calendar, deadline versions),
  so nothing leaves DuckDB and 1M rows take seconds. GX's SQL execution engine cannot be used:
  on DuckDB it fails every metric in 1.24.1 (engineering-notes §2.5). GX remains an option for
  column-level expectations on pandas batches (see ``Rule.gx``), not for this gate.
* **Pure building block.** :func:`evaluate` reads a relation and returns a DataFrame; writing
  ``dq.rule_results`` / ``dq.quarantine`` and splitting clean rows is the caller's job (the
  Dagster asset), inside the same transaction as the clean write.
* **Row identity.** Results carry ``record_key`` (the business key from the rulebook's ``keys``)
  and ``row_ref`` (``load_id:source_row`` in staging, ``_row`` for a DataFrame), because the
  business key itself can be missing or duplicated — exactly the rows some rules report.

Result columns: ``table_name, record_key, row_ref, rule_id, family, dimension, dimension_zh,
severity, detail, run_id``. ``result.attrs["skipped"]`` maps rule ids that could not run (columns
absent from the relation) to the reason; ``result.attrs["seconds"]`` the time per rule.
"""
from __future__ import annotations

import re
import time
import uuid

import pandas as pd

from data_quality.rulebook import TEMPLATE_RE, Rule, Rulebook, _vocabularies, load_rulebook_full

RESULT_COLUMNS = ["table_name", "record_key", "row_ref", "rule_id", "family", "dimension", "dimension_zh",
                  "severity", "detail", "run_id"]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def prepare(con, *, calendar=None, grace_years: int = 1) -> None:
    """Install everything the rules use on ``con`` (TEMP objects only; ~0.5 s, idempotent)."""
    from data_quality.codes import install_region_tables
    from data_quality.deadlines import install_deadline_tables
    from data_quality.sql_macros import SQL_DIR, install_macros

    install_macros(con)
    install_region_tables(con, grace_years=grace_years)
    install_deadline_tables(con, calendar=calendar)
    con.execute((SQL_DIR / "dq" / "rule_macros.sql").read_text(encoding="utf-8"))


def _quote_relation(relation: str) -> tuple[str, str]:
    parts = relation.split(".")
    if not 1 <= len(parts) <= 3 or not all(_IDENT.match(p) for p in parts):
        raise ValueError(f"relation {relation!r}: expected [catalog.][schema.]name of plain identifiers")
    return ".".join(f'"{p}"' for p in parts), "'" + relation + "'"


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _key_expr(parts, alias: str | None) -> str:
    """Record key: columns joined with '|' (dates in the rulebook's strftime format if given)."""
    def one(col: str, fmt: str | None) -> str:
        ref = f'{alias}."{col}"' if alias else f'"{col}"'
        if fmt:
            return f"strftime(CAST({ref} AS TIMESTAMP), '{fmt.replace(chr(39), chr(39) * 2)}')"
        return f"CAST({ref} AS VARCHAR)"

    parts = list(parts)
    if len(parts) == 1:
        return one(*parts[0])
    return " || '|' || ".join(f"coalesce({one(c, f)}, '')" for c, f in parts)


def _row_ref_expr(columns: set[str], key_parts, alias: str | None) -> str:
    q = (lambda c: f'{alias}."{c}"') if alias else (lambda c: f'"{c}"')
    if "_row" in columns:
        return f"CAST({q('_row')} AS VARCHAR)"
    if {"load_id", "source_row"} <= columns:
        return f"CAST({q('load_id')} AS VARCHAR) || ':' || CAST({q('source_row')} AS VARCHAR)"
    return _key_expr(key_parts, alias)  # no row numbers: the business key is the best we have


def render(rule: Rule, rulebook: Rulebook, relation: str, columns: set[str]) -> str:
    """The SELECT (record_key, row_ref, detail) of the rule's violations on ``relation``."""
    rel, rel_name = _quote_relation(relation)
    key_parts = rulebook.keys[rule.table]
    vocab = _vocabularies()

    def fill(text: str) -> str:
        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name == "rel":
                return rel
            if name == "rel_name":
                return rel_name
            if name.startswith("key"):
                return _key_expr(key_parts, name[4:] or None)
            if name.startswith("row_ref"):
                return _row_ref_expr(columns, key_parts, name[8:] or None)
            if name.startswith("vocab:"):
                return _sql_list(vocab[name[6:]])
            value = rule.params[name]
            return repr(float(value)) if isinstance(value, float) else str(int(value))

        return TEMPLATE_RE.sub(sub, text)

    if rule.where is not None:
        detail = fill(rule.detail) if rule.detail else "NULL"
        return (f"SELECT {fill('{key}')} AS record_key, {fill('{row_ref}')} AS row_ref, "
                f"CAST({detail} AS VARCHAR) AS detail FROM {rel} WHERE ({fill(rule.where)})")
    return f"SELECT record_key, row_ref, CAST(detail AS VARCHAR) AS detail FROM ({fill(rule.query)})"


def evaluate(con, table: str, relation: str, *, rulebook: Rulebook | None = None, rule_ids=None,
             run_id: str | None = None, prepared: bool = False) -> pd.DataFrame:
    """Run the enabled rules of ``table`` on ``relation`` (a table or view visible to ``con``)."""
    rb = rulebook or load_rulebook_full()
    if not prepared:
        prepare(con)
    run_id = run_id or uuid.uuid4().hex[:12]
    rel, _ = _quote_relation(relation)
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    key_cols = rb.key_columns(table)
    frames, skipped, seconds = [], {}, {}
    for rule in rb.for_table(table):
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        missing = sorted((set(rule.columns) | set(key_cols)) - columns)
        if missing:
            skipped[rule.id] = f"columns not in {relation}: {', '.join(missing)}"
            continue
        t0 = time.perf_counter()
        sql = render(rule, rb, relation, columns)
        try:
            found = con.execute(sql).df()
        except Exception as exc:  # a rule that cannot run is a bug in the rulebook: say which
            raise RuntimeError(f"rule {rule.id} failed on {relation}: {exc}\nSQL: {sql}") from exc
        seconds[rule.id] = round(time.perf_counter() - t0, 4)
        if len(found):
            found = found.drop_duplicates(subset=["row_ref"])
            found["rule_id"] = rule.id
            found["family"] = rule.family
            found["dimension"] = rule.dimension
            found["dimension_zh"] = rule.dimension_zh
            found["severity"] = rule.severity
            frames.append(found)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    out["table_name"] = table
    out["run_id"] = run_id
    out = out[RESULT_COLUMNS]
    out.attrs["skipped"] = skipped
    out.attrs["seconds"] = seconds
    return out


def evaluate_frame(df: pd.DataFrame, table: str, con=None, **kwargs) -> pd.DataFrame:
    """Evaluate a pandas DataFrame (notebooks, tests): ``row_ref`` = the frame's row position.

    ``con``: a connection already set up with :func:`prepare` (saves ~0.3 s per call);
    by default a fresh in-memory one.
    """
    import duckdb

    own = con is None
    if own:
        con = duckdb.connect()
        prepare(con)
    frame = df.reset_index(drop=True).copy()
    frame.insert(0, "_row", range(len(frame)))
    con.register("_dq_frame", frame)
    try:
        return evaluate(con, table, "_dq_frame", prepared=True, **kwargs)
    finally:
        con.unregister("_dq_frame")
        if own:
            con.close()


def quarantined(results: pd.DataFrame) -> pd.DataFrame:
    """Rows to quarantine: row_ref with the ids of the error rules that hit them."""
    err = results[results["severity"] == "error"]
    return (err.groupby("row_ref", sort=True)
            .agg(record_key=("record_key", "first"), rule_ids=("rule_id", lambda s: sorted(set(s))))
            .reset_index())


def summary(results: pd.DataFrame, rulebook: Rulebook | None = None, table: str | None = None) -> pd.DataFrame:
    """Violations per rule (every rule of the table listed, 0 where none)."""
    rb = rulebook or load_rulebook_full()
    rules = [r for r in rb.rules if table is None or r.table == table]
    counts = results.groupby("rule_id").size()
    return pd.DataFrame([{"rule_id": r.id, "family": r.family, "dimension": r.dimension, "severity": r.severity,
                          "violations": int(counts.get(r.id, 0))} for r in rules])
