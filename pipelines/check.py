"""`cei check`: is the warehouse file sound, and do its counts add up?

1. The file opens (DuckDB replays its write-ahead log), ``pragma_database_size`` answers.
2. Every table is read in full (every column of every row: DuckDB verifies each block's checksum
   as it reads, so a damaged block fails here rather than in next month's report).
3. The counting invariants hold, where the tables exist:
   - per load and partition: raw rows = staging rows + type rejects (once that partition is staged);
     no raw rows belong to a load that ``raw.load_log`` does not record as loaded;
   - per table and month the gate has judged: staging = clean + quarantined, as ``dq.runs`` recorded.
   Partitions not staged or not gated yet, or changed since their gate, are listed as pending
   work, not as damage.
4. ``CHECKPOINT`` (the log is written into the file) — only when everything above passed, so a
   damaged file is never written to.

No Dagster here; the CLI prints :class:`CheckResult` and exits non-zero when it has problems.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from data_quality.publishability import PUBLISHED_TABLES as TABLES, unsettled_partitions
from ingestion.loader import short_message
from ingestion.sqlfiles import table_exists
from pipelines.settings import connect


@dataclass
class CheckResult:
    path: Path
    problems: list[str] = field(default_factory=list)  # damage or a broken invariant: exit non-zero
    pending: list[str] = field(default_factory=list)   # staging / gate not run yet for some partitions
    tables_read: int = 0
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def advice(self, landing: str = "data/landing") -> list[str]:
        """What to do about the problems found (empty when there are none)."""
        if self.ok:
            return []
        p = self.path
        if not p.exists():
            return [f"what to do: name the warehouse with --warehouse FILE or CEI_WAREHOUSE; if it was lost, "
                    f"restore it from the last backup, or build a new one from the delivered files with "
                    f"`cei --warehouse {p} run --landing {landing}`."]
        return [
            "what to do (stop every cei process and Dagster run using this warehouse first):",
            f"  1. restore from the last backup: move {p} and {p.name}.wal (if any) aside, copy the backup into "
            f"place, run `cei --warehouse {p} check`, then `cei --warehouse {p} run --landing {landing}` loads "
            "what arrived since;",
            f"  2. or rebuild from the delivered files: keep the damaged file aside (mv {p} {p}.damaged), "
            f"run `cei --warehouse {p} run --landing {landing}` on a new warehouse and check it.",
        ]


def _first_line(exc: BaseException) -> str:
    return short_message(str(exc), 300) or type(exc).__name__


def check_warehouse(path: str | Path, wait: float | None = None, checkpoint: bool = True) -> CheckResult:
    """Run every check on the warehouse file at ``path`` (see the module docstring).

    Raises :class:`pipelines.settings.WarehouseBusy` when another process holds the file."""
    import duckdb

    res = CheckResult(Path(path))
    if not res.path.is_file():
        res.problems.append(f"{res.path}: no warehouse file here")
        return res
    try:
        # read-only: a damaged file is never written to (replaying its log in memory only)
        con = connect(res.path, read_only=True, wait=wait)
    except duckdb.Error as e:
        res.problems.append(f"{res.path}: cannot be opened: {_first_line(e)}")
        return res
    try:
        try:
            con.execute("SELECT * FROM pragma_database_size()").fetchall()
            tables = con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() AND NOT temporary ORDER BY 1, 2").fetchall()
        except duckdb.Error as e:
            res.problems.append(f"{res.path}: its catalog cannot be read: {_first_line(e)}")
            return res
        for schema, table in tables:
            try:
                # hash(t) is the whole row: every column is read and its blocks' checksums verified
                n = con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{schema}"."{table}" t').fetchall()[0][0]
                res.tables_read += 1
                res.rows_read += n
            except duckdb.Error as e:
                res.problems.append(f"{schema}.{table} cannot be read in full: {_first_line(e)}")
        if res.problems:
            return res
        try:
            _check_loads(con, res)
            _check_gate(con, res)
        except duckdb.Error as e:
            res.problems.append(f"the counting checks failed to run: {_first_line(e)}")
    finally:
        con.close()
    wal = Path(f"{res.path}.wal")
    writable = os.access(res.path, os.W_OK) and os.access(res.path.parent, os.W_OK)
    if res.ok and checkpoint and not writable:
        # a read-only copy (backup medium, read-only mount) is judged by what it holds; there is
        # nothing to write back, and failing to write is not damage
        if wal.exists():
            res.pending.append(f"{wal}: a write-ahead log that cannot be written into the read-only file")
        checkpoint = False
    if res.ok and checkpoint:
        try:
            with connect(res.path, wait=wait) as rw:
                rw.execute("CHECKPOINT")
        except duckdb.Error as e:
            res.problems.append(f"CHECKPOINT (writing the log into the file) failed: {_first_line(e)}")
    return res


def _check_loads(con, res: CheckResult) -> None:
    if not table_exists(con, "raw", "load_log") or not table_exists(con, "raw", "rejects"):
        return
    for t in TABLES:
        if not (table_exists(con, "raw", t) and table_exists(con, "staging", t)):
            continue
        rows = con.execute(f"""
            WITH r AS (SELECT load_id, partition_key, count(*) AS n FROM raw.{t} GROUP BY ALL),
                 s AS (SELECT load_id, partition_key, count(*) AS n FROM staging.{t} GROUP BY ALL),
                 j AS (SELECT load_id, partition_key, count(*) AS n FROM raw.rejects
                       WHERE table_name = $t AND stage = 'type' GROUP BY ALL),
                 keys AS (SELECT load_id, partition_key FROM r UNION SELECT load_id, partition_key FROM s
                          UNION SELECT load_id, partition_key FROM j)
            SELECT k.load_id, k.partition_key, coalesce(r.n, 0), coalesce(s.n, 0), coalesce(j.n, 0),
                   (SELECT any_value(l.file_name) FROM raw.load_log l WHERE l.load_id = k.load_id),
                   EXISTS (SELECT 1 FROM raw.load_log l WHERE l.load_id = k.load_id AND l.status = 'loaded')
            FROM keys k LEFT JOIN r USING (load_id, partition_key) LEFT JOIN s USING (load_id, partition_key)
                        LEFT JOIN j USING (load_id, partition_key)
            ORDER BY 1, 2""", {"t": t}).fetchall()
        pending: dict[int, list[str]] = {}
        for load_id, part, raw, staged, rejected, name, logged in rows:
            what = f"{t} load {load_id}" + (f" ({name})" if name else "") + f" {part}"
            if raw and not logged:
                res.problems.append(f"{what}: {raw} raw rows of a load raw.load_log does not record as loaded")
            if raw == staged + rejected:
                continue
            if staged + rejected == 0:
                pending.setdefault(load_id, []).append(part)
            else:
                res.problems.append(f"{what}: raw {raw} != staging {staged} + type rejects {rejected}")
        for load_id, parts in pending.items():
            res.pending.append(f"{t} load {load_id}: not staged yet for {', '.join(map(str, parts))}")


def _check_gate(con, res: CheckResult) -> None:
    if not (table_exists(con, "dq", "runs") and table_exists(con, "dq", "quarantine")):
        return
    for t in TABLES:
        if not (table_exists(con, "staging", t) and table_exists(con, "clean", t)):
            continue
        rows = con.execute(f"""
            WITH s AS (SELECT partition_key, count(*) AS n FROM staging.{t} GROUP BY ALL),
                 c AS (SELECT partition_key, count(*) AS n FROM clean.{t} GROUP BY ALL),
                 q AS (SELECT partition_key, count(*) AS n FROM dq.quarantine WHERE table_name = $t GROUP BY ALL),
                 g AS (SELECT partition_key, max(rows_staged) AS staged, max(rows_clean) AS clean,
                              max(rows_quarantined) AS quarantined, count(*) AS runs
                       FROM dq.runs WHERE table_name = $t GROUP BY ALL),
                 keys AS (SELECT partition_key FROM s UNION SELECT partition_key FROM c
                          UNION SELECT partition_key FROM q UNION SELECT partition_key FROM g)
            SELECT k.partition_key, coalesce(s.n, 0), coalesce(c.n, 0), coalesce(q.n, 0),
                   g.staged, g.clean, g.quarantined, g.runs
            FROM keys k LEFT JOIN s USING (partition_key) LEFT JOIN c USING (partition_key)
                        LEFT JOIN q USING (partition_key) LEFT JOIN g USING (partition_key)
            ORDER BY 1""", {"t": t}).fetchall()
        # the gate's own record of what it judged (content fingerprints): a re-delivery with the same
        # row count is pending too, not damage
        unsettled = set(unsettled_partitions(con, t)) if table_exists(con, "dq", "month_status") else set()
        not_gated, changed = [], []
        for part, staged, clean, quar, g_staged, g_clean, g_quar, runs in rows:
            if runs is None:
                if clean or quar:
                    res.problems.append(f"{t} {part}: {clean} clean + {quar} quarantined rows but no gate run "
                                        "recorded in dq.runs")
                elif staged:
                    not_gated.append(part)
                continue
            if runs > 1:
                res.problems.append(f"{t} {part}: {runs} gate runs recorded in dq.runs (one expected)")
            if staged != g_staged or part in unsettled:  # changed since: the next gate run judges it again
                changed.append(part)
            elif clean + quar != staged:
                res.problems.append(f"{t} {part}: staging {staged} != clean {clean} + quarantined {quar} "
                                    f"(the gate wrote {g_clean} + {g_quar})")
        if not_gated:
            res.pending.append(f"{t}: not gated yet: {', '.join(not_gated)}")
        if changed:
            res.pending.append(f"{t}: staging changed since the gate ran (cei run re-gates): {', '.join(changed)}")
