"""The data-quality gate: staging -> (dq.rule_results, dq.quarantine, clean) per partition.

For the partitions asked for, the rulebook runs (``data_quality.engine``, DuckDB SQL) on the
staging rows of those partitions plus the month before them — cross-channel duplicates and
other whole-table rules look back across a month boundary — and the results for the asked
partitions are kept. Then, in ONE transaction per call, for each partition: the old results,
quarantine and clean rows are deleted; the new results are written; rows hit by an ``error``
rule go to ``dq.quarantine`` with their rule ids; every other row goes to ``clean`` with the ids
of the ``warn`` rules it hit in ``dq_flags``; ``dq.runs`` records staged = clean + quarantined.
Re-running (after a re-delivery restaged a month) replaces everything for that partition.

Each month is also judged on its own (``data_quality.thresholds``): its reject share (records that
could not be typed) and its error share (quarantined ÷ staged). The verdict — passed or
held back, every check with value and limit, and a fingerprint of the staging rows it judged — is
kept in ``dq.month_status`` / ``dq.month_checks``, so that "held back" and "stale" (staging changed
since) outlive the process; ``data_quality.publishability`` reads them before anything is published.

No Dagster here: ``assets/quality.py`` wraps this; tests and the CLI call it directly.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from data_quality import engine
from data_quality.rulebook import Rulebook, load_rulebook_full
from data_quality.thresholds import LIMITS, months_over, share
from ingestion.sqlfiles import known_table, sql_text, table_exists

# the column naming the unit answerable for a row (谁录入谁负责), per table
UNIT_COLUMN = {"complaints": "entry_unit_id", "sampling_results": "region_code",
               "hotline_stats": "unit_id", "region_profiles": "region_code"}


@dataclass
class PartitionOutcome:
    partition: str
    rows_staged: int
    rows_clean: int
    rows_quarantined: int
    rows_flagged: int
    violations: int
    errors_by_rule: dict[str, int] = field(default_factory=dict)
    rows_rejected: int = 0  # records of the month that could not be typed (raw.rejects, stage type)
    held_back: bool = False  # a check failed for this month (dq.month_checks)

    @property
    def error_share(self) -> float:
        return share(self.rows_quarantined, self.rows_staged)

    @property
    def reject_share(self) -> float:
        return share(self.rows_rejected, self.rows_staged + self.rows_rejected)

    @property
    def reconciled(self) -> bool:
        return self.rows_staged == self.rows_clean + self.rows_quarantined


@dataclass
class GateResult:
    table: str
    run_id: str
    partitions: list[PartitionOutcome]
    seconds: float
    skipped_rules: dict[str, str]


def ensure_tables(con, rulebook: Rulebook | None = None) -> None:
    """dq.* tables, clean.* tables shaped like staging (+ dq_flags), and dq.rules from the rulebook."""
    from ingestion.loader import open_warehouse
    from ingestion.schema import TABLES

    open_warehouse(con)
    con.execute(sql_text("ddl/dq.sql"))
    for t in TABLES:
        con.execute(f"CREATE TABLE IF NOT EXISTS clean.{t} AS "
                    f"SELECT *, CAST(NULL AS VARCHAR[]) AS dq_flags FROM staging.{t} LIMIT 0")
    rules = (rulebook or load_rulebook_full()).as_frame()
    rules = rules[["rule_id", "table_name", "family", "dimension", "dimension_zh", "severity", "basis",
                   "description_zh", "description_en"]]
    con.register("_rules_frame", rules)
    con.execute("DELETE FROM dq.rules")
    con.execute("INSERT INTO dq.rules SELECT * FROM _rules_frame")
    con.unregister("_rules_frame")


def _previous_month(p: str) -> str | None:
    if len(p) != 7:
        return None  # a year partition (profiles): no look-back
    y, m = int(p[:4]), int(p[5:])
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def run_gate(con, table: str, partitions: list[str], *, rulebook: Rulebook | None = None,
             run_id: str | None = None, limits: dict[str, float] | None = None) -> GateResult:
    """Gate ``partitions`` of ``table`` (see module docstring). ``limits`` overrides the shares of
    ``data_quality.thresholds.LIMITS`` (check name -> limit) the months are judged by."""
    t = known_table(table)
    limits = {**LIMITS, **(limits or {})}
    rb = rulebook or load_rulebook_full()
    run_id = run_id or uuid.uuid4().hex[:12]
    started = time.perf_counter()
    ensure_tables(con, rb)
    engine.prepare(con)
    partitions = sorted(set(partitions))
    context = sorted(set(partitions) | {q for p in partitions if (q := _previous_month(p))})
    # a view cannot hold parameters: the partition list goes into a temp table it reads
    con.execute("CREATE OR REPLACE TEMP TABLE _dq_context AS SELECT unnest($p::VARCHAR[]) AS partition_key", {"p": context})
    con.execute(f"CREATE OR REPLACE TEMP VIEW _dq_scope AS SELECT * FROM staging.{t} "
                f"WHERE partition_key IN (SELECT partition_key FROM _dq_context)")
    results = engine.evaluate(con, t, "_dq_scope", rulebook=rb, run_id=run_id, prepared=True)
    con.register("_dq_found", results[["record_key", "row_ref", "rule_id", "family", "dimension", "severity", "detail"]])
    unit = UNIT_COLUMN[t]
    now = datetime.now().replace(microsecond=0)
    outcomes = []
    con.execute("BEGIN TRANSACTION")
    try:
        # the staging rows of the asked partitions, with their identity as the engine reports it
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _dq_rows AS
                        SELECT CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR) AS row_ref, *
                        FROM staging.{t} WHERE partition_key IN (SELECT unnest($p::VARCHAR[]))""", {"p": partitions})
        for target in ("dq.rule_results", "dq.quarantine", "dq.runs", "dq.month_status", "dq.month_checks"):
            con.execute(f"DELETE FROM {target} WHERE table_name = $t AND partition_key IN (SELECT unnest($p::VARCHAR[]))",
                        {"t": t, "p": partitions})
        con.execute(f"DELETE FROM clean.{t} WHERE partition_key IN (SELECT unnest($p::VARCHAR[]))", {"p": partitions})
        con.execute(f"""INSERT INTO dq.rule_results
            SELECT $run, $t, r.partition_key, f.record_key, f.row_ref, r.source_file, r.source_row, r."{unit}",
                   -- a detail quotes values: personal numbers in them (a phone in a wrong column) are masked
                   f.rule_id, f.family, f.dimension, f.severity, pii_mask_numbers(f.detail), $now
            FROM _dq_found f JOIN _dq_rows r USING (row_ref)""", {"run": run_id, "t": t, "now": now})
        con.execute(f"""INSERT INTO dq.quarantine
            SELECT $run, $t, r.partition_key, any_value(f.record_key), r.row_ref, any_value(r.source_file),
                   any_value(r.source_row), any_value(r."{unit}"), list_sort(list(DISTINCT f.rule_id)),
                   any_value(to_json(r)), $now
            FROM _dq_found f JOIN _dq_rows r USING (row_ref)
            WHERE f.severity = 'error'
            GROUP BY r.partition_key, r.row_ref""", {"run": run_id, "t": t, "now": now})
        # by name: a column added to staging later sits after dq_flags in an older clean table
        con.execute(f"""INSERT INTO clean.{t} BY NAME
            SELECT r.* EXCLUDE (row_ref), w.flags AS dq_flags
            FROM _dq_rows r
            LEFT JOIN (SELECT row_ref, list_sort(list(DISTINCT rule_id)) AS flags FROM _dq_found
                       WHERE severity = 'warn' GROUP BY row_ref) w USING (row_ref)
            WHERE r.row_ref NOT IN (SELECT row_ref FROM _dq_found WHERE severity = 'error')""")
        con.execute("""INSERT INTO dq.runs
            SELECT $run, $t, p.partition_key,
                   (SELECT count(*) FROM _dq_rows r WHERE r.partition_key = p.partition_key),
                   (SELECT count(*) FROM clean.""" + t + """ c WHERE c.partition_key = p.partition_key),
                   (SELECT count(*) FROM dq.quarantine q WHERE q.table_name = $t AND q.partition_key = p.partition_key),
                   (SELECT count(DISTINCT row_ref) FROM dq.rule_results v WHERE v.table_name = $t
                        AND v.partition_key = p.partition_key AND v.severity = 'warn'),
                   (SELECT count(*) FROM dq.rule_results v WHERE v.table_name = $t AND v.partition_key = p.partition_key),
                   $now
            FROM (SELECT unnest($p::VARCHAR[]) AS partition_key) p""", {"run": run_id, "t": t, "p": partitions, "now": now})
        rows = con.execute("SELECT partition_key, rows_staged, rows_clean, rows_quarantined, rows_flagged, violations "
                           "FROM dq.runs WHERE run_id = $run AND table_name = $t ORDER BY 1", {"run": run_id, "t": t}).fetchall()
        by_rule = con.execute("""SELECT partition_key, rule_id, count(*) FROM dq.rule_results
                                 WHERE run_id = $run AND table_name = $t AND severity = 'error' GROUP BY ALL""",
                              {"run": run_id, "t": t}).fetchall()
        # the staging rows judged (same snapshot, inside this transaction) and their rejects
        state = {r[0]: r for r in month_state(con, t, partitions)}
        for p, staged, clean, quarantined, flagged, violations in rows:
            outcome = PartitionOutcome(p, staged, clean, quarantined, flagged, violations,
                                       {r: n for q, r, n in by_rule if q == p},
                                       rows_rejected=state[p][3] if p in state else 0)
            if not outcome.reconciled:  # cannot happen unless a row is lost: refuse to commit it
                raise RuntimeError(f"{t} {p}: staged {staged} != clean {clean} + quarantined {quarantined}")
            outcomes.append(outcome)
        _record_months(con, t, run_id, now, outcomes, state, limits)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_dq_found")
        con.execute("DROP TABLE IF EXISTS _dq_rows")
        con.execute("DROP VIEW IF EXISTS _dq_scope")
        con.execute("DROP TABLE IF EXISTS _dq_context")
    return GateResult(t, run_id, outcomes, time.perf_counter() - started, dict(results.attrs.get("skipped", {})))


def month_state(con, table: str, partitions: list[str]) -> list[tuple]:
    """(partition, staging rows, staging fingerprint, rejected rows, staging built from the raw
    loads now there) for the partitions of ``table`` that have any raw, staging or rejected rows."""
    t = known_table(table)
    return con.execute(sql_text("dq/month_state.sql").format(table=t), {"partitions": list(partitions), "table": t}).fetchall()


def _record_months(con, table: str, run_id: str, now: datetime, outcomes: list[PartitionOutcome],
                   state: dict[str, tuple], limits: dict[str, float]) -> None:
    """Judge each month on its own shares and keep the verdict (dq.month_status, dq.month_checks)."""
    checks = {
        "reject_share": {o.partition: (o.rows_rejected, o.rows_staged + o.rows_rejected, o.reject_share) for o in outcomes},
        "error_share": {o.partition: (o.rows_quarantined, o.rows_staged, o.error_share) for o in outcomes},
    }
    failed = set()
    for name, per_month in checks.items():
        over = set(months_over({p: v[2] for p, v in per_month.items()}, limits[name]))
        failed |= over
        for p, (num, den, value) in per_month.items():
            con.execute("INSERT INTO dq.month_checks VALUES ($t, $p, $run, $name, $num, $den, $value, $limit, $passed)",
                        {"t": table, "p": p, "run": run_id, "name": name, "num": num, "den": den, "value": value,
                         "limit": limits[name], "passed": p not in over})
    for o in outcomes:
        o.held_back = o.partition in failed
        rows, fingerprint = (state[o.partition][1], state[o.partition][2]) if o.partition in state else (0, None)
        con.execute("INSERT INTO dq.month_status VALUES ($t, $p, $run, $now, $rows, $fp, $outcome)",
                    {"t": table, "p": o.partition, "run": run_id, "now": now, "rows": rows, "fp": fingerprint,
                     "outcome": "held_back" if o.held_back else "passed"})


def drop_unstaged(con, table: str, partitions: list[str]) -> int:
    """Remove clean and quarantined rows (and their rule results) of ``partitions`` whose staging row
    is gone — a re-delivery replaced it — so every clean row keeps its staging row. Call in the
    transaction that changed staging; the months stay stale (dq.month_status) until gated again.
    Returns the clean rows removed."""
    t = known_table(table)
    if not table_exists(con, "clean", t):
        return 0  # the gate never ran on this warehouse
    p = {"p": list(partitions)}
    removed = con.execute(f"""DELETE FROM clean.{t} c WHERE partition_key IN (SELECT unnest($p::VARCHAR[]))
        AND NOT EXISTS (SELECT 1 FROM staging.{t} s WHERE s.load_id = c.load_id AND s.source_row = c.source_row)""",
                          p).fetchall()[0][0]
    for target in ("dq.quarantine", "dq.rule_results"):
        con.execute(f"""DELETE FROM {target} q WHERE table_name = $t AND partition_key IN (SELECT unnest($p::VARCHAR[]))
            AND row_ref NOT IN (SELECT CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR) FROM staging.{t}
                                WHERE partition_key IN (SELECT unnest($p::VARCHAR[])))""", {"t": t, **p})
    return removed


def staged_partitions(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"SELECT DISTINCT partition_key FROM staging.{known_table(table)} ORDER BY 1").fetchall()]


def reconciliation_by_file(con, table: str) -> pd.DataFrame:
    """Per delivered file: rows staged, clean and quarantined (staged = clean + quarantined)."""
    t = known_table(table)
    return con.execute(f"""
        SELECT s.source_file, count(*) AS staged,
               count(*) FILTER (WHERE c.source_row IS NOT NULL) AS clean,
               count(*) FILTER (WHERE q.row_ref IS NOT NULL) AS quarantined
        FROM staging.{t} s
        LEFT JOIN clean.{t} c ON c.load_id = s.load_id AND c.source_row = s.source_row
        LEFT JOIN (SELECT row_ref FROM dq.quarantine WHERE table_name = $t) q
               ON q.row_ref = CAST(s.load_id AS VARCHAR) || ':' || CAST(s.source_row AS VARCHAR)
        GROUP BY 1 ORDER BY 1""", {"t": t}).df()
