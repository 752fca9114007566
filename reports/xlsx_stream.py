"""Large workbooks streamed row by row (xlsxwriter ``constant_memory``), for sheets of hundreds of
thousands of rows such as ``dq_report.xlsx``'s scorecards (issue 12: openpyxl's write-only cells
took ~104 s for the 10M-record CN report; xlsxwriter writes the same cells in well under half).
Rows of text, numbers, dates and blanks are written as the XML xlsxwriter's ``write_*`` calls would write, straight
to the sheet's row file (xlsxwriter 3.2.9, pinned; the bytes are compared with the library's in the tests): its
per-cell bookkeeping was most of the time left (the 1M CN ``dq_report.xlsx`` 80–86 s → 28 s). Any other value
goes through ``write_*`` as before.

Each table becomes one sheet with the same layout as the project's other workbooks:

* inside :func:`reports.render.provisional` a first row carries the banner (bold dark red on yellow);
* a bold, shaded, frozen header row; an autofilter over header and data; column widths;
* a number format per column (``None``: the value as it is);
* text is always a string cell: ``strings_to_formulas`` is off, so ``=HYPERLINK(...)`` stays text, and
  text that *looks* like a formula (:func:`index_model.safe_cells.looks_like_formula`) also gets the
  quote-prefix style, so Excel keeps it text when someone edits the cell; no text becomes a link.
* Excel holds at most 1,048,576 rows a sheet: a longer table continues on ``name (2)``, ``name (3)``, …
  (each with the banner and header) instead of being cut or making a file Excel refuses.

Values: ``str``, ``bool``, ``int``, ``float``, ``Decimal``, numpy scalars, ``date``/``datetime``;
``None``, NaN, ±inf, ``pd.NA``/``NaT`` and ``""`` leave the cell blank; a list is joined with ", ".
Text longer than Excel's 32,767 characters a cell is cut there (openpyxl wrote it whole, past the limit
Excel documents); control characters are stored escaped (``_x0001_``) where openpyxl refused the row.
Column widths are written in xlsxwriter's convention (``10`` is stored as 10.71, the width Excel shows
as 10 characters). No Dagster and no pandas import (numpy only, for its scalars): the module is usable by any writer.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name

from index_model.safe_cells import looks_like_formula

EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_MAX = 31
HEADER_FILL = "DCE6F1"
BANNER_FONT, BANNER_FILL = "9C0006", "FFEB9C"
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
XLS_STRMAX = 32_767  # xlsxwriter's Worksheet.xls_strmax: text is cut here
# numpy's integer and float scalars (the fast rows write their Python value, as _other does); pandas' missing markers
_NUMPY_NUMBERS = frozenset({np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
                            np.float16, np.float32, np.float64})
_MISSING_TYPES = ("NAType", "NaTType")
_FAST_TYPES = _NUMPY_NUMBERS | {int, float, dt.date, dt.datetime, type(None)}  # and str
# text that xlsxwriter's inline-string writer changes: XML escapes (&, <, >), control characters and the _xHHHH_
# escapes (escaped again), Unicode non-characters, leading or trailing whitespace (xml:space)
_PLAIN_TEXT = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")


def default_width(header: Any) -> int:
    """A column's width from its header (a CJK character is about two wide)."""
    return max(10, min(40, len(str(header)) * 2 + 2))


def part_name(name: str, part: int) -> str:
    """The sheet name of a table's ``part``-th sheet (1: the name itself), at most 31 characters."""
    if part == 1:
        return name[:SHEET_NAME_MAX]
    suffix = f" ({part})"
    return name[:SHEET_NAME_MAX - len(suffix)] + suffix


class StreamingWorkbook:
    """An ``.xlsx`` written sheet by sheet, row by row; saved to ``path`` (via ``path.tmp``) on
    :meth:`close`. Use as a context manager; nothing is left at ``path`` if writing fails."""

    def __init__(self, path: Path | str, *, banner: str = "", max_rows: int = EXCEL_MAX_ROWS, fast_rows: bool = True):
        import xlsxwriter

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self.banner = banner or ""
        self.max_rows = max_rows  # rows of a sheet, banner and header included (a parameter for tests)
        self.book = xlsxwriter.Workbook(str(self._tmp), {
            "constant_memory": True,  # each row goes to a temporary file once the next begins
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        })
        self._formats: dict[tuple, Any] = {}
        self.sheets: list[str] = []
        self.fast_rows = fast_rows

    def _format(self, num_format: str | None = None, quote: bool = False):
        key = (num_format, quote)
        if key not in self._formats:
            spec: dict[str, Any] = {}
            if num_format:
                spec["num_format"] = num_format
            if quote:
                spec["quote_prefix"] = True
            self._formats[key] = self.book.add_format(spec) if spec else None
        return self._formats[key]

    def add_table(self, name: str, header: Sequence[Any], rows: Iterable[Sequence[Any]],
                  formats: Sequence[str | None] | None = None,
                  widths: Sequence[float] | None = None) -> list[str]:
        """Write ``rows`` under ``header`` on sheet ``name`` (continued on ``name (2)``, … past Excel's
        row limit); returns the names of the sheets written."""
        ncols = len(header)
        formats = list(formats) if formats is not None else [None] * ncols
        if len(formats) != ncols:
            raise ValueError(f"{name}: {ncols} columns but {len(formats)} formats")
        widths = list(widths) if widths is not None else [default_width(h) for h in header]
        top = 2 if self.banner else 1  # rows above the data
        per_sheet = self.max_rows - top
        if per_sheet < 1:
            raise ValueError("max_rows leaves no room for data")
        num_fmts = [self._format(f) if f else None for f in formats]
        date_fmts = [self._format(f or DATE_FORMAT) for f in formats]
        datetime_fmts = [self._format(f or DATETIME_FORMAT) for f in formats]
        quote = self._format(quote=True)
        header_fmt = {"bold": True, "bg_color": HEADER_FILL, "pattern": 1}
        banner_fmt = {"bold": True, "font_color": BANNER_FONT, "bg_color": BANNER_FILL, "pattern": 1}
        written: list[str] = []
        ws = None
        n = 0  # data rows on the current sheet

        def new_sheet():
            sheet = self.book.add_worksheet(part_name(name, len(written) + 1))
            written.append(sheet.name)
            for j, w in enumerate(widths):
                sheet.set_column(j, j, w)
            sheet.freeze_panes(top, 0)
            if self.banner:
                self._styled_text(sheet, 0, 0, self.banner, banner_fmt)
            for j, h in enumerate(header):
                self._styled_text(sheet, top - 1, j, "" if h is None else str(h), header_fmt)
            return sheet

        def finish(sheet, n_rows):
            if n_rows:
                sheet.autofilter(top - 1, 0, top - 1 + n_rows, ncols - 1)

        ws = new_sheet()
        # xlsxwriter's own <row> and <c> XML for the usual values (text, numbers, dates, blanks), written straight to
        # the sheet's row file: the same bytes its write_* calls produce (tests/test_xlsx_stream.py compares them),
        # without their per-cell bookkeeping (issue 12: the 1M CN dq_report.xlsx 80-86 s -> 28 s)
        fast = self.fast_rows and self._fast_rows_supported(ws)
        refs = [xl_col_to_name(j) for j in range(ncols)]
        for row in rows:
            if n == per_sheet:
                finish(ws, n)
                ws, n = new_sheet(), 0
            r = top + n
            n += 1
            if fast and self._write_row_xml(ws, r, row, refs, num_fmts, date_fmts, datetime_fmts, quote):
                continue
            for j, v in enumerate(row):
                cls = v.__class__
                if cls is str:
                    if v:
                        ws.write_string(r, j, v, quote if looks_like_formula(v) else None)
                elif cls is int or cls is float:
                    if v == v and v not in (math.inf, -math.inf):
                        ws.write_number(r, j, v, num_fmts[j])
                elif v is None:
                    continue
                elif cls is bool:
                    ws.write_boolean(r, j, v, num_fmts[j])
                else:
                    self._other(ws, r, j, v, num_fmts[j], date_fmts[j], datetime_fmts[j], quote)
        finish(ws, n)
        self.sheets += written
        return written

    @staticmethod
    def _fast_rows_supported(ws) -> bool:
        """Rows as xlsxwriter writes them with ``constant_memory`` and no row settings: ``<row r="n">``, no spans,
        heights or Excel 2010 attributes (what :meth:`_write_row_xml` reproduces)."""
        return bool(ws.constant_memory and ws.excel_version == 2007 and not ws.set_rows
                    and ws.default_row_height == ws.original_row_height)

    def _write_row_xml(self, ws, r: int, row: Sequence[Any], refs: list[str], num_fmts: list, date_fmts: list,
                       datetime_fmts: list, quote) -> bool:
        """Row ``r`` written as xlsxwriter's XML if every value is text, a number (numpy's too), a date or a datetime
        without a zone, or blank; False, and nothing of the row written, for a value the write_* calls handle
        (booleans, lists, Decimal, pandas' Timestamp, rich text)."""
        for v in row:  # first, nothing changed (no style numbered) for a row left to write_*
            cls = v.__class__
            if cls is str:
                if v[:3] == "<r>":  # xlsxwriter may write it as rich text
                    return False
            elif cls not in _FAST_TYPES and cls.__name__ not in _MISSING_TYPES:
                return False
            elif cls is dt.datetime and v.tzinfo is not None:  # _other drops the zone first
                return False
        if ws.table:  # a row written through write_* (banner, header, a row of other values) goes out first, as the
            ws._write_single_row(r)  # next write_* call would do: its styles are numbered before this row's
        ws.previous_row = r
        cells = []
        first = last = None
        num = str(r + 1)
        for j, v in enumerate(row):
            cls = v.__class__
            if cls in _NUMPY_NUMBERS:  # as _other: the Python number (pandas' Int64 columns give these)
                v = v.item()
                cls = v.__class__
            elif cls.__name__ in _MISSING_TYPES:
                continue
            if cls is str:
                if not v:
                    continue
                if len(v) > XLS_STRMAX:
                    v = v[:XLS_STRMAX]
                fmt = quote if looks_like_formula(v) else None
                attr = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
                if _PLAIN_TEXT.search(v) is not None:  # the rare text xlsxwriter escapes or marks
                    v = ws._escape_control_characters(v)
                    space = ' xml:space="preserve"' if _preserve_whitespace(v) else ""
                    v = ws._escape_data(v)
                else:
                    space = ""
                cells.append(f'<c r="{refs[j]}{num}"{attr} t="inlineStr"><is><t{space}>{v}</t></is></c>')
            elif cls is int or cls is float:
                if v != v or v in (math.inf, -math.inf):
                    continue
                fmt = num_fmts[j]
                attr = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
                cells.append(f'<c r="{refs[j]}{num}"{attr}><v>{v:.16G}</v></c>')
            elif cls is dt.date or cls is dt.datetime:  # as write_datetime: Excel's serial number, a date format
                fmt = date_fmts[j] if cls is dt.date else datetime_fmts[j]
                cells.append(f'<c r="{refs[j]}{num}" s="{fmt._get_xf_index()}"><v>{ws._convert_date_time(v):.16G}</v></c>')
            else:  # None
                continue
            if first is None:
                first = j
            last = j
        if cells:  # as _check_dimensions records a written cell; a row of blanks writes nothing
            if ws.dim_rowmin is None or r < ws.dim_rowmin:
                ws.dim_rowmin = r
            if ws.dim_rowmax is None or r > ws.dim_rowmax:
                ws.dim_rowmax = r
            if ws.dim_colmin is None or first < ws.dim_colmin:
                ws.dim_colmin = first
            if ws.dim_colmax is None or last > ws.dim_colmax:
                ws.dim_colmax = last
            ws.fh.write(f'<row r="{num}">{"".join(cells)}</row>')
        return True

    def _styled_text(self, ws, r, j, v: str, spec: dict):
        """A banner or header cell; formula-like text quote-prefixed here too."""
        key = ("styled", tuple(sorted(spec.items())), looks_like_formula(v))
        if key not in self._formats:
            self._formats[key] = self.book.add_format({**spec, "quote_prefix": True} if key[2] else spec)
        ws.write_string(r, j, v, self._formats[key])

    def _other(self, ws, r, j, v, num_fmt, date_fmt, datetime_fmt, quote):
        """The rare values: numpy scalars, Decimal, dates, lists, missing markers, other objects."""
        if isinstance(v, (list, tuple)):
            v = ", ".join(str(x) for x in v)
            if v:
                ws.write_string(r, j, v, quote if looks_like_formula(v) else None)
            return
        if isinstance(v, str):  # a str subclass
            if v:
                ws.write_string(r, j, str(v), quote if looks_like_formula(v) else None)
            return
        if hasattr(v, "item") and not isinstance(v, (dt.date, dt.datetime)):  # numpy scalar
            v = v.item()
            if v.__class__ in (int, float, bool, str) or v is None:
                if v is None or (v.__class__ is float and not math.isfinite(v)):
                    return
                if v.__class__ is bool:
                    ws.write_boolean(r, j, v, num_fmt)
                elif v.__class__ is str:
                    if v:
                        ws.write_string(r, j, v, quote if looks_like_formula(v) else None)
                else:
                    ws.write_number(r, j, v, num_fmt)
                return
        if _missing(v):
            return
        if isinstance(v, bool):
            ws.write_boolean(r, j, bool(v), num_fmt)
        elif isinstance(v, (int, float, Decimal)):
            f = float(v)
            if math.isfinite(f):
                ws.write_number(r, j, v if isinstance(v, int) else f, num_fmt)
        elif isinstance(v, dt.datetime):
            ws.write_datetime(r, j, v.replace(tzinfo=None) if v.tzinfo else v, datetime_fmt)
        elif isinstance(v, dt.date):
            ws.write_datetime(r, j, v, date_fmt)
        else:
            s = str(v)
            if s:
                ws.write_string(r, j, s, quote if looks_like_formula(s) else None)

    def close(self) -> Path:
        self.book.close()
        self._tmp.replace(self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.book.close()
        except Exception:  # noqa: BLE001 - the half-written file is removed either way
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> StreamingWorkbook:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _missing(v: Any) -> bool:
    """``pd.NA``, ``pd.NaT``, NaN-like objects (without importing pandas)."""
    if v.__class__.__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return False
