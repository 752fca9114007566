"""Reading delivered files: format and encoding detection, header mapping, row numbering.

Every reader ends in the same place: a DuckDB temp table ``_batch`` with the canonical columns
(text, as delivered) plus ``_row`` (the record's number in the file: 1 = first record after the
header), and a temp table ``_read_rejects`` (``_row, fields, reason, raw_line``) for records that
could not be read at all. Nothing is typed here — typing is staging's job, so raw keeps exactly
what the bureau sent.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from ingestion.encoding import CHUNK
from ingestion.errors import IngestError  # noqa: F401 — re-exported
from ingestion.pii import mask_numbers
from ingestion.schema import TABLES, TableSchema
from ingestion.sqlfiles import run, statement

_PQ = "_pq"  # the Parquet file's rows (read_parquet.sql), under _batch


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
    records_counted: int | None = None  # CSV: records counted independently (ingestion.record_count)
    read_note: str = ""  # CSV: why the line-by-line recovery reader was used, if it was

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.delivered, self.canonical))

    @property
    def notes(self) -> list[str]:
        """Lines for the file's message (the loader joins them into it)."""
        return [self.read_note] if self.read_note else []


def map_headers(path: Path, headers: list[str], table_hint: str | None = None) -> HeaderMap:
    """Decide which table a file is and map its headers onto canonical columns.

    Canonical (``record_id``) and Chinese (``登记编号``) headers and known aliases are accepted in
    any order. A header that maps to nothing is an error that names it (and the closest known
    labels): dropping a delivered column silently would lose data.
    """
    from ingestion import profiles  # late: profiles builds on this module

    if (profile := profiles.in_force()) is not None:
        return profiles.map_headers(path, headers, profile)
    norm = normalised_headers(path, headers)
    candidates = [TABLES[table_hint]] if table_hint else list(TABLES.values())
    if not table_hint:
        stem = path.stem.lower()
        named = [t for t in candidates if stem.startswith(t.name)]
        candidates = named or candidates
    best, best_hits = None, -1
    for t in candidates:
        labels = _header_index(t)
        hits = sum(1 for h in norm if h in labels)
        if hits > best_hits:
            best, best_hits = t, hits
    table = best
    index = _header_index(table)
    unknown = [h for h, n in zip(headers, norm) if n not in index]
    if unknown:
        masked = [mask_numbers(str(h)) for h in unknown]
        if (len(unknown) >= 5 and len(unknown) * 2 > len(headers)) or masked != [str(h) for h in unknown]:
            # many labels unknown, or one holding a phone / ID number: the "header" is likely a data
            # row, which may hold a name too; its values stay out of the message (and the logs)
            raise IngestError(path, f"the first row does not look like a header row: {len(unknown)} of {len(headers)} "
                                    f"labels map to no column of {table.name} (values not shown: a data row may hold "
                                    "personal data); add the header row or map the columns in a profile")
        hints = []
        for h in unknown:
            close = get_close_matches(normalise_header(h), list(index), n=2, cutoff=0.5)
            hints.append(f"{h!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise IngestError(path, f"cannot map header(s) {', '.join(hints)} onto table {table.name}")
    canonical = [index[n] for n in norm]
    missing_optional = check_mapping(path, table, canonical, set(canonical))
    return HeaderMap(table, list(headers), canonical, missing_optional)


def normalised_headers(path: Path, headers: list[str]) -> list[str]:
    """The headers normalised for lookup; a row of empty labels is no header row."""
    norm = [normalise_header(h) for h in headers]
    if not any(norm):
        raise IngestError(path, "the file has no header row")
    return norm


def check_mapping(path: Path, table: TableSchema, canonical: list[str], present: set[str],
                  who: str = "", fix: str = "") -> list[str]:
    """Refuse a mapping with two headers on one column or a required column not ``present``;
    returns the optional columns not present. ``who`` prefixes both messages (a profile's name),
    ``fix`` ends the missing-column one."""
    dupes = sorted({c for c in canonical if canonical.count(c) > 1})
    if dupes:
        raise IngestError(path, f"{who}several headers map to the same column(s) {dupes} of {table.name}")
    missing_required = [c.name for c in table.columns if c.required and c.name not in present]
    if missing_required:
        labels = [f"{c} ({table.column(c).zh})" for c in missing_required]
        raise IngestError(path, f"{who or f'table {table.name}: '}required column(s) missing: {', '.join(labels)}{fix}")
    return [c for c in table.column_names if c not in present]


# --- readers into the _batch temp table ------------------------------------------------------

def _finish_batch(con, hmap: HeaderMap, source: str, by_rowid: bool = False) -> None:
    """``_batch``: every canonical column (absent optional ones as NULL) in schema order, and ``_row``
    (the source's ``_row``, or with ``by_rowid`` its rowid + 1).

    A view, not a copy: at a million rows every extra copy costs seconds and hundreds of MB.
    ``source``: a temp table of the reader (a module constant, never input)."""
    present = set(hmap.canonical)
    cols = ", ".join(
        (f'"{c}"' if c in present else statement("ingest/read/expr_absent_column.sql", column=f'"{c}"')[0])
        for c in hmap.table.column_names
    )
    view = "ingest/read/batch_view_by_rowid.sql" if by_rowid else "ingest/read/batch_view.sql"
    run(con, view, columns=cols, source=source)


def read_parquet_into_batch(con, path: Path, table_hint: str | None) -> HeaderMap:
    names = [r[0] for r in run(con, "ingest/read/parquet_columns.sql", {"path": str(path)}).fetchall()]
    hmap = map_headers(path, names, table_hint)
    # Column names come from the file, so they are quoted identifiers checked against the schema
    # mapping above (map_headers refused anything unknown); values are never spliced.
    select = ", ".join(statement("ingest/read/expr_parquet_column.sql", delivered=f'"{d.replace(chr(34), chr(34) * 2)}"',
                                 column=f'"{c}"')[0] for d, c in zip(hmap.delivered, hmap.canonical))
    run(con, "ingest/read/read_parquet.sql", {"path": str(path)}, columns=select)
    _finish_batch(con, hmap, _PQ)
    run(con, "ingest/read/read_rejects_table.sql")
    return hmap
