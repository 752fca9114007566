"""Reading a delivered CSV into the ``_batch`` / ``_read_rejects`` temp tables, held to an independent count.

1. The encoding is settled first (``ingestion.encoding``: detected, or forced by ``--encoding``),
   with the byte offsets of any sequences that do not decode.
2. The records are counted by ``ingestion.record_count`` (its module docstring defines a record).
3. Normal path: DuckDB's strict ``read_csv`` (all text, explicit columns, reject capture) — fast. It is
   accepted when it raised nothing and its rows + rejects equal the count. Mixed line endings stop
   DuckDB's strict parser; the file is then rewritten with LF endings and read again.
4. Recovery path, when DuckDB errors or disagrees with the count, or the file has bytes that do not
   decode: a line-by-line reader on Python's ``csv`` module (``strict=True``) that applies the
   record rules of ``record_count`` — a quote left open over a row-shaped line, to the end of the file
   or over more than ``MAX_RECORD_LINES`` lines rejects its first physical line only and reading
   resumes at the next line; records with undecodable bytes are rejected naming their byte offset.
5. Records read (rows + read rejects) must equal the independent count, or the file is refused whole
   (``IngestError`` naming both numbers).

Record numbers: 1 = the first record after the header, blank lines not counted.
"""
from __future__ import annotations

import csv
from concurrent.futures import Future
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion import record_count
from ingestion.encoding import _SURROGATES, EncodingReport, detect_encoding, transcode_to_utf8
from ingestion.errors import IngestError
from ingestion.readers import HeaderMap, _finish_batch, map_headers
from ingestion.record_count import MAX_RECORD_LINES, LineSource, bom_length
from ingestion.sqlfiles import run, statement

BATCH_ROWS = 50_000
MAX_RAW_LINE = 100_000  # characters of a rejected record kept in raw.rejects.raw_line

csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))  # a complaint text may be long; DuckDB has no limit


def read_csv_header(path: Path, encoding: str) -> list[str]:
    """The header: the first physical line (a quote left open in it must not pull in the whole file).
    A quote left open in the header refuses the file: read on, it would take the next lines into the
    header and the line-by-line reader and the record count would agree on losing them."""
    with open(path, encoding=str(encoding), errors="replace", newline="") as f:
        line = f.readline().rstrip("\r\n")
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error:
        fields = next(csv.reader([line]))  # read leniently only to name the field the quote opens
        raise IngestError(path, "the header leaves a quote open; its columns cannot be told apart from the "
                                "records that follow, so the file is refused whole — close the quote",
                          row=1, field=f"{len(fields)} ({fields[-1]})") from None


def read_csv_into_batch(con, path: Path, encoding: str | EncodingReport | None, table_hint: str | None,
                        workdir: Path, counted: record_count.RecordCount | Future | None = None) -> HeaderMap:
    """Read ``path`` (see module docstring). ``encoding``: an :class:`EncodingReport` from
    :func:`ingestion.encoding.detect_encoding`, an encoding name to force, or None to detect.
    ``counted``: the independent record count when the caller started it already (a future: it
    runs beside the encoding check)."""
    path = Path(path)
    report = encoding if isinstance(encoding, EncodingReport) else detect_encoding(path, encoding)
    hmap = map_headers(path, read_csv_header(path, report.encoding), table_hint)
    if isinstance(counted, Future):
        counted = counted.result()
    counted = counted or record_count.count_records(path)
    why = None
    if report.bad_count:
        why = f"{report.bad_count} undecodable byte sequence(s)"
    else:
        try:
            rows, rejects = _read_with_duckdb(con, path, report.encoding, hmap, workdir)
            if rows + rejects != counted.records:
                why = f"DuckDB read {rows + rejects} records, the independent count is {counted.records}"
            elif rejects and counted.interior_blank_lines:
                why = "blank lines inside the file shift DuckDB's record numbers"
        except duckdb.Error as e:
            why = f"DuckDB could not read it ({str(e).splitlines()[0][:120]})"
    if why is not None:
        rows, rejects = _read_with_recovery(con, path, report, hmap)
    if rows + rejects != counted.records:
        raise IngestError(path, f"records read ({rows + rejects}: {rows} rows + {rejects} unreadable) differ from the "
                                f"records counted independently ({counted.records}); the file is refused whole so "
                                "that no record is lost or split — check its quoting and line breaks")
    hmap.records_counted = counted.records
    hmap.read_note = f"read line by line: {why}" if why else ""  # shown with the load's result (HeaderMap.notes)
    return hmap


# --- the normal path: DuckDB ---------------------------------------------------------------------

# Temp objects Python names too (the SQL is in sql/ingest/read/; these names appear there as well).
_CSV = "_csv"  # the records read (both paths)
_CSV_NUMBERED = "_csv_numbered"  # _csv with the rejects' record numbers put back (number_csv_rows.sql)
_CSV_ARROW = "_csv_arrow"  # a batch of the recovery reader's rows (insert_csv_rows.sql)
_REJ_ARROW = "_rej_arrow"  # a batch of the recovery reader's rejects (insert_csv_rejects.sql)
_TEXT = "VARCHAR"  # every column is read as text: typing is staging's job


def _read_with_duckdb(con, path: Path, encoding: str, hmap: HeaderMap, workdir: Path) -> tuple[int, int]:
    """DuckDB's strict reader into ``_csv`` / ``_read_rejects`` and the ``_batch`` view; (rows, rejects)."""
    utf8 = path if encoding in ("utf-8", "utf-8-sig") else transcode_to_utf8(path, encoding, workdir)
    columns = dict.fromkeys(hmap.canonical, _TEXT)
    # All text, explicit columns, no sniffing, strict mode: why, in read_csv.sql.
    try:
        try:
            run(con, "ingest/read/read_csv.sql", {"path": str(utf8), "columns": columns})
        except duckdb.InvalidInputException:
            # Mixed line endings (CRLF and LF in one export) stop the strict parser; unify and retry.
            unified = transcode_to_utf8(utf8, "utf-8-sig" if encoding == "utf-8-sig" else "utf-8", workdir,
                                        unify_newlines=True)
            if utf8 != path:
                utf8.unlink(missing_ok=True)
            utf8 = unified
            run(con, "ingest/read/read_csv.sql", {"path": str(utf8), "columns": columns})
    finally:
        if utf8 != path:
            utf8.unlink(missing_ok=True)
    run(con, "ingest/read/read_csv_rejects.sql")  # record number = DuckDB's line - 1 (the header is line 1)
    run(con, "ingest/read/drop_read_csv_rejects.sql")
    rows, rejects = run(con, "ingest/read/count_csv_read.sql").fetchall()[0]
    # Good records kept file order (rowid). With rejects, put their record numbers back between
    # them: good record k sits after every reject with fewer than k good records before it.
    if rejects == 0:
        _finish_batch(con, hmap, _CSV, by_rowid=True)
    else:
        run(con, "ingest/read/number_csv_rows.sql")
        _finish_batch(con, hmap, _CSV_NUMBERED)
    return rows, rejects


# --- the recovery path: line by line ----------------------------------------------------------

class _Unclosed(Exception):
    """A quoted field would take in a row-shaped line, run to the end of the file, or span too many lines."""


class _Feed:
    """Physical lines for ``csv.reader``: the record's first line, then continuation lines only while
    they may belong to an open quoted field (``record_count`` rule 4)."""

    def __init__(self, first, src: LineSource, width: int | None, decode):
        self.first, self.src, self.width, self.decode = first, src, width, decode
        self.taken: list = []
        self.started = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if not self.started:
            self.started = True
            return self.decode(self.first[0]) + self.first[2].decode("ascii")
        nxt = self.src.next()
        if nxt is None:
            raise _Unclosed("the quote never closes before the end of the file")
        self.taken.append(nxt)
        text = self.decode(nxt[0])
        if len(self.taken) + 1 > MAX_RECORD_LINES:
            raise _Unclosed(f"the quoted field would span more than {MAX_RECORD_LINES} lines")
        if self.width is not None and _row_shaped(text, self.width):
            raise _Unclosed(f"the quoted field would take in line {self.src.index} which is a complete record")
        return text + nxt[2].decode("ascii")


def _row_shaped(text: str, width: int) -> bool:
    if not text:
        return False
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error:
        return False  # a quote left open, or a character after a closing quote
    return len(rows) == 1 and len(rows[0]) == width


def _read_with_recovery(con, path: Path, report: EncodingReport, hmap: HeaderMap) -> tuple[int, int]:
    """The recovery reader into ``_csv`` / ``_read_rejects`` and the ``_batch`` view; (rows, rejects)."""
    enc = "utf-8" if report.encoding == "utf-8-sig" else report.encoding
    cols = hmap.canonical
    run(con, "ingest/read/drop_read_csv_rejects.sql")
    width = len(cols)

    def decode(b: bytes) -> str:
        return b.decode(enc, "surrogateescape")

    # column names from the contract (map_headers), quoted as identifiers
    run(con, "ingest/read/csv_table.sql",
        columns=", ".join(statement("ingest/read/expr_text_column.sql", column=f'"{c}"')[0] for c in cols))
    run(con, "ingest/read/read_rejects_table.sql")
    data: list[list] = [[] for _ in range(width + 1)]
    rejects: list[tuple] = []
    n_rows = n_rejects = 0

    def flush() -> None:
        nonlocal data, rejects
        if data[0]:
            arrow = pa.table({**{c: pa.array(v, pa.string()) for c, v in zip(cols, data)},
                              "_row": pa.array(data[width], pa.int64())})
            con.register(_CSV_ARROW, arrow)
            run(con, "ingest/read/insert_csv_rows.sql")
            con.unregister(_CSV_ARROW)
            data = [[] for _ in range(width + 1)]
        if rejects:
            arrow = pa.table({k: pa.array([r[i] for r in rejects], t) for i, (k, t) in
                              enumerate((("_row", pa.int64()), ("fields", pa.string()), ("reason", pa.string()),
                                         ("raw_line", pa.string())))})
            con.register(_REJ_ARROW, arrow)
            run(con, "ingest/read/insert_csv_rejects.sql")
            con.unregister(_REJ_ARROW)
            rejects = []

    def field_name(k: int) -> str | None:  # k: 1-based field number
        return cols[k - 1] if 1 <= k <= width else None

    src = LineSource(path, bom_length(path))
    header_seen = False
    row = 0
    while (first := src.next()) is not None:
        if not first[0]:
            continue  # a blank line is not a record
        feed = _Feed(first, src, width if header_seen else None, decode)
        unclosed = error = None
        try:
            fields = next(csv.reader(feed, strict=True))
        except _Unclosed as e:
            unclosed = str(e)
        except csv.Error as e:
            error = str(e)
        if not header_seen:
            header_seen = True
            if unclosed:
                src.push_back(feed.taken)
            continue
        row += 1
        lines = [first] if unclosed else [first, *feed.taken]
        if unclosed:
            src.push_back(feed.taken)  # resume at the line after the record's first line
        raw = b"".join(item[0] + item[2] for item in lines)
        raw_text = _SURROGATES.sub("\ufffd", raw.decode(enc, "surrogateescape"))[:MAX_RAW_LINE].rstrip("\r\n")
        reason = field = None
        bad = _first_bad(lines, enc)
        if bad is not None:
            at, seq = bad
            field = field_name(record_count.scan_line(raw[:at - first[1]].replace(b"\r", b"").replace(b"\n", b""),
                                                      record_count.FIELD_START, 1)[1]) if at >= first[1] else None
            reason = f"undecodable bytes ({seq[:4].hex(' ')}) at byte offset {at}: not valid {report.encoding}"
        elif unclosed:
            state, k = record_count.scan_line(first[0], record_count.FIELD_START, 1)
            field = field_name(k)
            reason = f"unclosed quote: a quote opened in this field never closes ({unclosed}); only this line is rejected"
        elif error is not None:
            k = _broken_field(lines)
            field = field_name(k)
            reason = f"stray quote: {error}"
        elif len(fields) != width:
            field = field_name(len(fields) + 1) if len(fields) < width else None
            reason = f"expected {width} fields, found {len(fields)}"
        if reason is not None:
            rejects.append((row, field, reason, raw_text))
            n_rejects += 1
        else:
            for i, v in enumerate(fields):
                data[i].append(v or None)  # DuckDB reads empty and "" as NULL; so does this reader
            data[width].append(row)
            n_rows += 1
        if len(data[0]) >= BATCH_ROWS or len(rejects) >= BATCH_ROWS:
            flush()
    flush()
    _finish_batch(con, hmap, _CSV)
    return n_rows, n_rejects


def _first_bad(lines: list, enc: str) -> tuple[int, bytes] | None:
    """(byte offset in the file, bad bytes) of the first undecodable sequence of the record's lines."""
    for body, offset, _ in lines:
        try:
            body.decode(enc)
        except UnicodeDecodeError as e:
            return offset + e.start, body[e.start:e.end]
    return None


def _broken_field(lines: list) -> int:
    state, fields = record_count.FIELD_START, 1
    for body, _, _ in lines:
        state, fields = record_count.scan_line(body, state, fields)
        if state == record_count.BROKEN:
            break
    return fields
