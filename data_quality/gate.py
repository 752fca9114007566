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
held back, every check with value and limit, and a fingerprint of the staging rows it judged, and
of the look-back month's rows it read as context — is kept in ``dq.month_status`` /
``dq.month_checks``, so that "held back" and "stale" (staging changed since, or the month before
changed since) outlive the process; ``data_quality.publishability`` reads them before anything is
published.

No Dagster here: ``assets/quality.py`` wraps this; tests and the CLI call it directly.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from data_quality import engine
from data_quality.publishability import look_back_month
from data_quality.rulebook import Rulebook, load_rulebook_full
from data_quality.thresholds import LIMITS, months_over, share
from ingestion.sqlfiles import known_table, run, table_exists

# the column naming the unit answerable for a row (谁录入谁负责), per table
UNIT_COLUMN = {"complaints": "entry_unit_id", "sampling_results": "region_code",
               "hotline_stats": "unit_id", "region_profiles": "region_code"}
# the dq tables holding a gate run's output per partition (replaced when the partition is gated again)
PARTITION_OUTPUTS = ("dq.rule_results", "dq.quarantine", "dq.runs", "dq.month_status", "dq.month_checks")
# rows of these are taken away with their staging row (drop_unstaged)
ROW_FINDINGS = ("dq.quarantine", "dq.rule_results")
# frames registered for the SQL files of sql/dq/gate/, and the view of the rows the rulebook runs on
RULES_FRAME, FINDINGS_FRAME, SCOPE_VIEW = "_rules_frame", "_dq_found", "_dq_scope"


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
    run(con, "ddl/dq.sql")
    for t in TABLES:
        run(con, "dq/gate/create_clean_table.sql", table=t)
    rules = (rulebook or load_rulebook_full()).as_frame()
    rules = rules[["rule_id", "table_name", "family", "dimension", "dimension_zh", "severity", "basis",
                   "description_zh", "description_en"]]
    con.register(RULES_FRAME, rules)
    run(con, "dq/gate/replace_rules.sql")
    con.unregister(RULES_FRAME)


def _previous_month(p: str) -> str | None:
    """The look-back month of ``p`` (None for a year partition: profiles); one definition, shared
    with ``data_quality.publishability``, which checks it has not changed since."""
    return look_back_month(p)


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
    run(con, "dq/gate/context_partitions.sql", {"partitions": context})
    run(con, "dq/gate/scope_view.sql", table=t)
    results = engine.evaluate(con, t, SCOPE_VIEW, rulebook=rb, run_id=run_id, prepared=True)
    con.register(FINDINGS_FRAME, results[["record_key", "row_ref", "rule_id", "family", "dimension", "severity", "detail"]])
    unit = UNIT_COLUMN[t]
    now = datetime.now().replace(microsecond=0)
    asked = {"table": t, "partitions": partitions}
    written = {"run": run_id, "table": t, "now": now}
    outcomes = []
    con.begin()
    try:
        run(con, "dq/gate/rows.sql", {"partitions": partitions}, table=t)
        for target in PARTITION_OUTPUTS:
            run(con, "dq/gate/delete_partitions.sql", asked, target=target)
        run(con, "dq/gate/delete_clean.sql", {"partitions": partitions}, table=t)
        run(con, "dq/gate/insert_rule_results.sql", written, unit=unit)
        run(con, "dq/gate/insert_quarantine.sql", written, unit=unit)
        run(con, "dq/gate/insert_clean.sql", table=t)
        run(con, "dq/gate/insert_runs.sql", {**written, "partitions": partitions}, table=t)
        rows = run(con, "dq/gate/run_counts.sql", {"run": run_id, "table": t}).fetchall()
        by_rule = run(con, "dq/gate/errors_by_rule.sql", {"run": run_id, "table": t}).fetchall()
        # the staging rows judged and read as look-back context (same snapshot, inside this
        # transaction) and their rejects
        state = {r[0]: r for r in month_state(con, t, context)}
        for p, staged, clean, quarantined, flagged, violations in rows:
            outcome = PartitionOutcome(p, staged, clean, quarantined, flagged, violations,
                                       {r: n for q, r, n in by_rule if q == p},
                                       rows_rejected=state[p][3] if p in state else 0)
            if not outcome.reconciled:  # cannot happen unless a row is lost: refuse to commit it
                raise RuntimeError(f"{t} {p}: staged {staged} != clean {clean} + quarantined {quarantined}")
            outcomes.append(outcome)
        _record_months(con, t, run_id, now, outcomes, state, limits)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister(FINDINGS_FRAME)
        run(con, "dq/gate/drop_work_tables.sql")
    return GateResult(t, run_id, outcomes, time.perf_counter() - started, dict(results.attrs.get("skipped", {})))


def month_state(con, table: str, partitions: list[str]) -> list[tuple]:
    """(partition, staging rows, staging fingerprint, rejected rows, staging built from the raw
    loads now there) for the partitions of ``table`` that have any raw, staging or rejected rows."""
    t = known_table(table)
    return run(con, "dq/month_state.sql", {"partitions": list(partitions), "table": t}, table=t).fetchall()


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
            run(con, "dq/gate/insert_month_check.sql",
                {"table": table, "partition": p, "run": run_id, "name": name, "numerator": num, "denominator": den,
                 "value": value, "limit": limits[name], "passed": p not in over})
    for o in outcomes:
        o.held_back = o.partition in failed
        rows, fingerprint = (state[o.partition][1], state[o.partition][2]) if o.partition in state else (0, None)
        before = _previous_month(o.partition)
        context_rows, context_fingerprint = ((state[before][1], state[before][2]) if before in state
                                             else (0 if before else None, None))
        run(con, "dq/gate/insert_month_status.sql",
            {"table": table, "partition": o.partition, "run": run_id, "now": now, "rows": rows,
             "fingerprint": fingerprint, "outcome": "held_back" if o.held_back else "passed",
             "context_partition": before, "context_rows": context_rows, "context_fingerprint": context_fingerprint})


def drop_unstaged(con, table: str, partitions: list[str]) -> int:
    """Remove clean and quarantined rows (and their rule results) of ``partitions`` whose staging row
    is gone — a re-delivery replaced it — so every clean row keeps its staging row. Call in the
    transaction that changed staging; the months stay stale (dq.month_status) until gated again.
    Returns the clean rows removed."""
    t = known_table(table)
    if not table_exists(con, "clean", t):
        return 0  # the gate never ran on this warehouse
    removed = run(con, "dq/gate/delete_unstaged.sql", {"partitions": list(partitions)}, table=t).fetchall()[0][0]
    for target in ROW_FINDINGS:
        run(con, "dq/gate/delete_unstaged_findings.sql", {"table": t, "partitions": list(partitions)}, table=t,
            target=target)
    return removed


def staged_partitions(con, table: str) -> list[str]:
    return [r[0] for r in run(con, "dq/gate/staged_partitions.sql", table=table).fetchall()]


def reconciliation_by_file(con, table: str) -> pd.DataFrame:
    """Per delivered file: rows staged, clean and quarantined (staged = clean + quarantined)."""
    t = known_table(table)
    return run(con, "dq/gate/reconciliation_by_file.sql", {"table": t}, table=t).df()
