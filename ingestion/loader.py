"""Idempotent loading of delivered files into ``raw`` and ``staging`` (one transaction per file).

For each file:

1. its sha256 is looked up in ``raw.load_log``: a file already loaded is skipped (re-running is safe);
2. it is read as text (CSV in UTF-8 / UTF-8 with BOM / GB18030, XLSX, Parquet) with its headers
   mapped onto the canonical columns (``ingestion.readers``);
3. each record gets lineage (file, sha256, record number, load id, source, time) and its partition
   (month, or year for region profiles); unreadable records and records without a usable
   partition date go to ``raw.rejects`` with their row number, fields and reason;
4. in ONE transaction: rows that an earlier file of the same *source* delivered for the same
   partitions are deleted (a re-delivered month replaces the old one), the new rows are
   inserted into raw, and staging is rebuilt for those partitions (``sql/staging/<table>.sql``),
   with records whose typed fields do not parse moved to ``raw.rejects``.

Counting rule, per file: records read = raw rows + read rejects; raw rows = staged + type rejects.

The *source* is the delivering feed: ``--source`` when given, otherwise the file name without
its date and version marks (``complaints_2025-03_v2.csv`` -> ``complaints``).
"""
from __future__ import annotations

import json
import os
import re
import signal
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from ingestion import pii
from ingestion.readers import (
    IngestError,
    detect_encoding,
    detect_format,
    file_sha256,
    read_csv_into_batch,
    read_parquet_into_batch,
    read_xlsx_into_batch,
)
from ingestion.schema import TABLES
from ingestion.sqlfiles import create_warehouse_tables, install_ingest_macros, known_table, sql_text, table_exists

SUPPORTED = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")


@dataclass
class FileResult:
    file: str
    status: str  # loaded | skipped | failed
    table: str | None = None
    source_id: str | None = None
    sha256: str | None = None
    encoding: str | None = None
    partitions: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_raw: int = 0
    rows_staged: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0
    message: str = ""
    reject_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _fault_point(name: str) -> None:
    """Test hook: with ``CEI_TEST_KILL_AT=<name>`` this process kills itself here with SIGKILL, so
    tests/adversarial/test_faults.py can check a load killed at that point leaves the warehouse
    consistent. Points: after_raw, mid_staging, before_commit."""
    if os.environ.get("CEI_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def default_source_id(path: Path) -> str:
    """The feed a file belongs to: its name less dates (2025-03, 202503, 2025年3月) and version marks."""
    stem = path.stem.lower()
    stem = re.sub(r"(\d{4}年\d{1,2}月|\d{4}[-_.]?\d{2}([-_.]?\d{2})?|\d{4})", " ", stem)
    stem = re.sub(r"(v\d+|\(\d+\)|（\d+）|redelivered|resend|重报|补报|更正|final)", " ", stem)
    stem = re.sub(r"[\s_\-.]+", "_", stem).strip("_")
    return stem or "default"


def open_warehouse(con) -> None:
    """Schemas, tables and macros on a fresh connection (all idempotent)."""
    create_warehouse_tables(con)
    install_ingest_macros(con)


def build_staging(con, table: str, partitions: list[str], pii_key: str) -> tuple[int, int]:
    """Rebuild ``staging.<table>`` for ``partitions`` from raw (call inside a transaction).

    The typed query runs twice without being materialised: once for the good rows (every column),
    once for the rejects (DuckDB prunes the columns that query does not read, so masking and hashing
    are not repeated). Returns (rows staged, rows rejected for unparseable typed fields).
    """
    t = known_table(table)
    columns = [c for c in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = $t ORDER BY column_index",
        {"t": t}).fetchall()]
    cols = ", ".join(f'"{c[0]}"' for c in columns)
    typed = sql_text(f"staging/{t}.sql")
    params = {"partitions": partitions, "pii_key": pii_key} if t == "complaints" else {"partitions": partitions}
    con.execute(f"DELETE FROM staging.{t} WHERE partition_key IN (SELECT unnest($p::VARCHAR[]))", {"p": partitions})
    con.execute("DELETE FROM raw.rejects WHERE table_name = $t AND stage = 'type' AND partition_key IN (SELECT unnest($p::VARCHAR[]))",
                {"t": t, "p": partitions})
    staged = con.execute(f"INSERT INTO staging.{t} ({cols}) SELECT {cols} FROM ({typed}) WHERE len(_bad_values) = 0",
                         params).fetchall()[0][0]
    _fault_point("mid_staging")
    rejected = con.execute(
        f"""INSERT INTO raw.rejects (load_id, table_name, source_file, source_sha256, source_id, source_row,
                                    partition_key, stage, fields, reason, raw_line, loaded_at)
            SELECT load_id, '{t}', source_file, source_sha256, source_id, source_row, partition_key, 'type',
                   array_to_string(list_transform(_bad_values, lambda v: split_part(v, '=', 1)), ', '),
                   'cannot parse ' || array_to_string(list_transform(_bad_values,
                       lambda v: split_part(v, '=', 1) || ' ''' || substr(v, strpos(v, '=') + 1, 60) || ''''), ', '),
                   NULL, loaded_at
            FROM ({typed}) WHERE len(_bad_values) > 0""",
        params,
    ).fetchall()[0][0]
    _drop_unstaged(con, t, partitions)
    return staged, rejected


def _drop_unstaged(con, table: str, partitions: list[str]) -> None:
    """Clean rows whose staging row is gone leave with it, in the same transaction (every clean row
    has its staging row); the months stay stale until gated again (data_quality.publishability)."""
    from data_quality.gate import drop_unstaged

    drop_unstaged(con, table, partitions)


def _log(con, result: FileResult, path: Path, load_id: int, fmt: str | None, header_map: dict | None, now: datetime) -> None:
    con.execute(
        """INSERT INTO raw.load_log VALUES ($id, $file, $name, $sha, $table, $source, $fmt, $enc, $hmap, $parts,
                   $read, $raw, $staged, $rejected, $replaced, $status, $msg, $now)""",
        {"id": load_id, "file": str(path), "name": path.name, "sha": result.sha256 or "", "table": result.table,
         "source": result.source_id, "fmt": fmt, "enc": result.encoding,
         "hmap": json.dumps(header_map, ensure_ascii=False) if header_map else None,
         "parts": result.partitions, "read": result.rows_read, "raw": result.rows_raw, "staged": result.rows_staged,
         "rejected": result.rows_rejected, "replaced": result.rows_replaced, "status": result.status,
         "msg": result.message, "now": now},
    )


def ingest_file(con, path: Path, pii_key: str, source_id: str | None = None, table_hint: str | None = None,
                workdir: Path | None = None, stage: bool = True) -> FileResult:
    """Load one delivered file (see module docstring). Never raises for bad input: a file that
    cannot be loaded comes back with status ``failed`` and a message naming file, row and field.

    ``stage=False`` loads raw only (Dagster's ``landing_files`` asset; the monthly staging assets
    then rebuild staging per partition with :func:`build_staging`)."""
    path = Path(path)
    result = FileResult(file=str(path), status="failed")
    now = datetime.now().replace(microsecond=0)
    try:
        result.sha256 = file_sha256(path)
        done = con.execute(
            "SELECT load_id, loaded_at, status FROM raw.load_log WHERE source_sha256 = $s AND status IN ('loaded', 'replaced') ORDER BY load_id LIMIT 1",
            {"s": result.sha256}).fetchall()
        if done:
            result.status = "skipped"
            result.message = f"already loaded (load {done[0][0]} at {done[0][1]}, now {done[0][2]}); same sha256"
            return result
        fmt = detect_format(path)
    except (OSError, IngestError) as e:
        result.message = str(e) if isinstance(e, IngestError) else f"{path}: {e}"
        _log(con, result, path, con.execute("SELECT nextval('raw.load_id_seq')").fetchall()[0][0], None, None, now)
        return result

    load_id = con.execute("SELECT nextval('raw.load_id_seq')").fetchall()[0][0]
    tmp = Path(tempfile.mkdtemp(prefix="cei_ingest_", dir=workdir))
    hmap = None
    try:
        if fmt == "csv":
            result.encoding = detect_encoding(path)
            hmap = read_csv_into_batch(con, path, result.encoding, table_hint, tmp)
        elif fmt == "xlsx":
            hmap = read_xlsx_into_batch(con, path, table_hint)
        else:
            hmap = read_parquet_into_batch(con, path, table_hint)
        table = hmap.table
        result.table = table.name
        result.source_id = source_id or default_source_id(path)
        con.execute("BEGIN TRANSACTION")
        try:
            _load_batch(con, result, path, load_id, now, table.name, table.month_column, pii_key, stage)
            _log(con, result, path, load_id, fmt, hmap.as_dict(), now)
            _fault_point("before_commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if hmap.missing_optional:
            result.message = "columns not delivered (left empty): " + ", ".join(hmap.missing_optional)
    except IngestError as e:
        result.status, result.message = "failed", str(e)
        _log(con, result, path, load_id, fmt, hmap.as_dict() if hmap else None, now)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        con.execute("DROP VIEW IF EXISTS _placed; DROP VIEW IF EXISTS _batch; DROP VIEW IF EXISTS _csv_numbered")
        for t in ("_csv", "_xlsx", "_pq", "_read_rejects"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return result


def _load_batch(con, result: FileResult, path: Path, load_id: int, now: datetime, table: str, month_col: str,
                pii_key: str, stage: bool) -> None:
    t = known_table(table)
    params = {"load_id": load_id, "file": str(path), "sha": result.sha256, "source": result.source_id, "now": now, "t": t}
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _placed AS
            SELECT *, cei_partition_key('{t}', "{month_col}") AS partition_key FROM _batch""",
    )
    result.rows_read = con.execute("SELECT (SELECT count(*) FROM _placed) + (SELECT count(*) FROM _read_rejects)").fetchall()[0][0]
    partitions = [r[0] for r in con.execute(
        "SELECT DISTINCT partition_key FROM _placed WHERE partition_key IS NOT NULL ORDER BY 1").fetchall()]
    result.partitions = partitions

    # A re-delivery replaces what the same source sent earlier for the same partitions.
    same_feed = {"source": result.source_id, "p": partitions}
    result.rows_replaced = con.execute(
        f"DELETE FROM raw.{t} WHERE source_id = $source AND partition_key IN (SELECT unnest($p::VARCHAR[]))",
        same_feed).fetchall()[0][0]
    con.execute(f"DELETE FROM staging.{t} WHERE source_id = $source AND partition_key IN (SELECT unnest($p::VARCHAR[]))",
                same_feed)
    con.execute("DELETE FROM raw.rejects WHERE table_name = $t AND source_id = $source "
                "AND partition_key IN (SELECT unnest($p::VARCHAR[]))", {"t": t, **same_feed})

    cols = ", ".join(f'"{c}"' for c in TABLES[t].column_names)
    result.rows_raw = con.execute(
        f"""INSERT INTO raw.{t} ({cols}, load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at)
            SELECT {cols}, $load_id, $file, $sha, $source, _row, partition_key, $now FROM _placed WHERE partition_key IS NOT NULL""",
        {k: v for k, v in params.items() if k != "t"}).fetchall()[0][0]
    con.execute(
        f"""INSERT INTO raw.rejects
            SELECT $load_id, $t, $file, $sha, $source, _row, NULL, 'read', fields, reason, raw_line, $now FROM _read_rejects
            UNION ALL
            SELECT $load_id, $t, $file, $sha, $source, _row, NULL, 'read', '{month_col}',
                   CASE WHEN cei_text("{month_col}") IS NULL THEN 'required field {month_col} is empty'
                        ELSE 'cannot parse {month_col} ''' || substr("{month_col}", 1, 60) || ''' (needed to place the record in its period)' END,
                   CAST(to_json(_placed) AS VARCHAR), $now
            FROM _placed WHERE partition_key IS NULL""",
        params)
    _fault_point("after_raw")
    if partitions and stage:
        build_staging(con, t, partitions, pii_key)
    elif partitions:
        _drop_unstaged(con, t, partitions)
    # rows of this file only (staging of a partition also re-stages other sources' rows)
    result.rows_staged = con.execute(f"SELECT count(*) FROM staging.{t} WHERE load_id = $id", {"id": load_id}).fetchall()[0][0]
    result.rows_rejected = con.execute("SELECT count(*) FROM raw.rejects WHERE load_id = $id", {"id": load_id}).fetchall()[0][0]
    result.reject_examples = [
        f"{path.name}, row {r[0]}, field {r[1] or '?'}: {r[2]}" for r in con.execute(
            "SELECT source_row, fields, reason FROM raw.rejects WHERE load_id = $id ORDER BY source_row LIMIT 5",
            {"id": load_id}).fetchall()]
    # earlier loads whose rows are all replaced now; their unplaceable rejects go with them
    replaced_loads = [r[0] for r in con.execute(
        f"""UPDATE raw.load_log SET status = 'replaced', message = 'replaced by load ' || $load_id
            WHERE table_name = $t AND source_id = $source AND status = 'loaded' AND load_id <> $load_id
              AND load_id NOT IN (SELECT DISTINCT load_id FROM raw.{t})
            RETURNING load_id""",
        {"load_id": load_id, "t": t, "source": result.source_id}).fetchall()]
    if replaced_loads:
        con.execute("DELETE FROM raw.rejects WHERE load_id IN (SELECT unnest($ids::BIGINT[]))", {"ids": replaced_loads})
    result.status = "loaded"


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files given directly, plus supported files found (recursively, sorted) in given folders.

    ``ground_truth_*``, ``manifest`` and ``region_traits`` files written by the generator are
    not deliveries and are left alone.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED
                          and not f.name.startswith(("ground_truth", "region_traits", "manifest", "~$", ".")))
        else:
            out.append(p)
    return out


def ingest_paths(con, paths: Iterable[Path], warehouse: Path | None = None, source_id: str | None = None,
                 table_hint: str | None = None, progress: Callable[[FileResult], None] | None = None,
                 stage: bool = True) -> list[FileResult]:
    open_warehouse(con)
    key = pii.pii_key(warehouse)
    results = []
    for path in expand_paths(paths):
        r = ingest_file(con, path, key, source_id=source_id, table_hint=table_hint, stage=stage)
        results.append(r)
        if progress:
            progress(r)
    return results


def restage(con, table: str, partitions: list[str], warehouse: Path | None = None) -> tuple[int, int]:
    """Rebuild staging for some partitions from raw, in one transaction (idempotent)."""
    open_warehouse(con)
    key = pii.pii_key(warehouse)
    con.execute("BEGIN TRANSACTION")
    try:
        counts = build_staging(con, table, partitions, key)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def table_counts(con) -> list[tuple]:
    """Rows per table: (table, raw, staging, rejected, clean, quarantined) — the summary the CLI prints.

    clean / quarantined are None until the data-quality gate has run on the warehouse."""
    gated = table_exists(con, "dq", "quarantine")
    rows = []
    for t in TABLES:
        r = con.execute(
            f"""SELECT (SELECT count(*) FROM raw.{t}), (SELECT count(*) FROM staging.{t}),
                       (SELECT count(*) FROM raw.rejects WHERE table_name = $t)""", {"t": t}).fetchall()[0]
        gate = (None, None)
        if gated:
            gate = con.execute(f"""SELECT (SELECT count(*) FROM clean.{t}),
                                          (SELECT count(*) FROM dq.quarantine WHERE table_name = $t)""", {"t": t}).fetchall()[0]
        rows.append((t, *r, *gate))
    return rows
