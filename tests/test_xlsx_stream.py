"""reports/xlsx_stream.py (issue 12): the streaming sheet writer behind dq_report.xlsx keeps the
project's workbook layout — bold frozen header, widths, autofilter, number format per column, text
always text (formula-like text quote-prefixed), the provisional banner row — and continues a table
past the sheet's row limit on ``name (2)`` instead of cutting it."""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from reports.xlsx_stream import StreamingWorkbook, part_name

HEADER = ["单位", "月份", "受理量", "差错率", "备注"]
FORMATS = [None, None, "#,##0", "0.00%", None]


def _write(path, rows, **kw):
    with StreamingWorkbook(path, **kw) as wb:
        names = wb.add_table("complaints", HEADER, rows, FORMATS)
    return names


def test_layout_values_and_formula_text(tmp_path):
    rows = [
        ["=HYPERLINK(\"http://x\",\"y\")", "2025-03", 1234, 0.0123, "-3.2"],
        ["@SUM(A1)", "2025-03", np.int64(7), np.float64(0.5), ["a", "b"]],
        ["南京市", "2025-04", None, float("nan"), pd.NA],
        ["+1", "", Decimal("12"), math.inf, True],
    ]
    path = tmp_path / "a.xlsx"
    assert _write(path, rows) == ["complaints"]
    assert not (tmp_path / "a.xlsx.tmp").exists()
    ws = load_workbook(path)["complaints"]
    assert [c.value for c in ws[1]] == HEADER
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DCE6F1") for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:E5"
    assert ws.column_dimensions["A"].width >= 10 and ws.column_dimensions["B"].width >= 10
    got = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert got == [
        ["=HYPERLINK(\"http://x\",\"y\")", "2025-03", 1234, 0.0123, "-3.2"],
        ["@SUM(A1)", "2025-03", 7, 0.5, "a, b"],
        ["南京市", "2025-04", None, None, None],
        ["+1", None, 12, None, True],
    ]
    for row in ws.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"
            if isinstance(c.value, str) and c.value[:1] in "=+-@":
                assert c.data_type == "s" and c.quotePrefix, c.coordinate
    assert ws["C2"].number_format == "#,##0" and ws["D2"].number_format == "0.00%"
    assert ws["C3"].number_format == "#,##0" and ws["D3"].number_format == "0.00%"  # numpy scalars too
    assert ws["B2"].number_format == "General" and not ws["B2"].quotePrefix


def test_banner_and_split_past_the_row_limit(tmp_path):
    """A sheet holds max_rows rows (banner and header included); the rest continue on 'name (2)', …"""
    rows = [[f"U{i:03d}", "2025-01", i, i / 100, None] for i in range(10)]
    path = tmp_path / "b.xlsx"
    names = _write(path, iter(rows), banner="临时版本：2025-06 未通过", max_rows=6)  # 4 data rows a sheet
    assert names == ["complaints", "complaints (2)", "complaints (3)"]
    wb = load_workbook(path)
    assert wb.sheetnames == names
    back = []
    for ws, n in zip(wb.worksheets, (4, 4, 2)):
        assert ws.max_row == n + 2 and ws.max_row <= 6
        assert ws["A1"].value == "临时版本：2025-06 未通过" and ws["A1"].font.b
        assert [c.value for c in ws[2]] == HEADER and ws["A2"].font.b
        assert ws.freeze_panes == "A3" and ws.auto_filter.ref == f"A2:E{n + 2}"
        back += [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert back == rows  # nothing cut, nothing repeated


def test_empty_table_header_only_and_long_names(tmp_path):
    path = tmp_path / "c.xlsx"
    with StreamingWorkbook(path) as wb:
        wb.add_table("files", HEADER, [], FORMATS)
    ws = load_workbook(path)["files"]
    assert ws.max_row == 1 and ws.auto_filter.ref is None and ws.freeze_panes == "A2"
    assert part_name("x" * 40, 1) == "x" * 31 and part_name("x" * 40, 12) == "x" * 26 + " (12)"


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "d.xlsx"

    def rows():
        yield ["a", "2025-01", 1, 0.1, None]
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError):
        _write(path, rows())
    assert not path.exists() and not (tmp_path / "d.xlsx.tmp").exists()


def _parts(path) -> dict[str, bytes]:
    """Every part of an .xlsx but the document properties (they carry the time of writing)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def test_fast_rows_are_the_bytes_xlsxwriter_writes(tmp_path, monkeypatch):
    """The row XML the workbook writes itself for text, numbers, dates and blanks (issue 12: the dq report's scorecards)
    is byte for byte what xlsxwriter's write_* calls write, for every kind of text it escapes or marks and with rows
    of other values (booleans, lists, Decimal, zoned datetimes: left to write_*) between them, across a sheet split."""
    import datetime as dt

    texts = ["<r>x</r> 南京", "南京市", "a & b <c> \"d\"", " lead", "trail ", "tab\tin", "line\nend\n", "ctl\x01x\x1f", "_x0041_ lit",
             "<r>rich</r>", "<b>", "non\ufffechar", "=SUM(A1)", "+86", "-3.2", "@x", "x" * 40_000, "\u3000全角",
             "emoji 😀", "\r", "a\u2028b"]
    numbers = [0, 1, -7, 2 ** 53 + 1, 10 ** 20, 0.1, 1e-300, 1.5e16, -0.0, float("nan"), math.inf, 123456789.123456789]
    rows = []
    for i in range(60):
        # the first row's numbers have formats: the header's styles must still be numbered first
        rows.append([texts[i % len(texts)], texts[(i * 7) % len(texts)], numbers[i % len(numbers)],
                     numbers[(i * 5) % len(numbers)], None if i % 3 else ""])
        rows.append([np.float64(i / 7), np.int64(i), pd.NA, np.int32(-i), pd.NaT if i % 2 else np.float32(0.5)])
        rows.append([dt.date(2025, 1, i % 28 + 1), dt.datetime(2025, 1, 1, i % 24, 5, 7), dt.date(1999, 12, 31),
                     dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc) if i % 10 == 3 else None, "x"])
        if i % 9 == 4:
            rows.append([dt.date(2025, 3, i % 28 + 1), True, np.int64(i), ["a", "b"], Decimal("1.5")])
        if i % 13 == 6:
            rows.append([None, "", float("nan"), None, None])  # nothing to write: no <row> either
    taken = []  # per row: written as XML (True) or left to write_* (False); both must happen, or nothing is compared
    write_row_xml = StreamingWorkbook._write_row_xml
    monkeypatch.setattr(StreamingWorkbook, "_write_row_xml",
                        lambda self, *a: taken.append(write_row_xml(self, *a)) or taken[-1])
    for banner in ("", "暂定数据 provisional"):
        paths = []
        for fast in (True, False):
            path = tmp_path / f"{fast}{bool(banner)}.xlsx"
            with StreamingWorkbook(path, banner=banner, max_rows=25, fast_rows=fast) as wb:
                names = wb.add_table("complaints", HEADER, rows, FORMATS)
                wb.add_table("other", ["a", "b"], [["x", 1], [None, 2.5]])
            paths.append(path)
        assert len(names) > 2  # the split is covered
        assert taken.count(True) > 100 and taken.count(False) >= 10, (taken.count(True), taken.count(False))
        taken.clear()
        fast, slow = (_parts(p) for p in paths)
        assert fast.keys() == slow.keys()
        for name in slow:
            assert fast[name] == slow[name], name
