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
