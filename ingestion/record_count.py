"""Counting a CSV's records independently of the parsers that load it.

The loader holds every CSV load to this count: records read (raw rows + read rejects) must equal it,
or the file is refused whole. The code here shares nothing with DuckDB's reader nor with the
recovery reader (``ingestion.csv_reader``, built on Python's ``csv`` module): it is a byte-level
state machine, run over the raw file in streamed pieces (memory stays flat at any size).

**How records are counted** (comma-separated, ``"`` quoting with ``""`` for a quote inside a quoted
field, as RFC 4180 and DuckDB's ``read_csv(quote='"', escape='"')``):

1. *Physical lines* end at LF, CRLF or a lone CR; a last line without a terminator counts. The
   UTF-8 byte-order mark is skipped. Works on bytes: in every encoding admitted by
   ``ingestion.encoding.check_encoding`` the bytes ``"`` ``,`` CR LF only ever mean themselves.
2. A line that is empty (or only CR) where a record would start is not a record. Every other line
   starts a record; the first record is the header and is not counted.
3. Inside a record, a ``"`` opens a quoted field only at the start of a field; elsewhere in an
   unquoted field it is an ordinary character (``27" monitor`` loads as written). In a quoted field,
   ``""`` is a quote and ``"`` closes the field; anything but ``,``, ``"`` or the line end right after
   a closing quote makes the record *broken*, and the record ends at the end of that physical line.
4. A quoted field still open at the end of a physical line continues on the next line (a legitimate
   embedded newline) - unless the quote never closes before the end of the file, or one of the lines
   it would take in is *row-shaped* (parsed on its own from a field start, it closes all its quotes,
   is not broken, and has exactly the header's number of fields), or the record would span more than
   ``MAX_RECORD_LINES`` physical lines. Then the quote is *unclosed*: the record is broken and is its
   first physical line only, and counting resumes at the next physical line.

So an unclosed quote in record 100 of 300 row-shaped records gives 300 records (record 100 broken),
and a legitimate multi-line field gives one record whatever its embedded lines look like, unless a
line of it is by itself a complete record of the right width (then it cannot be told from a record
swallowed by a stray quote, and is read as one).

Two passes implement the same definition. The fast one (numpy, 1-2 s per GB on the project box) treats every
``"`` as a toggle and checks that this toggle view agrees with rule 3 everywhere: each opening quote
follows a delimiter, a line break, another quote or the file start; each closing quote is followed
by one of those or the end of file; the file ends outside quotes. Embedded line breaks are then
checked against rule 4 line by line. Any doubt sends the file to the exact pass, which runs the rules
above literally, one physical line at a time.
"""
from __future__ import annotations

import codecs
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

CHUNK = 1 << 24
MAX_RECORD_LINES = 1000  # a record whose quoted field would span more physical lines is broken (rule 4)
MAX_LISTED = 100

QUOTE, COMMA, LF, CR = 0x22, 0x2C, 0x0A, 0x0D
_SEPARATORS = np.array([COMMA, LF, CR, QUOTE], dtype=np.uint8)

# record states of the exact scanner
FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE, BROKEN = range(5)
_SPECIAL = re.compile(rb'[",]')


@dataclass
class RecordCount:
    records: int  # records after the header
    header_fields: int
    method: str  # "fast" | "exact"
    multiline_records: int = 0  # records spanning more than one physical line
    interior_blank_lines: int = 0  # skipped empty lines that have a record after them
    broken_rows: list[int] = field(default_factory=list)  # record numbers of broken records (exact pass; first few)
    broken_count: int = 0


def bom_length(path: Path) -> int:
    with open(path, "rb") as f:
        return 3 if f.read(3) == codecs.BOM_UTF8 else 0


# --- the exact scanner ------------------------------------------------------------------------

def scan_line(line: bytes, state: int, fields: int) -> tuple[int, int]:
    """Run the record state machine over one physical line (terminator excluded)."""
    if state == BROKEN:
        return state, fields
    if state != QUOTED and state != AFTER_QUOTE and b'"' not in line:  # the common case, at C speed
        n = line.count(b",")
        if not line:
            return state, fields
        return (FIELD_START if line.endswith(b",") else UNQUOTED), fields + n
    pos = 0
    for m in _SPECIAL.finditer(line):
        i = m.start()
        if i > pos:  # ordinary characters before this one
            if state == FIELD_START:
                state = UNQUOTED
            elif state == AFTER_QUOTE:
                return BROKEN, fields
        if line[i] == COMMA:
            if state != QUOTED:
                fields += 1
                state = FIELD_START
        elif state == FIELD_START:
            state = QUOTED
        elif state == QUOTED:
            state = AFTER_QUOTE
        elif state == AFTER_QUOTE:
            state = QUOTED  # "" inside a quoted field
        # UNQUOTED: a quote inside an unquoted field is an ordinary character
        pos = i + 1
    if pos < len(line):
        if state == FIELD_START:
            state = UNQUOTED
        elif state == AFTER_QUOTE:
            return BROKEN, fields
    return state, fields


def row_shaped(line: bytes, width: int) -> bool:
    """Rule 4: the line on its own is a complete, unbroken record of ``width`` fields."""
    if not line:
        return False
    state, fields = scan_line(line, FIELD_START, 1)
    return state not in (QUOTED, BROKEN) and fields == width


def physical_lines(path: Path, start: int = 0) -> Iterator[tuple[bytes, int, bytes]]:
    """(line without terminator, byte offset of the line, terminator) for each physical line."""
    with open(path, "rb") as f:
        f.seek(start)
        offset = start
        for raw in f:
            if raw.endswith(b"\r\n"):
                body, term = raw[:-2], b"\r\n"
            elif raw.endswith(b"\n"):
                body, term = raw[:-1], b"\n"
            else:
                body, term = raw, b""
            if b"\r" in body:  # lone CRs end lines too
                parts = body.split(b"\r")
                for p in parts[:-1]:
                    yield p, offset, b"\r"
                    offset += len(p) + 1
                body = parts[-1]
            if not raw.endswith(b"\r"):  # else the file ended with a lone CR: its line was yielded above
                yield body, offset, term
                offset += len(body) + len(term)


class LineSource:
    """Physical lines with push-back, so a record that turns out broken can hand its lines back."""

    def __init__(self, path: Path, start: int):
        self._it = physical_lines(path, start)
        self._back: deque = deque()
        self.index = 0  # physical lines handed out so far (1 = the first line)

    def next(self):
        if self._back:
            item = self._back.popleft()
        else:
            item = next(self._it, None)
            if item is None:
                return None
        self.index += 1
        return item

    def push_back(self, items: list) -> None:
        for item in reversed(items):
            self._back.appendleft(item)
        self.index -= len(items)


def _exact_count(path: Path, start: int) -> RecordCount:
    src = LineSource(path, start)
    width = None
    records, multiline, blanks_pending, interior_blank, broken, broken_rows = 0, 0, 0, 0, 0, []
    while (item := src.next()) is not None:
        line = item[0]
        if not line:
            blanks_pending += 1
            continue
        interior_blank += blanks_pending
        blanks_pending = 0
        state, fields = scan_line(line, FIELD_START, 1)
        taken = []
        unclosed = False
        while state == QUOTED:
            nxt = src.next()
            if nxt is None or (width is not None and row_shaped(nxt[0], width)) or len(taken) + 1 >= MAX_RECORD_LINES:
                if nxt is not None:
                    taken.append(nxt)
                src.push_back(taken)
                unclosed = True
                break
            taken.append(nxt)
            state, fields = scan_line(nxt[0], QUOTED, fields)
        if width is None:
            width = fields
            continue
        records += 1
        if unclosed or state == BROKEN:
            broken += 1
            if len(broken_rows) < MAX_LISTED:
                broken_rows.append(records)
        elif taken:
            multiline += 1
    return RecordCount(records, width or 0, "exact", multiline, interior_blank, broken_rows, broken)


# --- the fast pass ----------------------------------------------------------------------------

class _Irregular(Exception):
    pass


def _fast_count(path: Path, start: int) -> RecordCount:
    quotes = 0  # quotes before the current buffer
    prev_byte = LF  # the byte before the buffer (the file start acts as a line start)
    last_term = start - 1  # offset of the last terminator (a virtual one before the file)
    lines = 0  # non-empty physical lines ending outside quotes = records incl. header
    blank_pending = interior_blank = 0
    inquote_terms: list[np.ndarray] = []  # offsets of line breaks inside quoted fields
    inquote_record: list[np.ndarray] = []  # ... and the number of the record they are in
    first_line_end = None
    with open(path, "rb") as f:
        f.seek(start)
        base, tail = start, b""
        while True:
            block = f.read(CHUNK)
            eof = not block
            buf = tail + block
            if not buf:
                break
            a = np.frombuffer(buf, dtype=np.uint8)
            n = len(a) if eof else len(a) - 1  # keep one byte back: it is the next byte of the last one
            body = a[:n]
            # most pieces hold no quote or no CR at all: memchr says so far faster than a numpy pass
            has_quote, has_cr = buf.find(b'"', 0, n) >= 0, buf.find(b"\r", 0, n) >= 0
            if has_quote or has_cr:
                nxt = a[1:n + 1] if not eof else np.append(a[1:], np.uint8(0))  # 0 = end of file
            qpos = np.flatnonzero(body == QUOTE) if has_quote else np.empty(0, dtype=np.intp)
            if len(qpos):
                opening = ((quotes + np.arange(len(qpos))) % 2) == 0
                prevb = np.where(qpos > 0, a[np.maximum(qpos - 1, 0)], prev_byte)
                ok_open = np.isin(prevb, _SEPARATORS)
                nb = nxt[qpos]
                ok_close = np.isin(nb, _SEPARATORS) | ((nb == 0) & eof & (qpos == len(a) - 1))
                if np.any(opening & ~ok_open) or np.any(~opening & ~ok_close):
                    raise _Irregular
            if has_cr:
                tpos = np.flatnonzero((body == LF) | ((body == CR) & (nxt != LF)))
            else:
                tpos = np.flatnonzero(body == LF)
            if len(tpos):
                inq = ((quotes + np.searchsorted(qpos, tpos)) % 2) == 1
                prev_t = np.concatenate(([last_term - base], tpos[:-1]))
                gap = tpos - prev_t
                before = np.where(tpos > 0, a[np.maximum(tpos - 1, 0)], prev_byte)
                blank = (gap == 1) | ((gap == 2) & (before == CR))
                outside = ~inq
                ends = outside & ~blank
                # blank lines outside quotes with a record after them are "interior"
                ob = blank[outside]
                ne = np.flatnonzero(~ob)
                if len(ne):
                    interior_blank += blank_pending + int(ob[:ne[-1]].sum())
                    blank_pending = int(ob[ne[-1] + 1:].sum())
                else:
                    blank_pending += int(ob.sum())
                if inq.any():
                    record_no = lines + np.cumsum(ends) - ends  # records completed before each break
                    inquote_terms.append(tpos[inq] + base)
                    inquote_record.append(record_no[inq])
                if first_line_end is None and ends.any():
                    first_line_end = int(tpos[np.flatnonzero(ends)[0]]) + base
                lines += int(ends.sum())
                last_term = int(tpos[-1]) + base
            quotes += len(qpos)
            prev_byte = int(body[-1]) if n else prev_byte
            if eof:
                end = base + len(a)
                if quotes % 2:
                    raise _Irregular  # a quote open at the end of the file
                if end - 1 > last_term:  # a last line without a terminator (never empty: CR would end it)
                    lines += 1
                    interior_blank += blank_pending
                    first_line_end = end if first_line_end is None else first_line_end
                break
            base += n
            tail = buf[n:]

    if lines == 0:
        return RecordCount(0, 0, "fast")
    with open(path, "rb") as f:
        f.seek(start)
        header = _read_line(f)
    if not header or b"\n" in header or (first_line_end is not None and first_line_end - start > len(header) + 2):
        raise _Irregular  # a header spanning lines or after blank lines: leave it to the exact pass
    hstate, width = scan_line(header, FIELD_START, 1)
    if hstate in (QUOTED, BROKEN):
        raise _Irregular
    multiline = 0
    if inquote_terms:
        offsets = np.concatenate(inquote_terms)
        recs = np.concatenate(inquote_record)
        _, per_record = np.unique(recs, return_counts=True)
        if per_record.max() + 1 > MAX_RECORD_LINES:
            raise _Irregular
        multiline = len(per_record)
        with open(path, "rb") as f:
            for off in offsets.tolist():
                f.seek(off + 1)
                if row_shaped(_read_line(f), width):
                    raise _Irregular
    return RecordCount(lines - 1, width, "fast", multiline, interior_blank)


def _read_line(f) -> bytes:
    """The physical line at the file position, without its terminator (LF, CRLF or lone CR)."""
    out = b""
    while True:
        block = f.read(1 << 16)
        if not block:
            return out
        data = out + block
        ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
        if ends:
            return data[:min(ends)]
        out = data


def count_records(path: Path) -> RecordCount:
    """Count the records of a CSV (see module docstring)."""
    path = Path(path)
    start = bom_length(path)
    try:
        return _fast_count(path, start)
    except _Irregular:
        return _exact_count(path, start)
