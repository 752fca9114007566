"""Reading delivered files: format and encoding detection, header mapping, row numbering.

Every reader ends in the same place: a DuckDB temp table ``_batch`` with the canonical columns
(text, as delivered) plus ``_row`` (the record's number in the file: 1 = first record after the
header), and a temp table ``_read_rejects`` (``_row, fields, reason, raw_line``) for records that
could not be read at all. Nothing is typed here — typing is staging's job, so raw keeps exactly
what the bureau sent.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

import duckdb

from ingestion.schema import TABLES, TableSchema

CHUNK = 1 << 24  # 16 MiB: hashing / decoding / transcoding stream in chunks of this size


class IngestError(Exception):
    """A file that cannot be loaded at all (unknown headers, undecodable bytes, ...)."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field = str(file), row, field
        where = [str(file)]
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {message}")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def detect_format(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in (".csv", ".txt", ".tsv"):
        return "csv"
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if ext == ".xls":
        from ingestion.xlsx_reader import XLS_HOW_TO

        raise IngestError(path, XLS_HOW_TO)
    if ext in (".parquet", ".pq"):
        return "parquet"
    raise IngestError(path, f"unsupported file type {ext!r}: expected .csv, .xlsx or .parquet")


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``gb18030``, by strict decoding of the whole file.

    GBK/GB2312 exports are subsets of GB18030, so one fallback covers them. A file that is
    neither fails with the byte offset, rather than loading mojibake.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError(path, "UTF-16 files are not supported; export as UTF-8 or GB18030")
    first_error = None
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        offset = 0
        try:
            with open(path, "rb") as f:
                while block := f.read(CHUNK):
                    decoder.decode(block)
                    offset += len(block)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError as e:
            first_error = first_error or (encoding, offset + e.start)
    enc, pos = first_error
    raise IngestError(path, f"not valid UTF-8 (first bad byte at offset {pos}) nor GB18030; re-export the file in one of them")


def transcode_to_utf8(path: Path, encoding: str, target_dir: Path, unify_newlines: bool = False) -> Path:
    """Stream a file into a UTF-8 temp file (DuckDB's CSV reader reads UTF-8 only without the
    encodings extension, which cannot be downloaded here); optionally turn CRLF / CR into LF."""
    out = Path(tempfile.mkstemp(suffix=".csv", dir=target_dir)[1])
    with open(path, encoding=encoding, newline=None if unify_newlines else "") as src, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(CHUNK):
            dst.write(block)
    return out


# --- headers -------------------------------------------------------------------------------

def normalise_header(h: object) -> str:
    s = unicodedata.normalize("NFKC", str(h or "")).replace("\ufeff", "")
    return re.sub(r"\s+", "", s).strip().lower()


def _header_index(table: TableSchema) -> dict[str, str]:
    index: dict[str, str] = {}
    for c in table.columns:
        for label in (c.name, c.zh, *c.aliases):
            index[normalise_header(label)] = c.name
    return index


@dataclass
class HeaderMap:
    table: TableSchema
    delivered: list[str]  # headers as delivered, in file order
    canonical: list[str]  # the canonical column for each delivered header
    missing_optional: list[str]

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.delivered, self.canonical))


def map_headers(path: Path, headers: list[str], table_hint: str | None = None) -> HeaderMap:
    """Decide which table a file is and map its headers onto canonical columns.

    Canonical (``record_id``) and Chinese (``登记编号``) headers and known aliases are accepted in
    any order. A header that maps to nothing is an error that names it (and the closest known
    labels): dropping a delivered column silently would lose data.
    """
    from ingestion import profiles  # late: profiles builds on this module

    if (profile := profiles.in_force()) is not None:
        return profiles.map_headers(path, headers, profile)
    norm = [normalise_header(h) for h in headers]
    if not any(norm):
        raise IngestError(path, "the file has no header row")
    candidates = [TABLES[table_hint]] if table_hint else list(TABLES.values())
    if not table_hint:
        stem = path.stem.lower()
        named = [t for t in candidates if stem.startswith(t.name)]
        candidates = named or candidates
    best, best_hits = None, -1
    for t in candidates:
        hits = sum(1 for h in norm if h in _header_index(t))
        if hits > best_hits:
            best, best_hits = t, hits
    table = best
    index = _header_index(table)
    unknown = [h for h, n in zip(headers, norm) if n not in index]
    if unknown:
        hints = []
        for h in unknown:
            close = get_close_matches(normalise_header(h), list(index), n=2, cutoff=0.5)
            hints.append(f"{h!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise IngestError(path, f"cannot map header(s) {', '.join(hints)} onto table {table.name}")
    canonical = [index[n] for n in norm]
    dupes = sorted({c for c in canonical if canonical.count(c) > 1})
    if dupes:
        raise IngestError(path, f"several headers map to the same column(s) {dupes} of {table.name}")
    missing_required = [c.name for c in table.columns if c.required and c.name not in canonical]
    if missing_required:
        labels = [f"{c} ({table.column(c).zh})" for c in missing_required]
        raise IngestError(path, f"table {table.name}: required column(s) missing: {', '.join(labels)}")
    missing_optional = [c.name for c in table.columns if c.name not in canonical]
    return HeaderMap(table, list(headers), canonical, missing_optional)


def read_csv_header(path: Path, encoding: str) -> list[str]:
    with open(path, encoding=encoding, newline="") as f:
        return next(csv.reader(io.StringIO(f.readline())), [])


# --- readers into the _batch temp table ------------------------------------------------------

def _finish_batch(con, hmap: HeaderMap, source: str, row_expr: str = "_row") -> None:
    """``_batch``: every canonical column (absent optional ones as NULL) in schema order, and ``_row``.

    A view, not a copy: at a million rows every extra copy costs seconds and hundreds of MB."""
    present = set(hmap.canonical)
    cols = ", ".join(
        (f'"{c}"' if c in present else f'CAST(NULL AS VARCHAR) AS "{c}"') for c in hmap.table.column_names
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW _batch AS SELECT {cols}, {row_expr} AS _row FROM {source}")


def read_csv_into_batch(con, path: Path, encoding: str, table_hint: str | None, workdir: Path) -> HeaderMap:
    hmap = map_headers(path, read_csv_header(path, encoding), table_hint)
    utf8 = path if encoding in ("utf-8", "utf-8-sig") else transcode_to_utf8(path, encoding, workdir)
    columns = {c: "VARCHAR" for c in hmap.canonical}
    # All text, explicit columns, no sniffing: a late odd value can't abort the load, and
    # malformed records land in reject_errors with their record number. Strict mode stays on:
    # without it DuckDB silently drops extra fields and mangles stray quotes.
    read = """CREATE OR REPLACE TEMP TABLE _csv AS SELECT * FROM read_csv($path, header=true, columns=$columns,
           auto_detect=false, delim=',', quote='"', escape='"', store_rejects=true, all_varchar=true,
           rejects_table='_csv_reject_errors', rejects_scan='_csv_reject_scans')"""
    try:
        con.execute(read, {"path": str(utf8), "columns": columns})
    except duckdb.InvalidInputException:
        # Mixed line endings (CRLF and LF in one export) stop the strict parser; unify and retry.
        unified = transcode_to_utf8(utf8, "utf-8-sig" if encoding == "utf-8-sig" else "utf-8", workdir, unify_newlines=True)
        if utf8 != path:
            utf8.unlink(missing_ok=True)
        utf8 = unified
        try:
            con.execute(read, {"path": str(utf8), "columns": columns})
        except duckdb.Error as e:
            raise IngestError(path, f"unreadable as CSV: {str(e).splitlines()[0]}") from None
    # DuckDB numbers records in `line` counting the header as 1, so record number = line - 1.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _read_rejects AS
           SELECT line - 1 AS _row,
                  -- a short record yields one error per missing field; the first one says it all
                  arg_min(column_name, coalesce(column_idx, 0)) AS fields,
                  arg_min(error_type || ': ' || error_message, coalesce(column_idx, 0)) AS reason,
                  any_value(csv_line) AS raw_line
           FROM _csv_reject_errors GROUP BY line"""
    )
    # Good records kept file order (rowid). With rejects, put their record numbers back between
    # them: good record k sits after every reject with fewer than k good records before it.
    if con.execute("SELECT count(*) FROM _read_rejects").fetchall()[0][0] == 0:
        _finish_batch(con, hmap, "_csv", "rowid + 1")
    else:
        con.execute(
            """CREATE OR REPLACE TEMP VIEW _csv_numbered AS
               WITH rej AS (SELECT _row, _row - row_number() OVER (ORDER BY _row) AS good_before,
                                   row_number() OVER (ORDER BY _row) AS n FROM _read_rejects),
                    good AS (SELECT *, rowid + 1 AS _k FROM _csv)
               SELECT good.* EXCLUDE (_k), good._k + coalesce(rej.n, 0) AS _row
               FROM good ASOF LEFT JOIN rej ON good._k > rej.good_before"""
        )
        _finish_batch(con, hmap, "_csv_numbered")
    con.execute("DROP TABLE IF EXISTS _csv_reject_errors; DROP TABLE IF EXISTS _csv_reject_scans")
    if utf8 != path:
        utf8.unlink(missing_ok=True)
    return hmap


def read_xlsx_into_batch(con, path: Path, table_hint: str | None) -> HeaderMap:
    """Moved to :mod:`ingestion.xlsx_reader` (every sheet, merged cells, formulas, serial dates);
    kept here so existing imports work. Imported late: xlsx_reader itself imports this module."""
    from ingestion.xlsx_reader import read_xlsx_into_batch as read

    return read(con, path, table_hint)


def read_parquet_into_batch(con, path: Path, table_hint: str | None) -> HeaderMap:
    names = [r[0] for r in con.execute("SELECT name FROM parquet_schema($p) WHERE num_children IS NULL OR num_children = 0", {"p": str(path)}).fetchall()]
    hmap = map_headers(path, names, table_hint)
    # Column names come from the file, so they are quoted identifiers checked against the schema
    # mapping above (map_headers refused anything unknown); values are never spliced.
    select = ", ".join(f'CAST("{d.replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS "{c}"' for d, c in zip(hmap.delivered, hmap.canonical))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _pq AS SELECT {select}, file_row_number + 1 AS _row FROM read_parquet($p, file_row_number=true)",
        {"p": str(path)},
    )
    _finish_batch(con, hmap, "_pq")
    con.execute("CREATE OR REPLACE TEMP TABLE _read_rejects (_row BIGINT, fields VARCHAR, reason VARCHAR, raw_line VARCHAR)")
    return hmap
