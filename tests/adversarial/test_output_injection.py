"""Issue 8, point 12: no live formulas in any CSV or XLSX the project writes (OWASP CSV injection).

Hostile names reach every writer: unit ids of an analyst's table (`cei compute-index` CSVs + XLSX),
entry-unit ids of delivered complaints (dq_report.xlsx), a region name and a record id (index
report XLSX, drill-down records CSV). Each must come out as text: CSV fields prefixed with ``'``,
XLSX cells of type string with no ``<f>`` element in the sheet XML. Numbers stay numbers.
"""
from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd

from index_model.safe_cells import FORMULA_STARTS, csv_frame, csv_value, looks_like_formula
from tests.conftest import complaint_rows, write_csv

HYPERLINK = '=HYPERLINK("http://x","y")'
DDE = "=cmd|' /C calc'!A0"
OTHERS = ["+41 cmd", "-3.2", "@SUM(A1)", "\tTAB", "\rCR"]
HOSTILE = [HYPERLINK, DDE, *OTHERS]


# ------------------------------------------------------------------------------------------ checks
def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def assert_csv_has_no_formula(path: Path) -> list[list[str]]:
    """Every field a spreadsheet would run is a number (a negative value written as a number)."""
    rows = _csv_rows(path)
    for i, row in enumerate(rows, start=1):
        for field in row:
            if field[:1] in FORMULA_STARTS:
                assert _is_number(field), f"{path.name} row {i}: live formula-like field {field!r}"
    return rows


def assert_xlsx_has_no_formula(path: Path) -> openpyxl.Workbook:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                assert not re.search(r"<(\w+:)?f[ >/]", xml), f"{path.name} {name} holds a formula element"
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{path.name} {ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if looks_like_formula(c.value):
                    assert c.data_type == "s" and c.quotePrefix, f"{ws.title}!{c.coordinate} {c.value!r}"
    return book


def _cells_with(book: openpyxl.Workbook, value: str) -> list:
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == value]


# ------------------------------------------------------------------------------------------ helper
def test_helper_prefixes_text_only():
    assert [csv_value(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [csv_value(v) for v in ("南京市", "a=b", "", None, -3.2, 7)] == ["南京市", "a=b", "", None, -3.2, 7]
    df = pd.DataFrame({"unit": [DDE, "ok"], HYPERLINK: [-3.2, 1.5], "n": pd.array([-1, 2], dtype="Int64")})
    out = csv_frame(df)
    assert list(out.columns) == ["unit", "'" + HYPERLINK, "n"]
    assert out["unit"].tolist() == ["'" + DDE, "ok"]
    assert out.iloc[:, 1].tolist() == [-3.2, 1.5] and str(out["n"].dtype) == "Int64"
    assert df["unit"].tolist() == [DDE, "ok"]  # the caller's frame is left alone


# ------------------------------------------------------------------------------------------ compute-index
def test_compute_index_outputs_keep_hostile_unit_names_as_text(tmp_path):
    from index_model import compute_index_files, default_spec, default_spec_path

    spec = default_spec()
    rng = np.random.default_rng(4)
    # (unit ids are stripped by the model: the tab / CR variants are covered by the helper test)
    hostile = [HYPERLINK, DDE, "+41 cmd", "-3.2", "@SUM(A1)"]
    units = hostile + ["320100", "320200", "320300"]
    n = len(units)
    data = pd.DataFrame({"region_code": units})
    for ind in spec.indicators:
        data[ind.id] = rng.uniform(0.3, 1.0, n) if ind.unit == "share" else rng.uniform(1, 30, n)
    num_ind = next(i.id for i in spec.indicators if i.unit != "share")
    data.loc[n - 1, num_ind] = -3.2  # a negative number stays a number
    src = tmp_path / "cities.csv"  # (pandas' own to_excel would turn the names into formulas)
    data.to_csv(src, index=False)
    out = tmp_path / "out"
    summary = compute_index_files(src, default_spec_path(), out, uncertainty_runs=0)
    assert summary["units"] == n

    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) >= 10
    for p in csvs:
        assert_csv_has_no_formula(p)
    scores = _csv_rows(out / "scores.csv")
    assert scores[0][0] == "region_code"
    assert [r[0] for r in scores[1:]] == ["'" + u for u in hostile] + ["320100", "320200", "320300"]
    long = pd.read_csv(out / "index_long.csv", encoding="utf-8-sig", dtype={"unit": str}, keep_default_na=False)
    assert {"'" + HYPERLINK, "'" + DDE} <= set(long["unit"])
    prepared = _csv_rows(out / "prepared_values.csv")
    col = prepared[0].index(num_ind)
    assert prepared[-1][col] == "-3.2"  # the number, unprefixed

    book = assert_xlsx_has_no_formula(out / "index_results.xlsx")
    ws = book["scores"]
    assert [ws.cell(row=r, column=1).value for r in range(2, n + 2)] == units
    for v in (HYPERLINK, DDE):
        cells = _cells_with(book, v)
        assert len(cells) >= 5 and all(c.data_type == "s" for c in cells)
    root_col = [c.value for c in ws[1]].index(spec.root) + 1
    assert all(ws.cell(row=r, column=root_col).data_type == "n" for r in range(2, n + 2))
    pv = book["prepared_values"]
    neg = pv.cell(row=n + 1, column=[c.value for c in pv[1]].index(num_ind) + 1)
    assert neg.value == -3.2 and neg.data_type == "n"


# ------------------------------------------------------------------------------------------ dq report
def test_dq_report_xlsx_keeps_hostile_entry_units_as_text(tmp_path, warehouse):
    from data_quality.gate import run_gate
    from ingestion.loader import ingest_paths
    from reports.dq_report import build_dq_report

    rows = complaint_rows(30, seed=11)
    for i in range(0, 5):
        rows[i]["entry_unit_id"] = HYPERLINK
    for i in range(5, 10):
        rows[i]["entry_unit_id"] = DDE
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    with duckdb.connect(str(warehouse)) as con:
        assert ingest_paths(con, [f], warehouse=warehouse)[0].status == "loaded"
        run_gate(con, "complaints", ["2025-03"])
        dde = DDE.replace(" ", "")  # staging drops the spaces of a unit code
        assert con.execute("SELECT entry_unit_id, count(*) FROM staging.complaints WHERE entry_unit_id[1] = '=' "
                           "GROUP BY 1 ORDER BY 1").fetchall() == [(HYPERLINK, 5), (dde, 5)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build_dq_report(con, tmp_path / "dq", None, None, "en")
    book = assert_xlsx_has_no_formula(tmp_path / "dq" / "dq_report.xlsx")
    ws = book["complaints"]
    units = [ws.cell(row=r, column=2) for r in range(2, ws.max_row + 1)]
    hostile = [c for c in units if c.value in (HYPERLINK, dde)]
    assert {c.value for c in hostile} == {HYPERLINK, dde}
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile)
    entered = {ws.cell(row=c.row, column=2).value: ws.cell(row=c.row, column=5) for c in hostile}
    assert entered[HYPERLINK].value == 5 and entered[HYPERLINK].data_type == "n"


# ------------------------------------------------------------------------------------------ index report
def _plant_record_id(landing: Path, record_id: str) -> str:
    """Give one 2025 complaint of 南京市 (3201..) a hostile record id in its delivered file; returns the old id."""
    for f in sorted(landing.rglob("complaints*2025*.csv")):
        with open(f, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        head = rows[0]
        rid, reg, kind = head.index("record_id"), head.index("handling_region_code"), head.index("record_type")
        for row in rows[1:]:
            if row[reg].startswith("3201") and row[kind] == "投诉":
                old, row[rid] = row[rid], record_id
                with open(f, "w", encoding="utf-8", newline="") as fh:
                    csv.writer(fh, lineterminator="\n").writerows(rows)
                return old
    raise AssertionError("no complaint of 3201 in the generated files")


def test_index_report_xlsx_and_records_csv_keep_hostile_names_as_text(tmp_path, monkeypatch):
    import reports.index_report as ir
    from pipelines.runner import run_pipeline
    from synthetic import GeneratorConfig, generate

    landing, wh = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    hostile_id = DDE.replace(" ", "")  # ids lose their spaces at staging
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generate(GeneratorConfig(scope="32", years=(2025,), records_per_year=2000, seed=5, out_dir=landing))
    _plant_record_id(landing, hostile_id)
    real = ir.region_names

    def hostile(scope, codes, lang="zh"):
        names = real(scope, codes, lang)
        names["320100"], names["320200"] = HYPERLINK, "-3.2"
        return names

    monkeypatch.setenv("CEI_PII_KEY", "test-key-0123456789abcdef0123456789abcdef")
    monkeypatch.setattr(ir, "region_names", hostile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = run_pipeline(landing, wh, say=lambda m: None, reports_dir=tmp_path / "reports")
    assert outcome.get("held_back") == []
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM clean.complaints WHERE record_id = $x",
                           {"x": hostile_id}).fetchall()[0][0] == 1
    out = tmp_path / "reports" / "32_2025"
    book = assert_xlsx_has_no_formula(out / "index_report.xlsx")
    names = _cells_with(book, HYPERLINK)
    assert len(names) >= 5 and all(c.data_type == "s" and c.quotePrefix for c in names)
    assert _cells_with(book, "-3.2") and all(c.data_type == "s" for c in _cells_with(book, "-3.2"))
    ws = book.worksheets[0]
    assert all(ws.cell(row=r, column=4).data_type == "n" for r in range(2, ws.max_row + 1))  # scores
    xlsx_files = sorted(out.rglob("*.xlsx"))
    assert {p.name for p in xlsx_files} >= {"index_report.xlsx", "dq_report.xlsx"}
    for p in xlsx_files:
        assert_xlsx_has_no_formula(p)
    csv_files = sorted(out.rglob("*.csv"))
    assert len(csv_files) >= 13  # one records CSV per region
    for p in csv_files:
        assert_csv_has_no_formula(p)
    records = _csv_rows(out / "drilldown" / "records_320100.csv")
    assert "'" + hostile_id in {r[1] for r in records[1:]}
