"""Issue 10 point 9: no internal identifier on any page — rule ids, column and table names, file paths,
internal version keys, unit or region codes without their names. Scans the visible text (scripts,
styles and tags removed) of every page of the report folders ``cei report`` wrote, in both languages.

Download links may show their file names (``index_report.xlsx``): a reader sees that name on disk.
Every page is scanned, the drill-down, data-quality and 12315-analysis pages included (rule ids stay
in the data-quality workbook, where a bureau looks them up).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

PATTERNS = {
    "rule id": re.compile(r"\b[A-Z]{2,4}-[A-Z]{2,4}-\d{2,4}\b"),
    "column or table name": re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b(?!\.(?:xlsx|pdf|docx|csv|html|js)\b)"),
    "unit id": re.compile(r"\b(?:EU|HL)\d{8}\b"),
    "file path": re.compile(r"[\w/.-]+\.(?:py|sql|ya?ml|duckdb)\b"),
    "bare region code": re.compile(r"(?<![\d.,:/A-Za-z\-])\d{6}(?![\d.,%:/\-])"),
    "module path": re.compile(r"\b(?:index_model|reports|indicators|data_quality|ingestion|pipelines)\.[a-z_]+"),
}


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def findings(folder: Path, pages) -> list[str]:
    out = []
    for p in pages:
        text = visible_text(p.read_text(encoding="utf-8"))
        for kind, rx in PATTERNS.items():
            for m in rx.finditer(text):
                out.append(f"{p.relative_to(folder).as_posix()}: {kind} {m.group(0)!r} in "
                           f"…{text[max(0, m.start() - 40):m.end() + 20]}…")
    return out


def test_the_scanner_catches_what_it_should(tmp_path):
    page = tmp_path / "x.html"
    page.write_text("<p>规则 CMP-CHR-001，字段 handling_region_code，单位 EU32040201，文件 rules.yaml，"
                    "地区 320402，模块 index_model.short_boards；下载 index_report.xlsx，金额 1,234,567</p>"
                    "<script>var spec_version = 1;</script>", encoding="utf-8")
    found = findings(tmp_path, [page])
    tokens = {re.search(r"'([^']*)' in", f).group(1) for f in found}
    assert tokens == {"CMP-CHR-001", "handling_region_code", "EU32040201", "rules.yaml", "320402",
                      "index_model.short_boards", "index_model", "short_boards"}, tokens
    kinds = {f.split(": ")[1].rsplit(" '", 1)[0] for f in found}
    assert kinds == set(PATTERNS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_internal_identifier_on_the_report_pages(hostile_reports, lang):
    folder = hostile_reports[lang]
    pages = sorted(folder.rglob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "index_report.html", "dashboard.html", "sampling_report.html",
                                       "kpi_scorecard.html", "analysis.html", "dq_report.html", "complaints_analysis.html"}
    assert any(p.parent.name == "drilldown" for p in pages)
    found = findings(folder, pages)
    assert found == [], "\n".join(found[:40])
