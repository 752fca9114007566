"""XLSX as bureaus make them (issue 8, point 2; point 3 for broken workbooks).

Every workbook is built here with openpyxl. Records in each file are counted independently of
``ingestion.xlsx_reader`` (pandas' own Excel reading, or the rows written), and every test checks
records in = loaded + rejected.
"""
from __future__ import annotations

import html
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import openpyxl.chart
import pandas as pd

from ingestion.loader import ingest_paths
from ingestion.schema import COMPLAINTS
from ingestion.xlsx_reader import SHEET_BLOCK
from tests.conftest import complaint_rows, write_csv

COLS = [c.name for c in COMPLAINTS.columns]
ZH = {c.name: c.zh for c in COMPLAINTS.columns}


def put_rows(ws, rows: list[dict], columns: list[str] = COLS, labels: list[str] | None = None) -> None:
    ws.append(labels or columns)
    for r in rows:
        ws.append([r[c] if r[c] != "" else None for c in columns])


def records_in(path: Path, header_rows: dict[str, int]) -> int:
    """Records of the named sheets, counted by pandas: non-blank rows below the header row."""
    return sum(len(pd.read_excel(path, sheet_name=name, header=h - 1, dtype=str).dropna(how="all"))
               for name, h in header_rows.items())


def set_cached_values(path: Path, sheet_xml: str, values: dict[str, str]) -> None:
    """openpyxl writes formulas without a cached value; give some of them one, as Excel would.
    ``values``: formula text (as in the XML, i.e. ``&amp;`` for ``&``) -> cached value. The formula is
    matched after unescaping, whatever character references the writer used (lxml or not)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts[sheet_xml].decode()
    wanted = {html.unescape(f): v for f, v in values.items()}
    found = dict.fromkeys(wanted, 0)

    def cache(m: re.Match) -> str:
        formula = html.unescape(m.group(1))
        if formula not in wanted:
            return m.group(0)
        found[formula] += 1
        value = wanted[formula]
        is_text = not value.replace(".", "").isdigit()  # Excel marks a formula's text result t="str"
        kind = ' t="str"' if is_text else ""
        return f"{kind}><f>{m.group(1)}</f><v>{html.escape(value)}</v>"

    # an empty value element as openpyxl writes it: <v /> (its own writer) or <v></v> (with lxml)
    xml = re.sub(r"><f>([^<]*)</f>(?:<v\s*/>|<v></v>)", cache, xml)
    assert all(n == 1 for n in found.values()), found
    parts[sheet_xml] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def test_every_sheet_is_considered_and_skipped_ones_are_named(tmp_path, con, warehouse):
    march, april = complaint_rows(30, "2025-03", seed=1), complaint_rows(20, "2025-04", seed=2)
    wb = openpyxl.Workbook()
    wb.active.title = "封面"  # a cover sheet with nothing in it
    put_rows(wb.create_sheet("3月"), march)
    # April as another export: Chinese headers, columns in another order
    cols = list(reversed(COLS))
    put_rows(wb.create_sheet("4月"), april, cols, [ZH[c] for c in cols])
    notes = wb.create_sheet("填表说明")
    notes.append(["说明", "备注"])
    notes.append(["登记时间按北京时间填写", "必填"])
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(wb["3月"], min_col=COLS.index("amount_disputed") + 1, min_row=1, max_row=31))
    wb.create_chartsheet("图表").add_chart(chart)
    f = tmp_path / "complaints_2025.xlsx"
    wb.save(f)

    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "loaded", r.message
    n_in = records_in(f, {"3月": 1, "4月": 1})
    assert n_in == 50 and (r.rows_read, r.rows_staged, r.rows_rejected) == (50, 50, 0)
    assert r.rows_read == r.rows_staged + r.rows_rejected == n_in
    assert [s.split(":")[0] for s in r.sheets_skipped] == ["'封面'", "'填表说明'", "'图表'"]
    assert r.sheets_skipped[2] == "'图表': a chart sheet, no records"
    assert r.sheets_skipped[0] == "'封面': empty"
    assert "cannot map header(s) '说明', '备注'" in r.sheets_skipped[1]
    assert "'3月' 30 records, '4月' 20 records" in r.message and "'填表说明'" in r.message
    # lineage: sheet k's record n is (k - 1) * 10,000,000 + n; the load log names each sheet
    rows = dict(con.execute("SELECT record_id, source_row FROM staging.complaints").fetchall())
    assert rows[march[0]["record_id"]] == 1 and rows[march[29]["record_id"]] == 30
    assert rows[april[0]["record_id"]] == SHEET_BLOCK + 1 and rows[april[19]["record_id"]] == SHEET_BLOCK + 20
    hmap, msg = con.execute("SELECT header_map, message FROM raw.load_log WHERE load_id = $i", {"i": r.load_id}).fetchall()[0]
    sheets = json.loads(hmap)["#sheets"]
    assert [(s["sheet"], s["records"], s["first_source_row"]) for s in sheets] == [("3月", 30, 1), ("4月", 20, SHEET_BLOCK + 1)]
    assert "'填表说明'" in msg
    # the same values whatever the sheet's header language and column order
    staged_april = con.execute("SELECT record_id, respondent_name, content FROM staging.complaints "
                               "WHERE partition_key = '2025-04' ORDER BY source_row").fetchall()
    assert [x[0] for x in staged_april] == [a["record_id"] for a in april]
    assert staged_april[3][1] == april[3]["respondent_name"]


def test_a_workbook_with_no_loadable_sheet_fails_naming_each_sheet(tmp_path, con, warehouse):
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.create_sheet("数据").append(["编号", "日期", "说明"])
    f = tmp_path / "complaints_2025-03.xlsx"
    wb.save(f)
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "failed"
    assert "no sheet could be loaded" in r.message and "sheet 'Sheet1': empty" in r.message and "sheet '数据'" in r.message
    assert "\n" not in r.message and str(f) in r.message


def test_merged_cells_give_their_value_to_every_cell(tmp_path, con, warehouse):
    rows = complaint_rows(6, seed=4)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2025年3月 12315 投诉登记表"])  # a title above the header, merged across the table
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLS))
    put_rows(ws, rows)  # header on row 2, records on rows 3..8
    name_col, cat_col = COLS.index("respondent_name") + 1, COLS.index("category") + 1
    ws.cell(3, name_col, "常州合并商贸有限公司")
    for r in (4, 5):
        ws.cell(r, name_col).value = None
    ws.merge_cells(start_row=3, start_column=name_col, end_row=5, end_column=name_col)  # one respondent, 3 records
    ws.cell(6, cat_col, "家用电子电器")
    ws.cell(6, cat_col + 1).value = None
    ws.merge_cells(start_row=6, start_column=cat_col, end_row=6, end_column=cat_col + 1)  # category over problem_type
    f = tmp_path / "complaints_2025-03.xlsx"
    wb.save(f)

    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    n_in = records_in(f, {"Sheet": 2})
    assert (n_in, r.rows_read, r.rows_staged, r.rows_rejected) == (6, 6, 6, 0), r.message
    got = con.execute("SELECT source_row, respondent_name, category, problem_type FROM staging.complaints ORDER BY 1").fetchall()
    assert [g[0] for g in got] == [1, 2, 3, 4, 5, 6]  # the title row is not a record
    assert [g[1] for g in got[:3]] == ["常州合并商贸有限公司"] * 3
    assert got[3][1] == rows[3]["respondent_name"]
    assert got[3][2:] == ("家用电子电器", "家用电子电器")
    assert got[4][2:] == ("服装鞋帽", "质量")


def test_formulas_use_the_cached_value_and_without_one_are_rejected(tmp_path, con, warehouse):
    rows = complaint_rows(5, seed=6)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "登记"
    put_rows(ws, rows)
    amount = COLS.index("amount_disputed") + 1
    ws.cell(2, amount, "=100+23")  # record 1: cached 123
    ws.cell(3, amount, "=SUM(1,2)")  # record 2: no cached value -> reject
    ws.cell(4, COLS.index("respondent_name") + 1, '="常州"&"某某公司"')  # record 3: cached text
    ws.cell(5, amount, "#N/A")  # record 4: an Excel error value -> reject
    ws.cell(6, COLS.index("complainant_phone") + 1, '="139"&"12345678"')  # record 5: personal, uncached -> reject
    f = tmp_path / "complaints_2025-03.xlsx"
    wb.save(f)
    set_cached_values(f, "xl/worksheets/sheet1.xml", {"100+23": "123", '"常州"&amp;"某某公司"': "常州某某公司"})
    ws_xml = zipfile.ZipFile(f).read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r"<f>SUM\(1,2\)</f>(<v\s*/>|<v></v>)", ws_xml)  # the uncached formula really is there

    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    n_in = records_in(f, {"登记": 1})
    assert (n_in, r.rows_read, r.rows_staged, r.rows_rejected) == (5, 5, 2, 3), r.message
    staged = dict(con.execute("SELECT source_row, amount_disputed FROM staging.complaints").fetchall())
    assert float(staged[1]) == 123.0
    assert con.execute("SELECT respondent_name FROM staging.complaints WHERE source_row = 3").fetchall() == [("常州某某公司",)]
    rejects = con.execute("SELECT source_row, fields, reason FROM raw.rejects ORDER BY 1").fetchall()
    assert [(x[0], x[1]) for x in rejects] == [(2, "amount_disputed"), (4, "amount_disputed"), (5, "complainant_phone")]
    assert rejects[0][2].startswith("sheet '登记', Excel row 3: amount_disputed: formula =SUM(1,2) has no cached value")
    assert "#N/A" in rejects[1][2] and "Excel row 5" in rejects[1][2]
    assert "complainant_phone: a formula has no cached value" in rejects[2][2] and "139" not in rejects[2][2]


def test_excel_serial_dates_become_dates(tmp_path, con, warehouse):
    rows = complaint_rows(4, seed=8)
    wb = openpyxl.Workbook()
    ws = wb.active
    put_rows(ws, rows)
    rec = COLS.index("received_at") + 1
    ws.cell(2, rec, 45717)  # a General-formatted number: 2025-03-01
    ws.cell(3, rec, "45720.5")  # the serial as text, with a time: 2025-03-04 12:00
    cell = ws.cell(4, rec, datetime(2025, 3, 9, 8, 30))  # a real date cell
    cell.number_format = "yyyy-mm-dd hh:mm"
    ws.cell(5, COLS.index("accepted_at") + 1, 45726.75)  # another date column: 2025-03-10 18:00
    f = tmp_path / "complaints_2025-03.xlsx"
    wb.save(f)

    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert (records_in(f, {"Sheet": 1}), r.rows_read, r.rows_staged, r.rows_rejected) == (4, 4, 4, 0), r.message
    got = con.execute("SELECT source_row, received_at, accepted_at FROM staging.complaints ORDER BY 1").fetchall()
    assert [str(g[1]) for g in got[:3]] == ["2025-03-01 00:00:00", "2025-03-04 12:00:00", "2025-03-09 08:30:00"]
    assert str(got[3][2]) == "2025-03-10 18:00:00"
    assert r.partitions == ["2025-03"]


def test_ids_stored_as_numbers_are_rejected_never_rounded(tmp_path, con, warehouse):
    rows = complaint_rows(8, seed=9)
    wb = openpyxl.Workbook()
    ws = wb.active
    put_rows(ws, rows)
    ws.cell(3, COLS.index("record_id") + 1, 320402202503010001)  # record 2: 18 digits as a number
    ws.cell(5, COLS.index("complainant_id_number") + 1, 3.20402199001011e+17)  # record 4: what Excel keeps
    ws.cell(6, COLS.index("respondent_uscc") + 1, 9.1320402e+17)  # record 5
    ws.cell(7, COLS.index("complainant_phone") + 1, 13912345678)  # record 6: 11 digits, exact: loads
    f = tmp_path / "complaints_2025-03.xlsx"
    wb.save(f)

    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert (records_in(f, {"Sheet": 1}), r.rows_read, r.rows_staged, r.rows_rejected) == (8, 8, 5, 3), r.message
    rejects = con.execute("SELECT source_row, fields, reason FROM raw.rejects ORDER BY 1").fetchall()
    assert [(x[0], x[1]) for x in rejects] == [(2, "record_id"), (4, "complainant_id_number"), (5, "respondent_uscc")]
    assert all("stored as a number, digits lost" in x[2] and "format the column as text" in x[2] for x in rejects)
    blob = " ".join(x[2] for x in rejects) + " ".join(r.reject_examples)
    assert "3204022025030100" not in blob and "3.204" not in blob and "320402199" not in blob  # values never shown
    assert con.execute("SELECT complainant_phone FROM raw.complaints WHERE source_row = 6").fetchall() == [("13912345678",)]
    ids = {x[0] for x in con.execute("SELECT record_id FROM staging.complaints").fetchall()}
    assert ids == {rows[i]["record_id"] for i in (0, 2, 5, 6, 7)}


def test_xls_is_refused_with_how_to_convert(tmp_path, con, warehouse):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    xls = tmp_path / "complaints_2025-03.xls"
    xls.write_bytes(ole2)
    disguised = tmp_path / "complaints_2025-04.xlsx"  # an .xls renamed .xlsx
    disguised.write_bytes(ole2)
    results = ingest_paths(con, [xls, disguised], warehouse=warehouse)
    assert [x.status for x in results] == ["failed", "failed"]
    for x, f in zip(results, (xls, disguised)):
        assert str(f) in x.message and "Excel Workbook (.xlsx)" in x.message and "CSV UTF-8" in x.message
        assert "\n" not in x.message
    assert con.execute("SELECT count(*) FROM raw.load_log WHERE status = 'failed'").fetchall()[0][0] == 2


def test_broken_workbooks_fail_alone_and_the_batch_loads(tmp_path, con, warehouse):
    good_csv = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(12, "2025-03", seed=1))
    good_rows = complaint_rows(7, "2025-04", seed=2)
    wb = openpyxl.Workbook()
    put_rows(wb.active, good_rows)
    good_xlsx = tmp_path / "complaints_2025-04.xlsx"
    wb.save(good_xlsx)
    empty = tmp_path / "complaints_2025-05.xlsx"
    empty.write_bytes(b"")
    renamed = tmp_path / "complaints_2025-06.xlsx"
    renamed.write_bytes(write_csv(tmp_path / "x.csv", complaint_rows(3, "2025-06")).read_bytes())
    truncated = tmp_path / "complaints_2025-07.xlsx"
    truncated.write_bytes(good_xlsx.read_bytes()[:2000])

    results = {Path(x.file).name: x for x in ingest_paths(con, [empty, good_csv, renamed, truncated, good_xlsx],
                                                         warehouse=warehouse)}
    assert {n: x.status for n, x in results.items()} == {
        "complaints_2025-05.xlsx": "failed", "complaints_2025-03.csv": "loaded", "complaints_2025-06.xlsx": "failed",
        "complaints_2025-07.xlsx": "failed", "complaints_2025-04.xlsx": "loaded"}
    assert "empty file (0 bytes)" in results["complaints_2025-05.xlsx"].message
    assert "looks like CSV" in results["complaints_2025-06.xlsx"].message
    assert "not a readable XLSX workbook" in results["complaints_2025-07.xlsx"].message
    for name in ("complaints_2025-05.xlsx", "complaints_2025-06.xlsx", "complaints_2025-07.xlsx"):
        msg = results[name].message
        assert msg.startswith(str(tmp_path / name)) and "\n" not in msg and "Traceback" not in msg and len(msg) < 300
    assert (results["complaints_2025-03.csv"].rows_staged, results["complaints_2025-04.xlsx"].rows_staged) == (12, 7)
    assert records_in(good_xlsx, {"Sheet": 1}) == 7 == results["complaints_2025-04.xlsx"].rows_read
    failed = {r[0] for r in con.execute("SELECT file_name FROM raw.load_log WHERE status = 'failed'").fetchall()}
    assert failed == {"complaints_2025-05.xlsx", "complaints_2025-06.xlsx", "complaints_2025-07.xlsx"}


def test_a_value_under_no_header_rejects_its_record(tmp_path, con, warehouse):
    rows = complaint_rows(4, seed=11)
    wb = openpyxl.Workbook()
    ws = wb.active
    put_rows(ws, rows)
    ws.cell(3, len(COLS) + 2, "补充说明：电话回访")  # record 2: a note two columns right of the last header
    f = tmp_path / "complaints_2025-03.xlsx"
    wb.save(f)
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert (records_in(f, {"Sheet": 1}), r.rows_read, r.rows_staged, r.rows_rejected) == (4, 4, 3, 1), r.message
    col = openpyxl.utils.get_column_letter(len(COLS) + 2)
    assert con.execute("SELECT source_row, fields, reason FROM raw.rejects").fetchall() == [
        (2, col, f"sheet 'Sheet', Excel row 3: a value in column {col}, which has no header")]
