"""Files a bureau can file (issue 10 point 2): a PDF and a Word copy of each report page named in
:data:`EXPORT_PAGES` that exists in the output folder, written next to it (``index_report.html`` ->
``index_report.pdf`` + ``index_report.docx``). Called by ``cei report`` and the report asset after the
HTML is written; to give another page the same treatment, add its file name to :data:`EXPORT_PAGES`.

* PDF (:mod:`reports.export_pdf`): headless Chromium prints the page on A4 — running header with the
  title, scope and period, page numbers, CJK fonts embedded, every chart drawn, no toolbars, rows
  never cut. Chart PNGs for the Word copy come from the same Chromium session.
* Word (:mod:`reports.export_docx`): the page's text and tables as editable Word paragraphs and tables,
  the charts as images.

Without Chromium (or when it fails), no PDF is written and the Word copy says where each chart would
be; :attr:`ExportResult.problems` holds one line per problem for the caller to show. Nothing here
raises for a missing or failing browser: the HTML folder stays the deliverable. Pure: no Dagster.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from reports.export_docx import html_to_docx
from reports.export_pdf import Chromium, ExportError, count_pages, find_chromium

# report pages (relative to the output folder) exported when present, in this order
EXPORT_PAGES: tuple[str, ...] = ("analysis.html", "index_report.html")

NO_CHROMIUM = "Chromium not found: PDF copies not written, charts missing from the Word copies " \
              "(apt-get install chromium fonts-noto-cjk, or set CEI_CHROMIUM)"


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)  # every file written
    pdf_pages: dict[str, int] = field(default_factory=dict)  # pdf file name -> pages
    docx: dict[str, dict] = field(default_factory=dict)  # docx file name -> {"tables", "images"}
    problems: list[str] = field(default_factory=list)  # one line each, for the person running it
    seconds: float = 0.0
    chromium: str | None = None

    @property
    def pdf_written(self) -> bool:
        return bool(self.pdf_pages)

    def metadata(self) -> dict:
        """Plain values for the report asset's metadata."""
        return {"files": [p.name for p in self.files], "pdf_pages": self.pdf_pages, "docx": self.docx,
                "problems": self.problems, "seconds": round(self.seconds, 1), "chromium": self.chromium or ""}


def export_folder(out_dir: Path, *, pages: tuple[str, ...] = EXPORT_PAGES, pdf: bool = True, docx: bool = True,
                  chromium: str | None = None) -> ExportResult:
    """PDF and Word copies of each page of ``pages`` present in ``out_dir``."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    result = ExportResult()
    present = [out_dir / p for p in pages if (out_dir / p).is_file()]
    if not present or not (pdf or docx):
        return result
    charts: dict[Path, dict[str, bytes]] = {}
    why = ""
    exe = chromium or find_chromium()
    result.chromium = exe
    if exe is None:
        result.problems.append(NO_CHROMIUM)
        why = "Chromium not found"
    else:
        try:
            with Chromium(exe) as browser:
                for page in present:
                    try:
                        printed = browser.print_page(page, charts=docx)
                    except ExportError as exc:
                        result.problems.append(f"{page.name}: PDF not written: {exc}")
                        continue
                    charts[page] = printed.charts
                    if printed.overflow:
                        result.problems.append(f"{page.name}: {len(printed.overflow)} element(s) wider than the A4 "
                                               f"column: " + ", ".join(o['id'] or o['tag'] for o in printed.overflow[:5]))
                    if pdf:
                        target = page.with_suffix(".pdf")
                        _write(target, printed.pdf)
                        result.files.append(target)
                        result.pdf_pages[target.name] = count_pages(printed.pdf)
        except ExportError as exc:
            result.problems.append(f"PDF copies not written: {exc}")
            why = str(exc)
    if docx:
        for page in present:
            target = page.with_suffix(".docx")
            try:
                info = html_to_docx(page, target, charts=charts.get(page, {}), why_no_chart=why or "Chromium failed")
            except Exception as exc:  # noqa: BLE001 - one line for the caller, the HTML stays the deliverable
                result.problems.append(f"{page.name}: Word copy not written: {type(exc).__name__}: {exc}")
                continue
            result.files.append(target)
            result.docx[target.name] = {"tables": info.tables, "images": info.images}
    result.seconds = time.perf_counter() - started
    return result


def _write(target: Path, data: bytes) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


def export_report_folder(out_dir: Path, scope, period, lang: str = "zh", **options) -> ExportResult:
    """:func:`export_folder`, then the folder's ``index.html`` rewritten so it links the new files
    (``scope`` / ``period`` as for ``reports.build_reports``). Call inside ``render.provisional`` when
    the folder was written inside it, so the index keeps its banner."""
    from reports import render
    from reports.periods import parse_period
    from reports.scope import as_scope

    result = export_folder(out_dir, **options)
    if result.files and (Path(out_dir) / "index.html").is_file():
        scope, period = as_scope(scope), parse_period(period)
        render.write_index(out_dir, scope_label=scope.label(lang), period_label=period.label(lang), lang=lang)
    return result
