"""Reading XLSX workbooks as bureaus make them (Excel / WPS exports, hand-kept registers).

Every sheet is considered. A sheet whose header row maps onto the table's columns loads; the
header may sit below a title (the first of the top rows that maps is taken). Sheets that do not
map, empty sheets, cover sheets and chart sheets are named in the result with the reason.

Cells are read as the bureau sees them:

- merged cells: the value of a merged range applies to every cell of the range;
- formulas: the cached value (what Excel last showed); a formula without one is a reject;
- Excel error values (``#N/A``, ``#REF!``) are rejects;
- Excel serial dates (``45717``, as a number or as text) in a date column become dates;
- a long identifier stored as a number (record id, ID number, USCC, phone) has lost digits in
  Excel: the record is rejected with how to fix it, never loaded with a rounded id.

Record numbers (``source_row``): record n of the k-th loaded sheet (1 = first record after the
header) is ``(k - 1) * 10_000_000 + n``, so a one-sheet workbook numbers like a CSV; read
rejects also name the sheet and the Excel row. ``raw.load_log.header_map`` lists each sheet under
``#sheets`` with its first record number.
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa

from ingestion.readers import HeaderMap, IngestError, _finish_batch, map_headers
from ingestion.schema import TableSchema
from ingestion.sqlfiles import run, statement

SHEET_BLOCK = 10_000_000  # > 1,048,576, Excel's row limit: record numbers of two sheets never meet
HEADER_SEARCH_ROWS = 10  # title / notes rows a header may sit below
MAX_REASON = 300  # a sheet's reason in messages stays short (headers can be huge)
XLS_HOW_TO = ("old binary Excel workbook (.xls) is not read: open it in Excel or WPS and save it as "
              "Excel Workbook (.xlsx), or as CSV UTF-8, then deliver that file")
# Excel keeps numbers as IEEE doubles: 15 significant digits are exact, more are not.
EXACT_DIGITS = 15
# Serial dates accepted in a date column: 1950-01-01 .. 2099-12-31. Smaller numbers are more
# likely a year or a typo than a date; they stay text and staging rejects them.
SERIAL_RANGE = (18264, 73050)
_SERIAL_TEXT = re.compile(r"^\s*(\d{5})(\.\d+)?\s*$")
_ID_COLUMN = re.compile(r"(^|_)(id|uscc|code|number|phone)$")
_XLSX = "_xlsx"  # the workbook's rows (xlsx_table.sql), under _batch
_XLSX_ARROW = "_xlsx_arrow"  # the same rows as Arrow, registered for xlsx_table.sql


class _NoCachedValue(str):
    """A formula cell whose workbook holds no computed value (never opened / recalculated in Excel)."""


class _ExcelError(str):
    """An Excel error value such as #N/A or #REF!."""


@dataclass
class WorkbookMap(HeaderMap):
    """The header map of a workbook: the union of its loaded sheets, plus what each sheet did."""

    sheets: list[dict] = field(default_factory=list)  # sheet, header_row, records, first_source_row
    sheets_skipped: list[str] = field(default_factory=list)  # "'name': reason"

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["#sheets"] = self.sheets
        if self.sheets_skipped:
            d["#sheets_skipped"] = self.sheets_skipped
        return d

    @property
    def notes(self) -> list[str]:
        """Lines for the file's message: sheets skipped, and the record counts when several loaded."""
        out = []
        if len(self.sheets) > 1:
            out.append("sheets loaded: " + ", ".join(f"{s['sheet']!r} {s['records']} records" for s in self.sheets))
        if self.sheets_skipped:
            out.append("sheets skipped: " + "; ".join(self.sheets_skipped))
        return out


def _short(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + " …"


def check_is_xlsx(path: Path) -> None:
    """Refuse, with one line saying what the file is, anything that is not an XLSX (zip) package."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as e:
        raise IngestError(path, f"cannot open: {e.strerror or e}") from None
    if not head:
        raise IngestError(path, "empty file (0 bytes), not an XLSX workbook; ask for the file to be sent again")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: .xls, or an encrypted .xlsx
        raise IngestError(path, "not an XLSX workbook but an old binary Excel (.xls) or a password-protected one: "
                                "remove the password, then " + XLS_HOW_TO.split(": ", 1)[1])
    if not head.startswith(b"PK"):
        looks_text = all(b >= 0x20 or b in b"\t\r\n" for b in head[:200])
        kind = "it looks like CSV or text; rename it to .csv" if looks_text else "unknown content"
        raise IngestError(path, f"not an XLSX workbook (no ZIP signature): {kind}")


def _open_workbook(path: Path):
    import openpyxl

    check_is_xlsx(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 — any failure to open refuses this file only, in one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if isinstance(e, zipfile.BadZipFile):
            first = f"damaged or truncated ZIP package ({first})"
        raise IngestError(path, f"not a readable XLSX workbook: {_short(first)}") from None


def _sheet_rows(wb, ws) -> tuple[dict[int, list], list[tuple[int, int, int, int]]]:
    """All rows of a read-only sheet ({row number: values}) and its merged ranges, in one pass.

    openpyxl's read-only mode does not expose merged ranges, and its data-only mode cannot tell a
    formula without a cached value from an empty cell; its own streaming parser (pinned openpyxl
    3.1.5) sees both, so it is used directly rather than loading the whole sheet into cell objects
    (a 50,000-row sheet would cost several hundred MB that way).
    """
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None:
                formula = element.find(FORMULA_TAG)
                if formula is not None:
                    cell["value"] = _NoCachedValue("=" + (formula.text or f"(shared formula {formula.get('si', '')})"))
            elif cell["data_type"] == "e":
                cell["value"] = _ExcelError(cell["value"])
            return cell

    rows: dict[int, list] = {}
    with wb._archive.open(ws._worksheet_path) as src:
        parser = Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                        date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for idx, cells in parser.parse():
            values = [None] * (max((c["column"] for c in cells), default=0))
            for c in cells:
                values[c["column"] - 1] = c["value"]
            while values and (values[-1] is None or (isinstance(values[-1], str) and not values[-1].strip())):
                values.pop()
            if values:
                rows[idx] = values
        merged = [range_boundaries(m.ref) for m in (parser.merged_cells.mergeCell if parser.merged_cells else [])]
    return rows, merged


def _fill_merged(rows: dict[int, list], merged: list[tuple[int, int, int, int]]) -> None:
    """Give every cell of a merged range the value of its top-left cell (Excel keeps only that one).

    Ranges are clipped to the columns that hold data: a title merged across A1:XFD1 must not
    widen every row to 16,384 cells."""
    width = max((len(v) for v in rows.values()), default=0)
    for min_col, min_row, max_col, max_row in merged:
        max_col = min(max_col, width)
        top = rows.get(min_row, [])
        value = top[min_col - 1] if len(top) >= min_col else None
        if value is None:
            continue
        for r in range(min_row, max_row + 1):
            if r not in rows:
                continue  # a row with nothing of its own is layout, not a record
            row = rows[r]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                row[c] = value


def _text(v) -> str | None:
    """A cell as the text a bureau sees: dates ISO, whole floats without '.0'."""
    if v is None:
        return None
    if isinstance(v, (datetime, date, time)):
        s = v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
        return s[:-9] if s.endswith(" 00:00:00") else s
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    return s if s.strip() else None


def _serial_to_text(serial: float, epoch: datetime) -> str | None:
    from openpyxl.utils.datetime import from_excel

    if not SERIAL_RANGE[0] <= serial <= SERIAL_RANGE[1]:
        return None
    return _text(from_excel(serial, epoch))


def _label(v) -> str:
    return "" if v is None else str(v).strip()


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


@dataclass
class _Sheet:
    name: str
    header_row: int
    positions: list[int]  # 0-based column of each mapped header
    hmap: HeaderMap
    rows: dict[int, list]


def _find_header(path: Path, name: str, rows: dict[int, list], table_hint: str | None) -> _Sheet | str:
    """The first of the top rows whose labels map onto a table, or the reason none does."""
    best = (0, "no header row")  # the reason shown is that of the most header-like row
    for n, r in enumerate(sorted(rows)):
        if n >= HEADER_SEARCH_ROWS:
            break
        labels = [_label(v) for v in rows[r]]
        positions = [i for i, lab in enumerate(labels) if lab]
        try:
            hmap = map_headers(path, [labels[i] for i in positions], table_hint)
        except IngestError as e:
            distinct = len({labels[i] for i in positions})
            if distinct > best[0]:
                best = (distinct, str(e).removeprefix(f"{path}: "))
            continue
        return _Sheet(name, r, positions, hmap, rows)
    return _short(best[1])


def read_xlsx_into_batch(con, path: Path, table_hint: str | None) -> WorkbookMap:
    """Every sheet that maps into ``_batch`` (one table per workbook), unreadable records into
    ``_read_rejects``; the returned map names the sheets loaded and skipped."""
    path = Path(path)
    wb = _open_workbook(path)
    loaded: list[_Sheet] = []
    skipped: list[str] = []
    try:
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet

        for ws in wb.worksheets + list(getattr(wb, "chartsheets", [])):
            if not isinstance(ws, ReadOnlyWorksheet):
                skipped.append(f"{ws.title!r}: a chart sheet, no records")
                continue
            try:
                rows, merged = _sheet_rows(wb, ws)
            except Exception as e:  # noqa: BLE001 — a damaged sheet part is named, the file refused below
                raise IngestError(path, f"sheet {ws.title!r} is unreadable: {_short(str(e).splitlines()[0] if str(e) else type(e).__name__)}") from None
            if not rows:
                skipped.append(f"{ws.title!r}: empty")
                continue
            _fill_merged(rows, merged)
            found = _find_header(path, ws.title, rows, table_hint)
            if isinstance(found, str):
                skipped.append(f"{ws.title!r}: {found}")
                continue
            table = loaded[0].hmap.table if loaded else found.hmap.table
            if found.hmap.table is not table:
                skipped.append(f"{ws.title!r}: holds {found.hmap.table.name}, this workbook loads {table.name}; "
                               "deliver it as a file of its own")
                continue
            loaded.append(found)
        if not loaded:
            raise IngestError(path, "no sheet could be loaded: " + "; ".join(f"sheet {s}" for s in skipped))
        return _load_sheets(con, path, loaded, skipped, wb.epoch)
    finally:
        wb.close()


def _load_sheets(con, path: Path, sheets: list[_Sheet], skipped: list[str], epoch: datetime) -> WorkbookMap:
    table: TableSchema = sheets[0].hmap.table
    types = {c.name: c.type for c in table.columns}
    id_columns = {c.name for c in table.columns if c.type == "text" and _ID_COLUMN.search(c.name)}
    personal = set(table.pii_columns)
    canonical = [c for c in table.column_names if any(c in s.hmap.canonical for s in sheets)]
    data: dict[str, list] = {c: [] for c in canonical}
    data["_row"] = []
    rejects: list[tuple[int, str, str, str]] = []
    delivered, mapped, sheet_info = [], [], []
    for k, sheet in enumerate(sheets):
        offset = k * SHEET_BLOCK
        cols = [(pos, c, d) for pos, c, d in zip(sheet.positions, sheet.hmap.canonical, sheet.hmap.delivered)
                if c in types]  # profile-ignored columns are read past
        for _, c, d in cols:
            if d not in delivered:
                delivered.append(d)
                mapped.append(c)
        known = set(sheet.positions)
        records = 0
        for r in sorted(x for x in sheet.rows if x > sheet.header_row):
            values = sheet.rows[r]
            records += 1
            source_row = offset + r - sheet.header_row
            out: dict[str, str | None] = {}
            bad: list[tuple[str, str]] = []
            for pos, c, d in cols:
                v = values[pos] if pos < len(values) else None
                text, problem = _convert(v, c, types[c], c in id_columns, c in personal, epoch)
                out[c] = text
                if problem:
                    bad.append((c, problem))
            for pos, v in enumerate(values):
                if pos not in known and _text(v) is not None:
                    bad.append((_column_letter(pos), f"a value in column {_column_letter(pos)}, which has no header"))
            if bad:
                reason = f"sheet {sheet.name!r}, Excel row {r}: " + "; ".join(p for _, p in bad)
                raw = json.dumps({d: _text(values[pos]) if pos < len(values) else None
                                  for pos, _, d in zip(sheet.positions, sheet.hmap.canonical, sheet.hmap.delivered)},
                                 ensure_ascii=False)
                rejects.append((source_row, ", ".join(f for f, _ in bad), reason, raw))
                continue
            for c in canonical:
                data[c].append(out.get(c))
            data["_row"].append(source_row)
        sheet_info.append({"sheet": sheet.name, "header_row": sheet.header_row, "records": records,
                           "first_source_row": offset + 1})
        sheet.rows = {}  # free the sheet before building the next one
    arrow = pa.table({c: pa.array(v, type=pa.int64() if c == "_row" else pa.string()) for c, v in data.items()})
    con.register(_XLSX_ARROW, arrow)
    run(con, "ingest/read/xlsx_table.sql")
    con.unregister(_XLSX_ARROW)
    missing = [c for c in table.column_names if c not in canonical]
    wmap = WorkbookMap(table, delivered, mapped, [c for c in missing if c in sheets[0].hmap.missing_optional],
                       sheets=sheet_info, sheets_skipped=skipped)
    _finish_batch(con, wmap, _XLSX)
    run(con, "ingest/read/read_rejects_table.sql")
    if rejects:
        con.executemany(statement("ingest/read/insert_read_rejects.sql")[0], rejects)
    return wmap


def _convert(v, column: str, col_type: str, is_id: bool, is_personal: bool,
             epoch: datetime) -> tuple[str | None, str | None]:
    """(text, None), or (None, why the record cannot be loaded). Reasons never show a personal value."""
    if isinstance(v, _NoCachedValue):
        shown = "a formula" if is_personal else f"formula {_short(str(v))}"
        return None, (f"{column}: {shown} has no cached value; open the workbook in Excel or WPS, "
                      "let it calculate, save and deliver it again")
    if isinstance(v, _ExcelError):
        return None, f"{column}: the cell holds the Excel error {v}"
    numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
    if col_type in ("timestamp", "date"):
        if numeric or (isinstance(v, str) and _SERIAL_TEXT.match(v)):
            serial = float(v)
            if (text := _serial_to_text(serial, epoch)) is not None:
                return text, None
    elif is_id and numeric:
        # the value is not shown: the column may be personal data (ID number, phone)
        too_long = (abs(v) >= 10 ** EXACT_DIGITS) if isinstance(v, float) else len(str(abs(v))) > EXACT_DIGITS
        if too_long:
            return None, (f"{column} stored as a number, digits lost (Excel keeps {EXACT_DIGITS}); "
                          "format the column as text and export again")
    return _text(v), None
