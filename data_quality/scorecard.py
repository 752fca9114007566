"""Entry-unit data-quality scorecard (DESIGN §3; policy 谁录入谁负责: the unit that enters a record
answers for it, and bureaus are notified of their data-quality standing).

Reads what the gate (:mod:`data_quality.gate`) wrote — ``dq.rule_results`` (one row per row × rule),
``dq.runs`` (which partitions were checked), ``dq.rules`` — and the rows each unit entered in
``staging``. No Dagster, no writes: read-only connections work.

    unit_scorecard(con, table="complaints", months=None, *, region_prefix="") -> DataFrame
    top_failing_rules(con, unit, month, n=5, *, table="complaints", examples=3, region_prefix="") -> DataFrame
    top_failing_rules_all(con, table="complaints", months=None, n=3, *, examples=3, region_prefix="") -> DataFrame
    overview(con, tables=TABLES, months=None) -> DataFrame          # dq.runs per table and partition
    file_reconciliation(con, table, months=None) -> DataFrame       # staged = clean + quarantined per file
    rule_results(con, table, months=None) -> DataFrame              # every rule with its counts

Definitions (the one place; sql/dq/scorecard.sql carries the same text):

* **unit** — complaints: ``entry_unit_id`` (录入单位); sampling results: ``region_code``; hotline
  statistics: ``unit_id``; region profiles: ``region_code`` (``gate.UNIT_COLUMN``). Rows without a
  unit are kept as ``unit_id = None``, never ranked (they cannot be attributed).
* **month** — the partition key (``YYYY-MM``; ``YYYY`` for region profiles); only partitions the
  gate has run on count.
* **rows_entered** — rows the unit entered that month, in staging: the denominator of every rate.
* **rows_error / rows_warn** — rows with at least one ``error`` / ``warn`` result, per GB/T 36344
  dimension and for ``dimension == "all"`` (rows_error of "all" = the unit's quarantined rows).
* **rank** — among the units of that month and dimension, by error rate, 1 = lowest; ties share the
  best rank (SQL ``RANK()``: 1, 1, 3). ``units_ranked`` says out of how many.
* **change** — against the partition before (the previous month; the previous year for profiles):
  ``error_rate_change = error_rate - prev_error_rate`` (negative = better) and
  ``rank_change = prev_rank - rank`` (positive = moved up). Missing when the unit entered nothing
  that month or it was not checked.
* **scope** — ``region_prefix`` keeps the rows whose region code starts with it, plus a unit's rows
  with no region code when that unit has rows in the scope.

Example record ids are ``record_key`` values (登记编号, 样品编号, ``unit|YYYY-MM``, ...) — never
complainant data and never free text; staging and clean hold no personal data, and this module
reads neither ``complainant_key`` nor ``content``.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from data_quality.gate import UNIT_COLUMN
from ingestion.sqlfiles import known_table, sql_text

TABLES = ("complaints", "sampling_results", "hotline_stats", "region_profiles")
# the region-code column that places a row in a scope, per table
REGION_COLUMN = {"complaints": "handling_region_code", "sampling_results": "region_code",
                 "hotline_stats": "region_code", "region_profiles": "region_code"}
SCORECARD_COLUMNS = ["table_name", "month", "unit_id", "dimension", "rows_entered", "rows_error", "rows_warn",
                     "error_rate", "warn_rate", "rank", "units_ranked", "prev_month", "prev_rows_entered",
                     "prev_error_rate", "error_rate_change", "prev_rank", "rank_change"]
ALL = "all"  # the dimension value of a unit's whole-row figures


def _sql(name: str, table: str) -> str:
    """A scorecard query with its identifiers filled from the whitelists (values are bound, never spliced)."""
    t = known_table(table)
    return (sql_text(f"dq/{name}.sql")
            .replace("{table}", t).replace("{unit}", UNIT_COLUMN[t]).replace("{region}", REGION_COLUMN[t]))


def previous_partition(p: str) -> str | None:
    """``2025-03`` -> ``2025-02``, ``2025-01`` -> ``2024-12``, ``2025`` -> ``2024``; anything else -> None."""
    p = str(p)
    if len(p) == 7 and p[4] == "-":
        y, m = int(p[:4]), int(p[5:])
        return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    if len(p) == 4 and p.isdigit():
        return str(int(p) - 1)
    return None


def _months(months: Iterable[str] | str | None) -> list[str] | None:
    if months is None:
        return None
    if isinstance(months, str):
        return [months]
    return sorted({str(m) for m in months})


def _has_gate_tables(con) -> bool:
    n = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'dq' "
                    "AND table_name IN ('rule_results', 'runs', 'rules', 'quarantine')").fetchall()[0][0]
    return n == 4


def unit_scorecard(con, table: str = "complaints", months: Iterable[str] | str | None = None, *,
                   region_prefix: str = "") -> pd.DataFrame:
    """Error and warning rates per entry unit × month × GB/T 36344 dimension (plus ``"all"``), with the
    unit's rank that month and the change against the month before. Columns: :data:`SCORECARD_COLUMNS`.

    ``months``: partition keys (``"2025-03"`` or a list; ``None`` = every partition the gate has run on).
    ``region_prefix``: a scope's region-code prefix (``"32"``, ``"3204"``; ``""`` = all rows).
    ``result.attrs["stale_months"]``: partitions whose staging row count no longer equals the rows
    the gate checked (``dq.runs.rows_staged``) — re-run the gate there before notifying anyone.
    """
    t = known_table(table)
    if not _has_gate_tables(con):
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    wanted = _months(months)
    context = None if wanted is None else sorted(set(wanted) | {q for m in wanted if (q := previous_partition(m))})
    df = con.execute(_sql("scorecard", t), {"t": t, "months": wanted, "context": context,
                                            "prefix": str(region_prefix or "")}).df()
    for c in ("rows_entered", "rows_error", "rows_warn", "units_ranked"):
        df[c] = df[c].astype("int64")
    for c in ("rank", "prev_rank", "rank_change", "prev_rows_entered"):
        df[c] = df[c].astype("Int64")
    df = df[SCORECARD_COLUMNS]
    df.attrs["stale_months"] = stale_partitions(con, t, wanted)
    return df


def stale_partitions(con, table: str, months: list[str] | None = None) -> list[str]:
    """Checked partitions whose staging rows differ in number from what the gate checked."""
    t = known_table(table)
    rows = con.execute(
        f"""SELECT r.partition_key FROM dq.runs r
            LEFT JOIN (SELECT partition_key, count(*) AS n FROM staging.{t} GROUP BY ALL) s USING (partition_key)
            WHERE r.table_name = $t AND ($m IS NULL OR list_contains($m, r.partition_key))
              AND r.rows_staged IS DISTINCT FROM coalesce(s.n, 0)
            ORDER BY 1""", {"t": t, "m": months}).fetchall()
    return [r[0] for r in rows]


TOP_RULE_COLUMNS = ["table_name", "unit_id", "place", "rule_id", "severity", "dimension", "dimension_zh",
                    "description_zh", "description_en", "basis", "rows", "rows_entered", "rate", "examples"]


def _top_rules(con, table: str, months, n: int, examples: int, region_prefix: str, one_unit: bool,
               unit: str | None) -> pd.DataFrame:
    t = known_table(table)
    if not _has_gate_tables(con):
        return pd.DataFrame(columns=TOP_RULE_COLUMNS)
    df = con.execute(_sql("scorecard_top_rules", t), {
        "t": t, "months": _months(months), "prefix": str(region_prefix or ""), "one_unit": one_unit,
        "unit": unit, "n": int(n), "examples": int(examples)}).df()
    df["examples"] = [list(x) if x is not None else [] for x in df["examples"]]
    return df[TOP_RULE_COLUMNS]


def top_failing_rules(con, unit: str | None, month: str | Iterable[str] | None, n: int = 5, *,
                      table: str = "complaints", examples: int = 3, region_prefix: str = "") -> pd.DataFrame:
    """The ``n`` rules that reported most of ``unit``'s rows in ``month`` (a partition key, a list of them
    — a period —, or ``None`` for every checked partition), most rows first, errors before warnings on a
    tie. Per rule: severity, dimension, descriptions (zh/en), basis, ``rows`` reported, the unit's
    ``rows_entered`` and ``rate``, and ``examples``: up to ``examples`` record ids (``record_key``; a row
    without one is named ``<file>#<row>``). ``unit=None`` asks about the rows entered without a unit."""
    return _top_rules(con, table, month, n, examples, region_prefix, True, unit)


def top_failing_rules_all(con, table: str = "complaints", months: Iterable[str] | str | None = None, n: int = 3, *,
                          examples: int = 3, region_prefix: str = "") -> pd.DataFrame:
    """:func:`top_failing_rules` for every unit at once (one query): ``place`` 1..n per unit."""
    return _top_rules(con, table, months, n, examples, region_prefix, False, None)


OVERVIEW_COLUMNS = ["table_name", "month", "rows_staged", "rows_clean", "rows_quarantined", "rows_flagged",
                    "violations", "reconciled", "error_share", "flag_share", "run_id", "checked_at"]


def overview(con, tables: Iterable[str] = TABLES, months: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Per table and checked partition: rows checked, clean, quarantined, flagged, violations, and
    whether staged = clean + quarantined (``dq.runs``, the latest gate run)."""
    tables = [known_table(t) for t in tables]
    if not _has_gate_tables(con):
        return pd.DataFrame(columns=OVERVIEW_COLUMNS)
    return con.execute(sql_text("dq/scorecard_overview.sql"), {"tables": tables, "months": _months(months)}).df()


def file_reconciliation(con, table: str, months: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Per loaded file (partitions asked for): staged, clean, quarantined, ``reconciled`` (staged = clean +
    quarantined) and rows ``rejected`` by the loader before staging. File names only, no folders."""
    t = known_table(table)
    cols = ["table_name", "load_id", "file_name", "months", "staged", "clean", "quarantined", "reconciled", "rejected"]
    if not _has_gate_tables(con):
        return pd.DataFrame(columns=cols)
    df = con.execute(_sql("scorecard_files", t), {"t": t, "months": _months(months)}).df()
    df["months"] = [list(x) for x in df["months"]]
    return df[cols]


def rule_results(con, table: str, months: Iterable[str] | str | None = None, rows_checked: int | None = None) -> pd.DataFrame:
    """Every rule of ``table`` (``dq.rules``) with violations, distinct rows reported, their share of
    ``rows_checked`` (default: the rows checked in those partitions, from ``dq.runs``) and, for error
    rules, the quarantined rows it is a reason for. Most rows first."""
    t = known_table(table)
    if not _has_gate_tables(con):
        return pd.DataFrame(columns=["rule_id", "table_name", "family", "dimension", "dimension_zh", "severity",
                                     "basis", "description_zh", "description_en", "violations", "rows", "rate",
                                     "quarantined"])
    m = _months(months)
    if rows_checked is None:
        rows_checked = con.execute("SELECT coalesce(sum(rows_staged), 0) FROM dq.runs WHERE table_name = $t "
                                   "AND ($m IS NULL OR list_contains($m, partition_key))", {"t": t, "m": m}).fetchall()[0][0]
    df = con.execute(sql_text("dq/scorecard_rules.sql"), {"t": t, "months": m, "rows": int(rows_checked)}).df()
    for c in ("violations", "rows", "quarantined"):
        df[c] = df[c].astype("int64")
    return df


def checked_partitions(con, table: str) -> list[str]:
    """Partitions of ``table`` the gate has run on, in order."""
    t = known_table(table)
    if not _has_gate_tables(con):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT partition_key FROM dq.runs WHERE table_name = $t ORDER BY 1",
                                      {"t": t}).fetchall()]
