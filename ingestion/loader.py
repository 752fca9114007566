"""Idempotent loading of delivered files into ``raw`` and ``staging`` (one transaction per file).

For each file:

1. its sha256 is looked up in ``raw.load_log``: a file already loaded is skipped (re-running is
   safe); a file that a later delivery superseded is not reloaded (the message names the later one);
2. it is read as text (CSV in UTF-8 / UTF-8 with BOM / GB18030, XLSX, Parquet) with its headers
   mapped onto the canonical columns (``ingestion.readers``);
3. each record gets lineage (file, sha256, record number, load id, source, time) and its partition
   (month, or year for region profiles); unreadable records, records without a usable partition
   date and records dated before the first monthly partition (:data:`FIRST_MONTH`) or in the future
   (after today in Asia/Shanghai) go to ``raw.rejects`` with their row number, fields and reason;
4. records already loaded from another live file (same record key and same delivered content) are
   not loaded twice: when *every* record of the file matches one earlier file, the file is that
   file's re-delivery; otherwise the repeated records go to ``raw.rejects`` naming the file they
   came with first;
5. in ONE transaction: the delivery this file supersedes is removed by its load id (wherever its
   months fall, nothing else), the new rows are inserted into raw, and staging is rebuilt for every
   partition either delivery touched (``sql/staging/<table>.sql``), with records whose typed fields
   do not parse moved to ``raw.rejects``. The superseded load is marked ``replaced`` with
   ``superseded_by`` in ``raw.load_log``.

Which earlier delivery a file supersedes: ``supersedes`` (``cei ingest --supersedes FILE``), else the
live load of the same table and *source* that declared the same period in its file name
(``complaints_2025-03_v2.csv`` declares 2025-03, like ``complaints_2025-03.csv``). A file whose name
declares no period supersedes nothing by name.

Counting rule, per file: records read = raw rows + read rejects; raw rows = staged + type rejects.

The *source* is the delivering feed: ``--source`` when given, otherwise the file name without
its date and version marks (``complaints_2025-03_v2.csv`` -> ``complaints``).

Bad files fail alone: whatever goes wrong reading one file (bad zip, truncated Parquet, a CSV
named .xlsx, undecodable bytes) comes back as a ``failed`` result with a one-line message and a
``raw.load_log`` row, and the next file of the batch loads.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, NamedTuple
from zoneinfo import ZoneInfo

import duckdb

from ingestion import pii, profiles, record_count
from ingestion.csv_reader import read_csv_into_batch
from ingestion.encoding import detect_encoding
from ingestion.readers import IngestError, detect_format, file_sha256, read_parquet_into_batch
from ingestion.xlsx_reader import read_xlsx_into_batch
from ingestion.schema import TABLES
from ingestion.sqlfiles import (create_warehouse_tables, install_ingest_macros, known_table, run, sql_text, statement,
                                table_exists)

# The first monthly partition (pipelines/partitions.py; the merged 全国12315平台 went live in 2019).
# Kept here too because ingestion imports no Dagster; tests check the two agree.
FIRST_MONTH = "2019-01"
# "Today" for placing records: the bureaus' clock (Beijing time), whatever the server's zone.
BUREAU_TZ = ZoneInfo("Asia/Shanghai")
# Messages are one line; a file with 10,000 unknown headers must not print them all.
MAX_MESSAGE = 300
TMP_DIR_NAME = ".cei_tmp"

# SQL fragments derived from each table's contract, built once at import (never from input): column
# lists, the record-key matches of the duplicate check and each side's content hash.
_COLUMNS = {t: ", ".join(f'"{c}"' for c in s.column_names) for t, s in TABLES.items()}
_PLACED_COLUMNS = {t: ", ".join(f'p."{c}"' for c in s.column_names) for t, s in TABLES.items()}
_KEYS = {t: [k.strip() for k in s.key.split(",")] for t, s in TABLES.items()}
_DUPLICATE_MATCH = {t: {"batch_key_match": " AND ".join(f'r."{k}" = b."{k}"' for k in _KEYS[t]),
                        "key_match": " AND ".join(f'p."{k}" = r."{k}"' for k in _KEYS[t]),
                        "placed_content": "hash(" + ", ".join(f'p."{c}"' for c in s.column_names) + ")",
                        "raw_content": "hash(" + ", ".join(f'r."{c}"' for c in s.column_names) + ")"}
                    for t, s in TABLES.items()}
# A record's day, parsed from its month column (``{}``); region profiles have a year, no day.
_RECORD_DAY = {"complaints": 'CAST(cei_timestamp("{}") AS DATE)', "sampling_results": 'cei_date("{}")',
               "hotline_stats": 'cei_month("{}")'}


@dataclass
class FileResult:
    file: str
    status: str  # loaded | skipped | failed | ignored (a folder's non-delivery, e.g. generator metadata)
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
    load_id: int | None = None
    superseded: list[int] = field(default_factory=list)  # load ids this delivery replaced
    # every partition this load changed (its own and the superseded delivery's): restaged, to re-gate
    touched_partitions: list[str] = field(default_factory=list)
    rows_duplicate: int = 0  # records already loaded from another live file (in rows_rejected)
    sheets_skipped: list[str] = field(default_factory=list)  # XLSX sheets not loaded: "'name': reason"

    def as_dict(self) -> dict:
        return asdict(self)


class NotLoaded(NamedTuple):
    path: Path
    reason: str
    refused: bool  # True: a delivery we cannot load (the run fails); False: not a delivery at all


class Scan(NamedTuple):
    files: list[Path]
    not_loaded: list[NotLoaded]


def _fault_point(name: str) -> None:
    """Test hook: with ``CEI_TEST_KILL_AT=<name>`` this process kills itself here with SIGKILL, so
    tests/adversarial/test_faults.py can check a load killed at that point leaves the warehouse
    consistent. Points: after_raw, mid_staging, before_commit."""
    if os.environ.get("CEI_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def short_message(text: str, limit: int = MAX_MESSAGE) -> str:
    """First line, at most ``limit`` characters (a header dump must not flood a terminal or the log)."""
    lines = str(text).strip().splitlines()
    first = lines[0].strip() if lines else ""
    if len(first) > limit:
        first = first[:limit - 1].rstrip() + f"… ({len(first) - limit + 1:,} more characters)"
    return first


def default_source_id(path: Path) -> str:
    """The feed a file belongs to: its name less dates (2025-03, 202503, 2025年3月) and version marks."""
    stem = path.stem.lower()
    stem = re.sub(r"(\d{4}年\d{1,2}月|\d{4}[-_.]?\d{2}([-_.]?\d{2})?|\d{4})", " ", stem)
    stem = re.sub(r"(v\d+|\(\d+\)|（\d+）|redelivered|resend|重报|补报|更正|final)", " ", stem)
    stem = re.sub(r"[\s_\-.]+", "_", stem).strip("_")
    return stem or "default"


_PERIOD = re.compile(r"(?<!\d)(?:(\d{4})年(\d{1,2})月(?:(\d{1,2})日)?|(\d{4})(?:[-_.]?(\d{2})(?:[-_.]?(\d{2}))?)?)(?!\d)")


def declared_period(path: Path) -> str:
    """The period a file's name declares: ``complaints_2025-03_v2.csv`` -> ``2025-03``; ``202503`` and
    ``2025年3月`` alike; a year (``hotline_stats_2025``) or a day; several joined by ``,``; ``""`` if none.

    Two deliveries of one feed declaring the same period are an original and its re-delivery."""
    out = []
    for m in _PERIOD.finditer(Path(path).stem):
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        if not 1949 <= int(y) <= 2100 or (mo and not 1 <= int(mo) <= 12) or (d and not 1 <= int(d) <= 31):
            continue
        out.append(y + (f"-{int(mo):02d}" if mo else "") + (f"-{int(d):02d}" if mo and d else ""))
    return ",".join(out)


_VERSION = re.compile(r"(?<![a-z])v(\d{1,3})(?!\d)|\((\d{1,3})\)|（(\d{1,3})）", re.I)
_REDELIVERY_WORD = re.compile(r"redelivered|resend|重报|补报|更正|final", re.I)


def delivery_version(path: Path) -> int:
    """The version a file name marks: ``_v2`` / ``(2)`` -> 2, a re-delivery word (重报, final, ...) -> 1,
    none (the original) -> 0. Orders a folder's deliveries so a re-delivery loads after its original."""
    stem = Path(path).stem
    numbers = [int(g) for m in _VERSION.finditer(stem) for g in m.groups() if g]
    return max(numbers) if numbers else int(bool(_REDELIVERY_WORD.search(stem)))


def open_warehouse(con) -> None:
    """Schemas, tables and macros on a fresh connection (all idempotent)."""
    create_warehouse_tables(con)
    install_ingest_macros(con)
    _backfill_declared_periods(con)


def _backfill_declared_periods(con) -> None:
    """Loads logged before ``declared_period`` existed get it from their file name once, so their
    re-deliveries still find them ('' when the name declares none)."""
    todo = run(con, "ingest/load/loads_without_declared_period.sql").fetchall()
    if todo:
        update = [{"period": declared_period(Path(name)), "load_id": load_id} for load_id, name in todo]
        con.executemany(statement("ingest/load/set_declared_period.sql", update[0])[0], update)


def build_staging(con, table: str, partitions: list[str], pii_key: str) -> tuple[int, int]:
    """Rebuild ``staging.<table>`` for ``partitions`` from raw (call inside a transaction).

    The typed query (``sql/staging/<table>.sql``, reading the temp view ``_staging_source``) runs
    over the partitions' raw rows once and inserts the good ones. The rows it did not stage are
    exactly those with an unparseable typed field: only they go through the typed query again, to
    be written as rejects with the fields and values that failed. A raw row that ends up neither
    staged nor rejected stops the load. Returns (rows staged, rows rejected for unparseable fields).
    """
    t = known_table(table)
    columns = [c for c in run(con, "ingest/load/staging_columns.sql", {"t": t}).fetchall()]
    cols = ", ".join(f'"{c[0]}"' for c in columns)
    typed = sql_text(f"staging/{t}.sql")
    params = {"pii_key": pii_key} if t == "complaints" else {}
    run(con, "ingest/load/delete_staging_partitions.sql", {"p": partitions}, table=t)
    run(con, "ingest/load/delete_type_rejects.sql", {"t": t, "p": partitions})
    run(con, "ingest/load/create_staging_partitions.sql", {"p": partitions})
    try:
        run(con, "ingest/load/create_staging_source.sql", table=t)
        staged = run(con, "ingest/load/insert_staging_rows.sql", params, table=t, columns=cols,
                     typed=typed).fetchall()[0][0]
        _fault_point("mid_staging")
        run(con, "ingest/load/create_unstaged_source.sql", table=t)
        unstaged = run(con, "ingest/load/count_staging_source.sql").fetchall()[0][0]
        rejected = 0 if unstaged == 0 else run(
            con, "ingest/load/insert_type_rejects.sql", params, table=t, typed=typed).fetchall()[0][0]
    finally:
        run(con, "ingest/load/drop_staging_work.sql")
    if rejected != unstaged:  # independent of the typed query's own filter: no raw row may vanish here
        raise IngestError(Path(t), f"staging left {unstaged - rejected} raw row(s) neither staged nor rejected")
    _drop_unstaged(con, t, partitions)
    return staged, rejected


def _drop_unstaged(con, table: str, partitions: list[str]) -> None:
    """Clean rows whose staging row is gone leave with it, in the same transaction (every clean row
    has its staging row); the months stay stale until gated again (data_quality.publishability)."""
    from data_quality.gate import drop_unstaged

    drop_unstaged(con, table, partitions)


def _log(con, result: FileResult, path: Path, load_id: int, fmt: str | None, header_map: dict | None, now: datetime) -> None:
    run(
        con, "ingest/load/insert_load_log.sql",
        {"id": load_id, "file": str(path), "name": path.name, "sha": result.sha256 or "", "table": result.table,
         "source": result.source_id, "fmt": fmt, "enc": result.encoding,
         "hmap": json.dumps(header_map, ensure_ascii=False) if header_map else None,
         "parts": result.partitions, "read": result.rows_read, "raw": result.rows_raw, "staged": result.rows_staged,
         "rejected": result.rows_rejected, "replaced": result.rows_replaced, "status": result.status,
         "msg": result.message, "now": now, "period": declared_period(path)},
    )


def _log_failure(con, result: FileResult, path: Path, load_id: int | None, fmt: str | None,
                 header_map: dict | None, now: datetime) -> None:
    """Record a failed file; a warehouse that cannot even take the log row still gives a message."""
    result.status = "failed"
    try:
        if load_id is None:
            load_id = run(con, "ingest/load/next_load_id.sql").fetchall()[0][0]
        result.load_id = load_id
        _log(con, result, path, load_id, fmt, header_map, now)
    except duckdb.Error as e:
        result.message = short_message(f"{result.message} (not recorded in raw.load_log: {short_message(str(e), 80)})")


def _is_disk_full(e: BaseException) -> bool:
    return (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left on device" in str(e)


def _read_failure(path: Path, fmt: str | None, e: BaseException) -> str:
    """One line for a file that could not be read: what it was read as and the reader's first line."""
    if isinstance(e, IngestError):
        return short_message(str(e))
    kind = {"csv": "CSV", "xlsx": "XLSX", "parquet": "Parquet"}.get(fmt or "", "a delivery")
    hint = {"xlsx": " (empty, truncated, or not really an Excel workbook?)",
            "parquet": " (empty or truncated Parquet file?)"}.get(fmt or "", "")
    detail = short_message(str(e), 160) or "no detail"
    return short_message(f"{path}: cannot read as {kind}{hint}: {type(e).__name__}: {detail}")


def _newer_delivery(con, path: Path, source_id: str) -> tuple[int, str] | None:
    """The live delivery of the same feed and declared period with a higher version than ``path``
    (a v1 arriving after its v2 must not replace it), or None."""
    period = declared_period(path)
    if not period:
        return None
    rows = run(con, "ingest/load/live_loads_of_period.sql", {"s": source_id, "p": period}).fetchall()
    mine = delivery_version(path)
    newer = [(i, n) for i, n in rows if delivery_version(Path(n)) > mine]
    return newer[0] if newer else None


def _refuse_ambiguous_redelivery(path: Path, earlier: list[tuple[int, str]]) -> None:
    """Two regions' ``complaints_2025-03.csv`` in their own folders share feed and period by name: the
    second is no re-delivery of the first, and replacing would delete the first region's records. A
    file of the same version (no higher ``_v2`` / ``(1)`` / 重报 mark) from another folder is refused
    instead, naming both; ``--source`` (a feed per region) or ``--supersedes`` says what is meant."""
    mine = delivery_version(path)
    for load_id, old in earlier:
        # paths are stored as given: compare them resolved (a relative one against today's folder; if that
        # is not where it was loaded from, the file is refused, never a region's records deleted)
        if old and Path(old).resolve().parent != path.resolve().parent and delivery_version(Path(old)) >= mine:
            raise IngestError(path, f"same feed and period as load {load_id} ({old}) from another folder, and no "
                                    "newer version mark: another region's file or a re-delivery? Nothing replaced; "
                                    "give each region's files their own --source, or --supersedes the old file")


def _resolve_supersedes(con, target: str | Path, this_sha: str) -> tuple[int, str]:
    """The live load named by ``--supersedes FILE`` (its path, file name or, if it exists, its bytes)."""
    target = Path(target)
    sha = file_sha256(target) if target.is_file() else None
    rows = run(con, "ingest/load/find_superseded_load.sql", {"p": str(target), "n": target.name, "s": sha}).fetchall()
    if not rows:
        raise IngestError(target, "--supersedes names no loaded delivery (see `cei status`)")
    if sha == this_sha:
        raise IngestError(target, "--supersedes names the same file")
    return rows[0][0], rows[0][2]


def ingest_file(con, path: Path, pii_key: str, source_id: str | None = None, table_hint: str | None = None,
                workdir: Path | None = None, stage: bool = True, supersedes: str | Path | None = None,
                profile: profiles.Profile | str | Path | None = None, encoding: str | None = None) -> FileResult:
    """Load one delivered file (see module docstring). Never raises for bad input: a file that
    cannot be loaded comes back with status ``failed`` and a one-line message naming the file
    (and row and field where there is one), and is recorded in ``raw.load_log``.

    ``stage=False`` loads raw only (Dagster's ``landing_files`` asset; the monthly staging assets
    then rebuild staging per partition with :func:`build_staging`).

    ``profile``: a mapping profile (``ingestion.profiles``) for another system's export: its
    headers, codes, date formats, encoding and table."""
    path = Path(path)
    if profile is not None and not isinstance(profile, profiles.Profile):
        profile = profiles.load(profile)
    forced = encoding or (profile.encoding if profile else None)  # --encoding, else the profile's
    passes = _CsvPasses(path, forced) if _is_new_csv(con, path) else None
    try:
        return _ingest_file(con, path, pii_key, source_id, profile.table.name if profile else table_hint, workdir,
                            stage, supersedes, profile, forced, passes)
    finally:
        if passes is not None:
            passes.close()


class _CsvPasses:
    """The passes over a CSV's bytes before DuckDB reads it, each on its own thread: sha256 (optional),
    the independent record count and the encoding check. hashlib and numpy release the GIL and the
    decode holds it, so on two cores they take about as long as the decode alone, not the sum."""

    def __init__(self, path: Path, encoding: str | None, sha256: bool = True):
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="cei-csv")
        self.sha = self.pool.submit(file_sha256, path) if sha256 else None
        self.count = self.pool.submit(record_count.count_records, path)
        self.encoding = self.pool.submit(detect_encoding, path, encoding)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _is_new_csv(con, path: Path) -> bool:
    """A CSV whose name no live or replaced load had: hashed while it is counted and decoded. Any
    other file is hashed first, so one already loaded is skipped without reading it through (a
    renamed copy of a loaded file is still found by its sha256, after the wasted passes)."""
    try:
        if detect_format(path) != "csv":
            return False
    except IngestError:
        return False
    return not run(con, "ingest/load/count_loads_named.sql", {"n": path.name}).fetchall()[0][0]


def _ingest_file(con, path: Path, pii_key: str, source_id: str | None, table_hint: str | None, workdir: Path | None,
                 stage: bool, supersedes: str | Path | None, profile: profiles.Profile | None, encoding: str | None,
                 passes: _CsvPasses | None) -> FileResult:
    profile_notes: list[str] = []
    result = FileResult(file=str(path), status="failed")
    now = datetime.now().replace(microsecond=0)
    try:
        result.sha256 = passes.sha.result() if passes is not None else file_sha256(path)
    except OSError as e:
        if _is_disk_full(e):
            raise
        result.message = short_message(f"{path}: cannot read the file: {e.strerror or e}")
        _log_failure(con, result, path, None, None, None, now)
        return result
    done = run(con, "ingest/load/find_loaded_sha.sql", {"s": result.sha256}).fetchall()
    if done:
        load_id, at, status, by_id, by_name, by_at = done[0]
        result.status = "skipped"
        if status == "loaded":
            result.message = f"already loaded (load {load_id} at {at}); same sha256"
        else:
            by = f"load {by_id} ({by_name}, {by_at})" if by_id is not None else "a later delivery"
            result.message = f"not reloaded: this delivery (load {load_id}) was superseded by {by}"
        return result
    try:
        fmt = detect_format(path)
    except IngestError as e:
        result.message = short_message(str(e))
        _log_failure(con, result, path, None, None, None, now)
        return result
    feed = source_id or (profile.source if profile else None) or default_source_id(path)
    if not supersedes and (newer := _newer_delivery(con, path, feed)):
        result.status = "skipped"
        result.message = (f"not loaded: an older version of {newer[1]} (load {newer[0]}), which is the loaded delivery "
                          f"of {declared_period(path)}; give --supersedes {newer[1]} to load it anyway")
        return result

    load_id = run(con, "ingest/load/next_load_id.sql").fetchall()[0][0]
    result.load_id = load_id
    tmp = _private_tmp_dir(workdir)
    hmap = None
    try:
        try:
            explicit = _resolve_supersedes(con, supersedes, result.sha256) if supersedes else None
            with profiles.using(profile):
                if fmt == "csv":
                    # the count and the encoding check (started with the hash for a new file); the
                    # encoding: ``encoding`` forces one, else detected
                    own = passes is None
                    csv_passes = _CsvPasses(path, encoding, sha256=False) if own else passes
                    try:
                        enc = csv_passes.encoding.result()
                        result.encoding = enc.encoding
                        hmap = read_csv_into_batch(con, path, enc, table_hint, tmp, csv_passes.count)
                    finally:
                        if own:
                            csv_passes.close()
                elif fmt == "xlsx":
                    hmap = read_xlsx_into_batch(con, path, table_hint)
                else:
                    hmap = read_parquet_into_batch(con, path, table_hint)
                profile_notes = profiles.apply_to_batch(con, profile, hmap)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 — whatever a broken file makes a reader raise fails this file only
            if _is_disk_full(e) or isinstance(e, (duckdb.FatalException, duckdb.InterruptException)):
                raise
            result.message = _read_failure(path, fmt, e)
            _log_failure(con, result, path, load_id, fmt, hmap.as_dict() if hmap else None, now)
            return result
        table = hmap.table
        result.table = table.name
        result.source_id = feed
        result.sheets_skipped = list(getattr(hmap, "sheets_skipped", []))
        if explicit and explicit[1] != table.name:
            result.message = short_message(f"{path}: --supersedes names a {explicit[1]} delivery, this file is {table.name}")
            _log_failure(con, result, path, load_id, fmt, hmap.as_dict(), now)
            return result
        con.begin()
        try:
            _load_batch(con, result, path, load_id, now, table.name, table.month_column, pii_key, stage,
                        [explicit[0]] if explicit else None)
            if hmap.records_counted is not None and result.rows_read != hmap.records_counted:
                raise IngestError(path, f"records read ({result.rows_read}) differ from the records counted "
                                        f"independently ({hmap.records_counted}); the file is refused whole")
            notes = [*hmap.notes, *profile_notes]  # recovery reader used, XLSX sheets skipped, profile defaults
            if hmap.missing_optional:
                notes.append("columns not delivered (left empty): " + ", ".join(hmap.missing_optional))
            if result.message:
                notes.insert(0, result.message)
            result.message = short_message("; ".join(notes), 2 * MAX_MESSAGE)
            _log(con, result, path, load_id, fmt, hmap.as_dict(), now)
            _fault_point("before_commit")
            con.commit()
        except BaseException as e:
            try:
                con.rollback()
            except duckdb.Error:
                pass  # the connection broke (it rolls back on its own); the original error says why
            if not isinstance(e, (IngestError, OSError, duckdb.Error)) or _is_disk_full(e) \
                    or isinstance(e, (duckdb.FatalException, duckdb.InterruptException)):
                raise  # a warehouse fault or a bug, not this file's doing: stop (the CLI says what happened)
            failed = FileResult(file=str(path), status="failed", table=table.name, source_id=result.source_id,
                                sha256=result.sha256, encoding=result.encoding, load_id=load_id)
            failed.message = _read_failure(path, fmt, e) if isinstance(e, IngestError) else short_message(
                f"{path}: load failed and was rolled back: {type(e).__name__}: {short_message(str(e), 160)}")
            _log_failure(con, failed, path, load_id, fmt, hmap.as_dict(), now)
            return failed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            run(con, "ingest/load/drop_load_work.sql")
        except duckdb.Error:
            pass  # a connection that broke mid-load: the caller's error says why
    return result


def _place_records(con, t: str, month_col: str, today: date) -> None:
    """``_placed``: the batch with its partition, or NULL and ``_place_reason`` when it has none.

    Records dated before :data:`FIRST_MONTH` or after today (Beijing time) get no partition: Dagster
    has no partition for them, and one such record used to stall every later run. The date is
    parsed once per record (``_day``); the month key is derived from it. A view takes no parameters:
    the dates are literals written from :data:`FIRST_MONTH` and the clock, never from input."""
    if t not in _RECORD_DAY:  # region profiles: a year; only the future is out of range
        run(con, "ingest/load/create_placed_by_year.sql", table=t, month_column=month_col,
            year=str(int(today.year)), today=today.isoformat())
        return
    run(con, "ingest/load/create_placed_by_day.sql", month_column=month_col, day=_RECORD_DAY[t].format(month_col),
        first_day=date.fromisoformat(FIRST_MONTH + "-01").isoformat(), first_month=FIRST_MONTH,
        today=today.isoformat())


def _load_batch(con, result: FileResult, path: Path, load_id: int, now: datetime, table: str, month_col: str,
                pii_key: str, stage: bool, supersede: list[int] | None) -> None:
    t = known_table(table)
    schema = TABLES[t]
    params = {"load_id": load_id, "file": str(path), "sha": result.sha256, "source": result.source_id, "now": now, "t": t}
    _place_records(con, t, month_col, datetime.now(BUREAU_TZ).date())
    # Each record's partition, worked out once (parsing a million dates costs): the counts, the
    # partition list and the placing rejects read _placement; only the raw insert reads _placed.
    run(con, "ingest/load/create_placement.sql")
    result.rows_read = run(con, "ingest/load/count_records_read.sql").fetchall()[0][0]
    partitions = [r[0] for r in run(con, "ingest/load/placement_partitions.sql").fetchall()]
    result.partitions = partitions

    # Which delivery this one replaces: the one named, else the same feed's delivery of the same declared period.
    superseded = list(supersede or [])
    period = declared_period(path)
    if not superseded and period:
        earlier = run(con, "ingest/load/earlier_deliveries.sql",
                      {"t": t, "source": result.source_id, "period": period, "load_id": load_id}).fetchall()
        _refuse_ambiguous_redelivery(path, earlier)
        superseded = [i for i, _ in earlier]

    # Records already in raw from another live delivery, same key and same delivered content.
    gone = {"gone": superseded}
    # cheap first: keys only, no date parsing; most loads bring only new records
    candidates = run(con, "ingest/load/count_duplicate_candidates.sql", gone, table=t,
                     batch_key_match=_DUPLICATE_MATCH[t]["batch_key_match"]).fetchall()[0][0]
    run(con, "ingest/load/create_dups.sql")
    if candidates:
        run(con, "ingest/load/insert_dups.sql", gone, table=t, **_DUPLICATE_MATCH[t])
    dup_loads = run(con, "ingest/load/duplicate_loads.sql").fetchall()
    placed = run(con, "ingest/load/count_placed.sql").fetchall()[0][0]
    if dup_loads:
        n_dup = sum(n for _, n in dup_loads)
        first_load = dup_loads[0][0]
        first_name, first_rows = run(con, "ingest/load/first_load_file.sql", {"l": first_load}, table=t).fetchall()[0]
        result.message = f"{n_dup:,} of {placed:,} records already loaded from {first_name}"
        if len(dup_loads) == 1 and n_dup == placed == first_rows:
            # the same records under another name (or format): this file is that delivery again
            superseded.append(first_load)
            run(con, "ingest/load/delete_dups.sql")
            result.message += f"; treated as its re-delivery (replaces load {first_load})"
        else:
            result.rows_duplicate = n_dup
            result.message += (f" (load {first_load})" if len(dup_loads) == 1 else f" and {len(dup_loads) - 1} other file(s)") \
                + "; those records are not loaded again (raw.rejects)"

    # Remove exactly the superseded delivery: its rows by load id, wherever their months fall.
    touched = set(partitions)
    if superseded:
        gone = {"gone": superseded}
        touched |= {r[0] for r in run(con, "ingest/load/superseded_raw_partitions.sql", gone, table=t).fetchall()}
        touched |= {r[0] for r in run(con, "ingest/load/superseded_reject_partitions.sql", gone).fetchall()}
        result.rows_replaced = run(con, "ingest/load/delete_superseded_raw.sql", gone, table=t).fetchall()[0][0]
        run(con, "ingest/load/delete_superseded_staging.sql", gone, table=t)
        run(con, "ingest/load/delete_superseded_rejects.sql", gone)
        run(con, "ingest/load/mark_superseded.sql", {"load_id": load_id, "name": path.name, **gone})
        result.superseded = sorted(superseded)

    result.rows_raw = run(con, "ingest/load/insert_raw_rows.sql", {k: v for k, v in params.items() if k != "t"},
                          table=t, columns=_COLUMNS[t]).fetchall()[0][0]
    # Records that could not be read or placed have no date of their own; they count against the
    # month the file delivers (its one month, else the month its name declares), so a month missing
    # 30% of its records is held back by its reject share instead of passing on what did load.
    attributed = partitions[0] if len(partitions) == 1 else (period if period in partitions else None)
    run(con, "ingest/load/insert_rejects.sql", {**params, "month": attributed}, month_column=month_col,
        columns=_COLUMNS[t], key=schema.key, placed_columns=_PLACED_COLUMNS[t])
    _fault_point("after_raw")
    result.touched_partitions = sorted(touched)
    if result.touched_partitions and stage:
        build_staging(con, t, result.touched_partitions, pii_key)
    elif result.touched_partitions:
        _drop_unstaged(con, t, result.touched_partitions)
    # rows of this file only (staging of a partition also re-stages other sources' rows)
    result.rows_staged = run(con, "ingest/load/count_staged_of_load.sql", {"id": load_id}, table=t).fetchall()[0][0]
    result.rows_rejected = run(con, "ingest/load/count_rejects_of_load.sql", {"id": load_id}).fetchall()[0][0]
    result.reject_examples = [
        f"{path.name}, row {r[0]}, field {r[1] or '?'}: {short_message(r[2], 200)}"
        for r in run(con, "ingest/load/reject_examples.sql", {"id": load_id}).fetchall()]
    result.status = "loaded"


# --- folder scans -----------------------------------------------------------------------------

# Files the synthetic generator writes beside the deliveries (answers, not data).
GENERATOR_METADATA = ("ground_truth", "region_traits", "manifest")


def _not_a_delivery(f: Path, root: Path, own: frozenset[Path] = frozenset()) -> str | None:
    rel = f.relative_to(root)
    try:
        if own and f.resolve() in own:
            return "the warehouse's own file, not a delivery"
    except (OSError, RuntimeError):  # a symlink loop: judged by name below, refused by the caller
        pass
    if any(part.startswith(".") for part in rel.parts):
        return "hidden file or folder"
    if f.name.startswith("~$"):
        return "Office lock file (the workbook is open in Excel)"
    if f.name.lower().startswith(GENERATOR_METADATA):
        return "generator metadata, not a delivery"
    return None


def expand_paths(paths: Iterable[Path], own_files: Iterable[Path] = ()) -> Scan:
    """Files to load and files not loaded (with the reason) from files and folders given.

    Files given by name are always tried. In folders (searched recursively, sorted), hidden files,
    Office lock files (``~$…``) and the generator's ``ground_truth_*`` / ``region_traits*`` /
    ``manifest*`` files are not deliveries: listed, not loaded, not an error. Any other file whose
    type we cannot load (``.xls``, ``.json``, ``.docx``, ...) is a *refused* delivery: someone sent
    it for a reason, so the run lists it and fails after loading the rest.
    """
    files: list[Path] = []
    not_loaded: list[NotLoaded] = []
    own = frozenset(Path(f).resolve() for f in own_files)  # a warehouse kept inside the landing folder
    for p in map(Path, paths):
        if not p.is_dir():
            files.append(p)
            continue
        # an original before its re-deliveries (complaints_2025-03.csv, then _v2, then _v10)
        entries = [x for x in p.rglob("*") if not x.is_dir()]
        found = sorted((x for x in entries if x.is_file()),
                       key=lambda x: (str(x.parent), default_source_id(x), declared_period(x), delivery_version(x), x.name))
        # a broken link or a pipe named like a delivery is a delivery that cannot be read: refused, listed
        for x in sorted(e for e in entries if not e.is_file()):
            if _not_a_delivery(x, p, own) is None:
                what = "a broken link" if x.is_symlink() else "not a regular file (pipe, socket or device)"
                not_loaded.append(NotLoaded(x, f"{x}: {what}; cannot be read", refused=True))
        for f in found:
            reason = _not_a_delivery(f, p, own)
            if reason:
                not_loaded.append(NotLoaded(f, reason, refused=False))
                continue
            try:
                detect_format(f)
            except IngestError as e:
                not_loaded.append(NotLoaded(f, short_message(str(e)), refused=True))
                continue
            files.append(f)
    return Scan(files, not_loaded)


# --- temporary decoded copies -----------------------------------------------------------------

def _warehouse_file(con) -> Path | None:
    try:
        row = run(con, "ingest/load/warehouse_path.sql").fetchall()
    except duckdb.Error:
        return None
    return Path(row[0][0]) if row and row[0][0] else None


def temp_root(con, warehouse: Path | None = None) -> Path | None:
    """``<warehouse folder>/.cei_tmp`` (0700): decoded copies of deliveries hold personal data, so they
    stay beside the warehouse, private, not in a shared /tmp. None for an in-memory warehouse."""
    wh = Path(warehouse) if warehouse else _warehouse_file(con)
    if wh is None:
        return None
    root = wh.resolve().parent / TMP_DIR_NAME
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    return root


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temp(root: Path | None) -> list[Path]:
    """Remove what a killed load left in ``root`` (folders of processes no longer running)."""
    removed = []
    if root is None or not root.is_dir():
        return removed
    for d in root.glob("cei_ingest_*"):
        m = re.match(r"cei_ingest_(\d+)_", d.name)
        if m and int(m.group(1)) != os.getpid() and _pid_alive(int(m.group(1))):
            continue
        shutil.rmtree(d, ignore_errors=True) if d.is_dir() else d.unlink(missing_ok=True)
        removed.append(d)
    return removed


def _private_tmp_dir(workdir: Path | None) -> Path:
    # mkdtemp makes the folder 0700 and mkstemp the files in it 0600
    return Path(tempfile.mkdtemp(prefix=f"cei_ingest_{os.getpid()}_", dir=workdir))


def ingest_paths(con, paths: Iterable[Path], warehouse: Path | None = None, source_id: str | None = None,
                 table_hint: str | None = None, progress: Callable[[FileResult], None] | None = None,
                 stage: bool = True, supersedes: str | Path | None = None,
                 profile: profiles.Profile | str | Path | None = None, encoding: str | None = None) -> list[FileResult]:
    """Load files and folders (see :func:`expand_paths`); one result per file, in order, including
    ``ignored`` results for a folder's non-deliveries and ``failed`` ones for refused files.

    ``profile`` (a file or shipped profile name) applies to every file; a bad profile raises
    :class:`ingestion.profiles.ProfileError` before anything is loaded."""
    if profile is not None and not isinstance(profile, profiles.Profile):
        profile = profiles.load(profile)
    open_warehouse(con)
    key = pii.pii_key(warehouse)
    workdir = temp_root(con, warehouse)
    clean_stale_temp(workdir)
    wh = Path(warehouse) if warehouse else _warehouse_file(con)
    scan = expand_paths(paths, [wh, Path(f"{wh}.wal"), Path(f"{wh}.tmp")] if wh else ())
    if supersedes is not None and len(scan.files) != 1:
        raise IngestError(supersedes, f"--supersedes needs exactly one file to load, got {len(scan.files)}")
    try:
        return _ingest_scanned(con, scan, key, workdir, source_id, table_hint, progress, stage, supersedes, profile,
                               encoding)
    finally:
        # a SIGTERM can land between mkdtemp and the try that removes its folder; this process's
        # leftovers go here whatever happened
        clean_stale_temp(workdir)


def _ingest_scanned(con, scan, key, workdir, source_id, table_hint, progress, stage, supersedes, profile,
                    encoding) -> list[FileResult]:
    results = []
    now = datetime.now().replace(microsecond=0)
    for item in scan.not_loaded:
        r = FileResult(file=str(item.path), status="failed" if item.refused else "ignored", message=item.reason)
        if item.refused:
            try:
                if item.path.is_file():  # never open a pipe (it would block) or follow a broken link
                    r.sha256 = file_sha256(item.path)
            except OSError:
                pass
            _log_failure(con, r, item.path, None, None, None, now)
        results.append(r)
        if progress:
            progress(r)
    for path in scan.files:
        r = ingest_file(con, path, key, source_id=source_id, table_hint=table_hint, stage=stage, workdir=workdir,
                        supersedes=supersedes, profile=profile, encoding=encoding)
        results.append(r)
        if progress:
            progress(r)
    return results


def restage(con, table: str, partitions: list[str], warehouse: Path | None = None) -> tuple[int, int]:
    """Rebuild staging for some partitions from raw, in one transaction (idempotent)."""
    open_warehouse(con)
    key = pii.pii_key(warehouse)
    con.begin()
    try:
        counts = build_staging(con, table, partitions, key)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return counts


def table_counts(con) -> list[tuple]:
    """Rows per table: (table, raw, staging, rejected, clean, quarantined) — the summary the CLI prints.

    clean / quarantined are None until the data-quality gate has run on the warehouse."""
    gated = table_exists(con, "dq", "quarantine")
    rows = []
    for t in TABLES:
        r = run(con, "ingest/load/table_counts.sql", {"t": t}, table=t).fetchall()[0]
        gate = (None, None)
        if gated:
            gate = run(con, "ingest/load/gate_counts.sql", {"t": t}, table=t).fetchall()[0]
        rows.append((t, *r, *gate))
    return rows
