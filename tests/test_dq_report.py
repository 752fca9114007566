"""Data-quality report (reports/dq_report.py): a real warehouse (delivered CSV with personal data ->
raw -> staging -> gate) renders in zh and en, offline with one plotly.min.js, every data string
escaped (an entry unit called ``<script>alert(1)</script>``), no personal data in HTML or XLSX, and
the workbook has a scorecard sheet per table with a frozen header."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.helpers import TEST_PII_KEY, complaint_rows, env, page_script_bodies, write_csv

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
FORMULA = "=HYPERLINK(\"http://x\")"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two months of delivered 12315 records, gated; the report in zh and en."""
    from data_quality import gate
    from ingestion.loader import ingest_paths
    from reports.dq_report import build_dq_report

    root = tmp_path_factory.mktemp("dq_report")
    wh = root / "warehouse.duckdb"
    files = []
    for month, seed in (("2025-02", 3), ("2025-03", 4)):
        rows = complaint_rows(40, month=month, seed=seed)
        for i, r in enumerate(rows):
            r["respondent_uscc"] = ""  # keep the planted defects the only errors
            if i % 4 == 0:
                r["entry_unit_id"] = XSS  # a hostile unit id, some of its rows broken
                if i % 8 == 0:
                    r["amount_disputed"] = "-5.00"  # CMP-AMT-001
            elif i % 4 == 1:
                r["entry_unit_id"] = FORMULA
            if i == 2:
                r["record_type"] = "投诉建议"  # CMP-COD-001
        files.append(write_csv(root / f"complaints_{month}.csv", rows))
    con = duckdb.connect(str(wh))
    with env(CEI_PII_KEY=TEST_PII_KEY):  # set for the load only: no variable outlives the fixture
        assert all(r.status == "loaded" for r in ingest_paths(con, files, warehouse=wh))
        gate.run_gate(con, "complaints", gate.staged_partitions(con, "complaints"))
    people = [v for (v,) in con.execute(
        "SELECT unnest([complainant_name, complainant_phone, complainant_id_number]) FROM raw.complaints").fetchall()]
    keys = [k for (k,) in con.execute("SELECT complainant_key FROM staging.complaints").fetchall()]
    out = {}
    for lang in ("zh", "en"):
        out[lang] = build_dq_report(con, root / lang, lang=lang)
    out["q"] = build_dq_report(con, root / "scoped", scope="3204", period="2025-03")
    yield root, out, con, people, keys
    con.close()


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


def test_pages_render_in_both_languages(built):
    root, out, _, _, _ = built
    zh, en = _read(out["zh"]), _read(out["en"])
    assert out["zh"] == root / "zh" / "dq_report.html"
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    assert 'data-report="dq_report"' in zh
    for sec in ("sec-dq-overview", "sec-dq-rules-complaints", "sec-dq-scorecard-complaints", "sec-dq-units-complaints",
                "tbl-dq-runs", "tbl-dq-files-complaints", "tbl-dq-rules-complaints", "tbl-dq-dims-complaints",
                "tbl-dq-scorecard-complaints", "tbl-dq-unit-rules-complaints", "fig-dq-heatmap-complaints"):
        assert f'id="{sec}"' in zh and f'id="{sec}"' in en, sec
    assert "录入单位质量评分" in zh and "Entry-unit scorecard" in en and "录入单位质量评分" not in en
    # rule descriptions in the page's language
    assert "争议金额或挽回经济损失为负数" in zh and "amount disputed or amount recovered is negative" in en
    assert "amount disputed or amount recovered is negative" not in zh
    assert "2025-03 排名" in zh and "Ranking for 2025-03" in en
    # only the gated table has sections
    assert "sec-dq-rules-sampling_results" not in zh


def test_numbers_match_the_gate(built):
    _, out, con, _, _ = built
    zh = _read(out["zh"])
    staged, quarantined = con.execute("SELECT sum(rows_staged), sum(rows_quarantined) FROM dq.runs").fetchall()[0]
    assert staged == 80 and quarantined == 12  # per month: 5 negative amounts + 1 unknown record type
    amt = con.execute("SELECT count(*) FROM dq.rule_results WHERE rule_id = 'CMP-AMT-001'").fetchall()[0][0]
    cod = con.execute("SELECT count(*) FROM dq.rule_results WHERE rule_id = 'CMP-COD-001'").fetchall()[0][0]
    assert (amt, cod) == (10, 2)
    assert re.search(r'<div class="k">检查记录</div><div class="v">80</div>', zh)
    assert re.search(r'<div class="k">隔离记录</div><div class="v">12</div>', zh)
    assert "✓ 一致" in zh and "✗ 不一致" not in zh  # every file reconciles


def test_unit_ids_are_escaped(built):
    _, out, _, _, _ = built
    for page in (out["zh"], out["en"], out["q"]):
        text = _read(page)
        assert XSS not in text
        assert XSS_ESCAPED in text  # the unit shows, as text, in tables
        for body in page_script_bodies(text):
            assert body.strip() == "" or ("Plotly.newPlot" in body and "<" not in body), body[:200]
        outside = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S | re.I)
        assert not re.search(r"<script\b", outside, flags=re.I)
        assert 'data-unit="&lt;script&gt;' in text or page == out["q"]


def test_offline_with_one_plotly_js(built):
    root, out, _, _, _ = built
    for lang in ("zh", "en"):
        folder = root / lang
        assert [p.name for p in folder.rglob("*.js")] == ["plotly.min.js"]
        text = _read(out[lang])
        srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", text, flags=re.I)
        assert srcs == ["plotly.min.js"]
        assert "cdn." not in text.lower() and not re.search(r"(src|href)=[\"']?https?://", text)
        # the folder's index links the report and its workbook
        index = _read(folder / "index.html")
        assert 'id="link-dq_report"' in index and 'href="dq_report.xlsx"' in index


def test_no_personal_data_in_html_or_xlsx(built):
    from openpyxl import load_workbook

    root, out, _, people, keys = built
    assert len(people) == 240 and all(people)
    cells = []
    for lang in ("zh", "en"):
        wb = load_workbook(root / lang / "dq_report.xlsx", read_only=True)
        for ws in wb.worksheets:
            cells += [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    blob = "\n".join(cells)
    for page in (out["zh"], out["en"], out["q"]):
        text = _read(page)
        for value in people + keys:
            assert value not in text and value not in blob, value
        assert "complainant_key" not in text and "本人" not in text  # nor the complaint text


def test_xlsx_sheets_frozen_header_and_text_cells(built):
    from openpyxl import load_workbook

    root, _, con, _, _ = built
    wb = load_workbook(root / "zh" / "dq_report.xlsx")
    assert wb.sheetnames == ["complaints", "sampling_results", "hotline_stats", "region_profiles", "overview",
                             "rules", "unit_rules", "files"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.cell(1, 1).font.bold and ws.cell(1, 1).value
    card = wb["complaints"]
    n_card = con.execute("SELECT count(*) FROM (SELECT DISTINCT partition_key, entry_unit_id FROM staging.complaints)").fetchall()[0][0]
    dims = con.execute("SELECT count(DISTINCT dimension) FROM dq.rules WHERE table_name = 'complaints'").fetchall()[0][0]
    assert card.max_row - 1 == n_card * (dims + 1)
    units = {c.value for c in card["B"][1:]}
    assert XSS in units and FORMULA in units  # stored as text ...
    formula_cells = [c for c in card["B"][1:] if c.value == FORMULA]
    assert all(c.data_type == "s" for c in formula_cells)  # ... never as a formula
    assert wb["sampling_results"].max_row == 1  # no data: header only
    rules = wb["rules"]
    assert rules.max_row - 1 == con.execute("SELECT count(*) FROM dq.rules WHERE table_name = 'complaints'").fetchall()[0][0]


def test_xlsx_provisional_banner_formats_and_filter(built, tmp_path):
    """Inside render.provisional every sheet starts with the banner row; header (row 2) bold and
    frozen below; the filter spans header and data; numbers carry their column's format."""
    from openpyxl import load_workbook

    from reports import render
    from reports.dq_report import collect, write_xlsx

    _, _, con, _, _ = built
    with render.provisional("临时版本：2025-03 未通过"):
        write_xlsx(collect(con, None, None), tmp_path / "p.xlsx", "zh")
    wb = load_workbook(tmp_path / "p.xlsx")
    for ws in wb.worksheets:
        assert ws["A1"].value == "临时版本：2025-03 未通过" and ws["A1"].font.b, ws.title
        assert ws.freeze_panes == "A3" and ws["A2"].font.b and ws["A2"].value, ws.title
    card = wb["complaints"]
    assert card.auto_filter.ref == f"A2:O{card.max_row}" and card.max_row > 3
    assert card["E3"].number_format == "#,##0" and card["H3"].number_format == "0.00%"
    changes = [c for c in card["M"][2:] if c.value is not None]  # March against February
    assert changes and all(c.number_format == "+0.00%;-0.00%;0.00%" for c in changes)
    assert card["A3"].number_format == "General"


def test_scope_and_period(built):
    _, out, _, _, _ = built
    q = _read(out["q"])
    assert "2025年3月" in q and 'id="meta-scope"' in q
    assert "2025-02" not in re.sub(r"<script[^>]*>.*?</script>", "", q, flags=re.S)  # the heatmap and tables hold March only
    assert "tbl-dq-scorecard-complaints" in q


def test_empty_warehouse_renders(tmp_path):
    from reports.dq_report import build_dq_report

    con = duckdb.connect()
    page = build_dq_report(con, tmp_path, lang="en")
    text = _read(page)
    assert 'id="dq-no-data"' in text and (tmp_path / "dq_report.xlsx").is_file()


def test_names_not_identifiers_on_the_page(built):
    """Issue 10 point 9: rules by their description, deliveries by number and month; the rule ids and
    delivered file names a bureau quotes are in the workbook."""
    from openpyxl import load_workbook

    from tests.test_no_internal_identifiers import PATTERNS, visible_text

    root, out, _, _, _ = built
    for lang in ("zh", "en"):
        text = visible_text(_read(out[lang]))
        assert not re.search(r"\b[A-Z]{2,4}-[A-Z]{2,4}-\d{2,4}\b", text), lang  # no rule id (CMP-AMT-001)
        assert "complaints_2025-02.csv" not in text and "staging" not in text
        for kind in ("rule id", "file path", "column or table name", "module path"):
            assert not PATTERNS[kind].search(text), (lang, kind, PATTERNS[kind].search(text).group(0))
    wb = load_workbook(root / "zh" / "dq_report.xlsx")
    rule_ids = {r[1] for r in wb["rules"].iter_rows(values_only=True)}
    assert "CMP-AMT-001" in rule_ids
    files = [r for r in wb["files"].iter_rows(values_only=True)]
    assert {"complaints_2025-02.csv", "complaints_2025-03.csv"} <= {r[1] for r in files}


def test_region_labels_name_the_city_and_say_unknown_codes_in_words():
    from reports.dq_report import _region_names
    from reports.labels import translator

    names = _region_names(["320106", "320302", "320400", "329999"], None, "zh", translator("zh"))
    assert names["320106"] == "南京市鼓楼区" and names["320302"] == "徐州市鼓楼区"  # two 鼓楼区 told apart
    assert names["320400"] == "常州市"
    assert names["329999"] == "未识别的区划（代码:329999）"
    en = _region_names(["329999"], None, "en", translator("en"))
    assert en["329999"] == "unknown division (code:329999)"
