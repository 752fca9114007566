"""Files a bureau can file (issue 10 point 2): the PDF and Word copies that ``cei report`` writes next
to the ranked index report (and the analysis), opened as a reader would open them.

* PDF (pypdf, pypdfium2): A4 pages, at least two; the running header (title, scope, period) and
  "第 N 页 / 共 M 页" on every page; every font embedded, Chinese among them; city names of the ranking
  whole (not broken per character); the hostile region name as text; every page rendered to PNG (saved
  to ``$CEI_ARTIFACTS_DIR/export`` or a temporary folder) and none blank; the charts drawn (coloured
  pixels on the chart pages).
* Word (python-docx): the ranking as a real table, one row per region, every cell as on the HTML page
  and the scores as in the XLSX; the charts as images; header, page-number field and CJK fonts.
* Without Chromium: no PDF, the Word copy still written, one line saying why — no traceback; ``cei
  report`` exits 0 and the report asset records it in its metadata (``pdf_written``, ``exports``).

The folders are tests/conftest.py ``hostile_reports`` (built by ``cei report`` from the session's
pipeline warehouse). The PDF tests need /usr/bin/chromium (or $CEI_CHROMIUM) and fonts-noto-cjk: they
are skipped without it unless ``CEI_REQUIRE_BROWSER=1``, then they fail (as tests/test_browser.py).
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import struct
import zlib
from pathlib import Path

import lxml.html
import pytest

REGION = "地区"  # the ranking table's region column (labels col.ir.region)

from reports.export_pdf import find_chromium
from tests.conftest import XSS

REQUIRE = os.environ.get("CEI_REQUIRE_BROWSER") == "1"
A4_PT = (595.92, 841.92)


def _need_chromium():
    if find_chromium() is None:
        msg = "Chromium not found (apt-get install -y chromium fonts-noto-cjk, or set CEI_CHROMIUM)"
        if REQUIRE:
            pytest.fail("CEI_REQUIRE_BROWSER=1 but " + msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    base = Path(os.environ["CEI_ARTIFACTS_DIR"]) if os.environ.get("CEI_ARTIFACTS_DIR") else \
        tmp_path_factory.mktemp("export_artifacts")
    folder = base / "export"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nPDF pages as PNG: {folder}")
    return folder


def _html_table(page: Path, table_id: str) -> tuple[list[str], list[list[str]]]:
    root = lxml.html.parse(str(page)).getroot()
    tbl = root.xpath("//table[@id=$i]", i=table_id)[0]
    for br in tbl.iter("br"):  # a line break in a cell reads as a space (the Word cell has a new line)
        br.tail = " " + (br.tail or "")

    def text(c):
        return re.sub(r"\s+", " ", c.text_content()).strip()

    head = [text(c) for c in tbl.xpath("./thead/tr[1]/*")]
    rows = [[text(c) for c in tr.xpath("./td|./th")] for tr in tbl.xpath("./tbody/tr")]
    return head, rows


def _plotly_divs(page: Path) -> list[str]:
    root = lxml.html.parse(str(page)).getroot()
    return [d.get("id") for d in root.xpath("//div[contains(concat(' ', @class, ' '), ' plotly-graph-div ')]")]


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _png(rgb, path: Path) -> None:
    """A PNG of an (h, w, 3) uint8 array, with the standard library (no Pillow in the project)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


# ------------------------------------------------------------------------------------------ the CLI
def test_cli_writes_the_copies_and_links_them(hostile_reports):
    _need_chromium()
    for lang in ("zh", "en"):
        res, folder = hostile_reports["cli"][lang], hostile_reports[lang]
        assert res.exit_code == 0, res.output
        assert "cei report:" not in res.output, res.output  # no export problem reported
        for name in ("index_report.pdf", "index_report.docx"):
            assert (folder / name).is_file() and (folder / name).stat().st_size > 10_000, (lang, name)
        if (folder / "analysis.html").is_file():  # the narrative page gets the same treatment
            assert (folder / "analysis.pdf").is_file() and (folder / "analysis.docx").is_file()
        index = (folder / "index.html").read_text(encoding="utf-8")
        assert 'href="index_report.pdf"' in index and 'href="index_report.docx"' in index
        assert not list(folder.glob("*.tmp")), "a temporary file was left behind"


# -------------------------------------------------------------------------------------------- PDF
@pytest.fixture(scope="module")
def zh_pdf(hostile_reports):
    _need_chromium()
    from pypdf import PdfReader

    path = hostile_reports["zh"] / "index_report.pdf"
    assert path.is_file(), "cei report wrote no PDF although Chromium is installed"
    reader = PdfReader(str(path))
    return {"path": path, "reader": reader, "texts": [p.extract_text() or "" for p in reader.pages]}


def test_pdf_is_a4_with_header_and_page_numbers(zh_pdf, hostile_reports):
    reader, texts = zh_pdf["reader"], zh_pdf["texts"]
    n = len(reader.pages)
    print(f"\nindex_report.pdf (zh): {n} pages")
    assert n >= 2
    for i, page in enumerate(reader.pages):
        box = page.mediabox
        assert abs(float(box.width) - A4_PT[0]) < 2 and abs(float(box.height) - A4_PT[1]) < 2, (i, box)
        t = _norm(texts[i])
        assert "区域消费环境指数排名报告" in t, (i, t[:200])  # header: title ...
        assert "江苏省" in t and "2025年" in t, (i, t[:200])  # ... scope and period
        assert f"第 {i + 1} 页 / 共 {n} 页" in t, (i, t[-200:])  # footer: page numbers


def test_pdf_text_city_names_whole_and_hostile_name_as_text(zh_pdf, hostile_reports):
    page = hostile_reports["zh"] / "index_report.html"
    _, rows = _html_table(page, "tbl-ranking")
    text = "\n".join(zh_pdf["texts"])
    names = [r[1] for r in rows]
    assert len(names) >= 10
    for name in names:  # a name broken per character would come out one character per line
        assert name in text, name
    assert XSS in text
    # copied and searched text names ideographs, not the CJK radicals that share their glyphs (页, not ⻚)
    assert [c for c in text if 0x2E80 <= ord(c) <= 0x2FDF] == []
    assert "生成时间" in text
    assert "方法说明" in text and "优势" in text  # the whole report, not just its first section


def test_pdf_ranking_rows_whole_and_header_repeated(zh_pdf, hostile_reports):
    """Every ranking row is printed once, whole (name and score on one page), and every page the ranking
    runs over starts with its header row (thead repeated)."""
    head, rows = _html_table(hostile_reports["zh"] / "index_report.html", "tbl-ranking")
    code_i, score_i = head.index(REGION), head.index("得分")
    seen = {}
    for i, text in enumerate(zh_pdf["texts"]):
        t = _norm(text)
        # a row is on the page when its score and rank change are (the region name, a long
        # hostile one among them, may wrap inside its cell)
        here = [r[code_i] for r in rows if f"{r[score_i]} {r[score_i + 1]}" in t]
        if here:
            assert f"{REGION} 得分" in t and "主要变动因素" in t, f"page {i + 1}: ranking rows without the header row"
        for code in here:
            seen[code] = seen.get(code, 0) + 1
    assert seen == {r[code_i]: 1 for r in rows}, seen


def test_pdf_fonts_embedded_cjk_among_them(zh_pdf):
    """Every font's glyphs are in the file: a font program (FontFile, FontFile2, FontFile3) or, for Noto
    CJK (CFF outlines, which Chromium's PDF writer does not embed as a font program), a Type 3 font whose
    glyph procedures draw each character used. The PDF shows the same text on a machine without the font."""
    fonts, not_embedded = set(), []
    for page in zh_pdf["reader"].pages:
        res = page.get("/Resources")
        res = res.get_object() if res is not None else {}
        for _, ref in (res.get("/Font") or {}).items():
            font = ref.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for f in descendants:
                desc = f.get("/FontDescriptor")
                desc = desc.get_object() if desc is not None else {}
                name = f"{f.get('/BaseFont', '')} {desc.get('/FontFamily', '')}".strip()
                fonts.add(name)
                if font.get("/Subtype") == "/Type3":
                    if not font.get("/CharProcs"):
                        not_embedded.append(name)
                elif not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    not_embedded.append(name)
    assert fonts, "no fonts found"
    assert not_embedded == [], not_embedded
    assert any("CJK" in f for f in fonts), fonts


def test_pdf_pages_render_not_blank_and_charts_drawn(zh_pdf, artifacts, hostile_reports):
    import numpy as np
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(zh_pdf["path"]))
    coloured_pages = 0
    try:
        for i in range(len(doc)):
            bitmap = doc[i].render(scale=1.5)
            arr = bitmap.to_numpy()
            rgb = np.ascontiguousarray(arr[:, :, 2::-1] if bitmap.mode.startswith("BGR") else arr[:, :, :3])
            _png(rgb, artifacts / f"index_report_zh_p{i + 1:02d}.png")
            ink = (rgb.min(axis=2) < 200).mean()
            assert ink > 0.01, f"page {i + 1} is blank ({ink:.4f} of its pixels inked)"
            spread = rgb.max(axis=2).astype(int) - rgb.min(axis=2).astype(int)
            if (spread > 90).mean() > 0.01:  # bars, heat-map cells, interval boxes in colour
                coloured_pages += 1
    finally:
        doc.close()
    charts = len(_plotly_divs(hostile_reports["zh"] / "index_report.html"))
    assert charts >= 3
    assert coloured_pages >= 2, coloured_pages


def test_english_pdf(hostile_reports):
    _need_chromium()
    from pypdf import PdfReader

    reader = PdfReader(str(hostile_reports["en"] / "index_report.pdf"))
    n = len(reader.pages)
    print(f"\nindex_report.pdf (en): {n} pages")
    first, last = _norm(reader.pages[0].extract_text()), _norm(reader.pages[-1].extract_text())
    assert n >= 2 and "Page 1 of" in first and f"Page {n} of {n}" in last
    assert "Jiangsu" in first or "江苏" in first, first[:300]


# ------------------------------------------------------------------------------------------- Word
@pytest.fixture(scope="module")
def zh_docx(hostile_reports):
    import docx

    path = hostile_reports["zh"] / "index_report.docx"
    assert path.is_file()
    return docx.Document(str(path))


def _docx_table(document, head: list[str]):
    for t in document.tables:
        if [_norm(c.text) for c in t.rows[0].cells] == head:
            return t
    raise AssertionError(f"no Word table with the header {head}")


def test_docx_ranking_table_matches_html_and_xlsx(zh_docx, hostile_reports):
    from openpyxl import load_workbook

    folder = hostile_reports["zh"]
    head, rows = _html_table(folder / "index_report.html", "tbl-ranking")
    table = _docx_table(zh_docx, head)
    word_rows = [[_norm(c.text) for c in r.cells] for r in table.rows[1:]]
    assert len(word_rows) == len(rows) >= 10  # one row per region
    assert word_rows == rows  # every cell as on the page (rank, name, score, interval, grade, ...)
    wb = load_workbook(folder / "index_report.xlsx", read_only=True)
    sheet = wb.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(values) if r and "区划代码" in r)
    header = values[top]
    code_col, score_col = header.index(REGION), header.index("得分")
    xlsx = {r[code_col]: r[score_col] for r in values[top + 1:] if r and r[code_col]}
    code_i, score_i = head.index(REGION), head.index("得分")  # the pages name regions, without codes
    word = {r[code_i]: r[score_i] for r in word_rows}
    assert set(word) == set(xlsx)
    for code, score in xlsx.items():
        assert word[code] == f"{score:.2f}", (code, word[code], score)
    assert any(XSS in r for r in word_rows)  # the hostile name is plain text in the Word table


def test_docx_charts_as_images_header_footer_fonts(zh_docx, hostile_reports):
    _need_chromium()  # the chart images are captured by Chromium
    from docx.oxml.ns import qn

    charts = _plotly_divs(hostile_reports["zh"] / "index_report.html")
    assert len(zh_docx.inline_shapes) == len(charts) >= 3
    section = zh_docx.sections[0]
    assert abs(section.page_width.mm - 210) < 1 and abs(section.page_height.mm - 297) < 1
    header = section.header.paragraphs[0].text
    assert "区域消费环境指数排名报告" in header and "江苏省" in header and "2025年" in header
    footer_xml = section.footer._element.xml
    assert 'w:instr="PAGE"' in footer_xml and 'w:instr="NUMPAGES"' in footer_xml
    fonts = zh_docx.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    heads = [p.text for p in zh_docx.paragraphs if p.style.name.startswith("Heading")]
    assert "综合指数排名" in heads and "方法说明" in heads, heads
    # rows of every table repeat their header row and never split across pages
    ranking = _docx_table(zh_docx, _html_table(hostile_reports["zh"] / "index_report.html", "tbl-ranking")[0])
    assert ranking.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    # nothing that only makes sense on screen
    body = "\n".join(p.text for p in zh_docx.paragraphs)
    assert "plotly" not in body.lower()


# ------------------------------------------------------------------------------ without Chromium
def _copy_folder(hostile_reports, tmp_path) -> Path:
    folder = tmp_path / "zh"
    shutil.copytree(hostile_reports["zh"], folder, ignore=shutil.ignore_patterns("drilldown", "*.pdf", "*.docx"))
    return folder


def test_without_chromium_word_copy_still_written(hostile_reports, tmp_path, monkeypatch):
    from reports.export_files import NO_CHROMIUM, export_report_folder

    folder = _copy_folder(hostile_reports, tmp_path)
    monkeypatch.setenv("CEI_CHROMIUM", str(tmp_path / "no-such-chromium"))
    result = export_report_folder(folder, "32", "2025", "zh")
    assert result.problems[:1] == [NO_CHROMIUM] and all("\n" not in p for p in result.problems)
    assert not (folder / "index_report.pdf").exists()
    import docx

    d = docx.Document(str(folder / "index_report.docx"))
    assert len(d.inline_shapes) == 0
    assert sum("图表未能生成图片" in p.text for p in d.paragraphs) == len(_plotly_divs(folder / "index_report.html"))
    assert result.metadata()["pdf_pages"] == {}
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'href="index_report.docx"' in index and 'href="index_report.pdf"' not in index


def test_a_chromium_that_fails_gives_one_line(hostile_reports, tmp_path, monkeypatch):
    from reports.export_files import export_folder

    folder = _copy_folder(hostile_reports, tmp_path)
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CEI_CHROMIUM", str(fake))
    result = export_folder(folder)
    assert len(result.problems) == 1 and "Chromium exited at start: cannot open display" in result.problems[0]
    assert not (folder / "index_report.pdf").exists() and (folder / "index_report.docx").is_file()


def test_cli_without_chromium_exit_status_and_one_line(hostile_reports, tmp_path, monkeypatch):
    """``cei report`` without Chromium: exit 0, the HTML and Word files written, one line on stderr."""
    from click.testing import CliRunner

    import pipelines.cli as cli

    folder = _copy_folder(hostile_reports, tmp_path)
    monkeypatch.setenv("CEI_CHROMIUM", str(tmp_path / "no-such-chromium"))
    # the folder is already built: only the export step of the command runs for real
    monkeypatch.setattr("reports.build_reports", lambda con, scope, period, out_dir, lang: Path(out_dir) / "index.html")
    res = CliRunner().invoke(cli.main, ["--warehouse", str(hostile_reports["wh"]), "report", "--scope", "32",
                                        "--period", "2025", "--out", str(folder)])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("cei report: Chromium not found"), res.stderr
    assert "Traceback" not in res.output
    assert (folder / "index_report.docx").is_file() and not (folder / "index_report.pdf").exists()


@pytest.mark.slow  # 25–80 s: keeps `make test` under 15 minutes; runs in CI with `make test-slow`
def test_report_asset_records_the_copies_in_its_metadata(pipeline_warehouse, tmp_path, monkeypatch):
    """The report asset writes the copies too and says in its metadata what it wrote and what it could
    not (here without Chromium: no PDF, pdf_written false, the one-line reason; the run succeeds)."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from assets.reports import report_folders
    from reports.export_files import NO_CHROMIUM

    wh = pipeline_warehouse.copy(tmp_path)
    monkeypatch.setenv("CEI_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "reports"
    with dg.instance_for_test() as instance:  # the asset is partitioned by year × scope (pipelines/partitions.py)
        instance.add_dynamic_partitions("scope", ["32"])
        res = dg.materialize([report_folders], resources={"duckdb": DuckDBResource(database=str(wh))}, instance=instance,
                             partition_key=dg.MultiPartitionKey({"period": "2025", "scope": "32"}),
                             run_config={"ops": {"reports__report_folders": {"config": {"out_dir": str(out)}}}})
    assert res.success
    md = res.get_asset_materialization_events()[0].materialization.metadata
    exports = md["exports"].value["2025"]
    assert md["pdf_written"].value is False
    assert exports["problems"] == [NO_CHROMIUM] and exports["pdf_pages"] == {}
    assert "index_report.docx" in exports["files"] and exports["docx"]["index_report.docx"]["tables"] >= 5
    assert (out / "32_2025" / "index_report.docx").is_file() and not (out / "32_2025" / "index_report.pdf").exists()
