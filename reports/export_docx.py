"""Word copies of report pages (issue 10 point 2): the rendered HTML page, read back, as a .docx an
analyst can edit — headings, paragraphs and lists as Word text, every HTML table as a real Word table
(header rows repeated on each page, rows never split), the page's charts as PNG images, A4, running
header (title, scope, period) and page numbers in the footer, CJK fonts set on the styles
(``w:eastAsia``: 宋体 for text, 黑体 for headings — present on every Chinese Windows; LibreOffice
substitutes Noto CJK).

Generic: it knows the page frame of ``templates/base.html.j2`` (``#page-title``, ``#meta-*``,
``main#content``, ``footer#page-footer``) and plain HTML, nothing of a particular report, so any
report page gets the same treatment. What is on screen only (navigation, the "open the folder" note,
chart toolbars, scripts) is left out. Chart images come from :mod:`reports.export_pdf` (Chromium);
without them each chart is replaced by a one-line note saying so.

Pure: python-docx and lxml, no Dagster.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

BODY_FONT, HEADING_FONT, LATIN_FONT = "宋体", "黑体", "Arial"
BODY_PT, TABLE_PT, WIDE_TABLE_PT, NOTE_PT = 10.5, 9, 7.5, 8
WIDE_TABLE_COLUMNS = 9
GREY = RGBColor(0x52, 0x60, 0x6D)
RED = RGBColor(0x9C, 0x00, 0x06)
CONTENT_WIDTH = Cm(17)  # A4 210 mm less 2 × 20 mm margins
# left out of the Word copy: screen-only parts, and <details> kept closed on paper (export_pdf.KEEP_CLOSED)
SKIP_TAGS = {"script", "style", "nav", "noscript", "template", "button", "input", "select", "head", "link", "meta"}
SKIP_IDS = {"sec-offline", "link-home", "method-technical"}
SKIP_CLASSES = {"modebar", "modebar-container", "screen-only"}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "ul", "ol", "li", "table", "details",
              "summary", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "blockquote", "pre", "dl", "dt",
              "dd", "hr", "aside"}
NOTE_CLASSES = {"note", "nid", "few", "meta", "small"}

TEXT = {
    "zh": {"page": ("第 ", " 页 / 共 ", " 页"), "no_chart": "（图表未能生成图片：{why}。请查看同名 HTML 或 PDF 文件。）"},
    "en": {"page": ("Page ", " of ", ""), "no_chart": "(Chart not available as an image: {why}. See the HTML or PDF file of the same name.)"},
}

_WS = re.compile(r"\s+")


@dataclass
class DocxInfo:
    path: Path
    tables: int = 0
    images: int = 0
    missing_charts: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------- helpers
def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _skipped(el) -> bool:
    if not isinstance(el.tag, str):
        return True  # comments, processing instructions
    return el.tag in SKIP_TAGS or el.get("id") in SKIP_IDS or bool(_classes(el) & SKIP_CLASSES)


def _text(el) -> str:
    return _WS.sub(" ", el.text_content() if el is not None else "").strip()


def _set_fonts(rpr_parent, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Set explicit fonts (ascii/hAnsi/eastAsia) on a style or run, dropping theme-font overrides."""
    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)


def _set_lang(style_el, lang: str) -> None:
    rpr = style_el.get_or_add_rPr()
    el = rpr.find(qn("w:lang"))
    if el is None:
        el = OxmlElement("w:lang")
        rpr.append(el)
    el.set(qn("w:val"), "en-US")
    el.set(qn("w:eastAsia"), "zh-CN")


def _field(paragraph, instr: str) -> None:
    """A simple field (PAGE, NUMPAGES) in a paragraph: Word fills in the number."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    paragraph._p.append(fld)


def _row_flag(row, tag: str) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _table_width_full(table) -> None:
    tblpr = table._tbl.tblPr
    w = tblpr.find(qn("w:tblW"))
    if w is None:
        w = OxmlElement("w:tblW")
        tblpr.append(w)
    w.set(qn("w:type"), "pct")
    w.set(qn("w:w"), "5000")


# ------------------------------------------------------------------------------------ inline text
@dataclass
class _Seg:
    text: str
    bold: bool = False
    note: bool = False


def _lines(el, bold: bool = False, note: bool = False) -> list[list[_Seg]]:
    """The element's text as lines of formatted segments: block children and <br> start a new line,
    list items get a bullet. Whitespace collapsed as a browser does."""
    lines: list[list[_Seg]] = [[]]

    def add(text: str | None, b: bool, n: bool) -> None:
        if text:
            t = _WS.sub(" ", text)
            if t.strip() or (lines[-1] and t == " "):
                lines[-1].append(_Seg(t, b, n))

    def newline() -> None:
        if lines[-1]:
            lines.append([])

    def walk(e, b: bool, n: bool) -> None:
        if _skipped(e):
            return
        cls = _classes(e)
        b2 = b or e.tag in ("strong", "b", "th", "summary")
        n2 = n or bool(cls & NOTE_CLASSES)
        if e.tag == "br":
            newline()
            return
        block = e.tag in BLOCK_TAGS
        if block:
            newline()
        if e.tag == "li":
            add("• ", b2, n2)
        add(e.text, b2, n2)
        for c in e:
            walk(c, b2, n2)
            if isinstance(c.tag, str) and c.tag not in SKIP_TAGS:
                add(c.tail, b2, n2)
            elif c.tail:
                add(c.tail, b2, n2)
        if block:
            newline()

    add(el.text, bold or el.tag in ("th", "strong", "b"), note or bool(_classes(el) & NOTE_CLASSES))
    for c in el:
        walk(c, bold or el.tag == "th", note or bool(_classes(el) & NOTE_CLASSES))
        add(c.tail, bold or el.tag == "th", note or bool(_classes(el) & NOTE_CLASSES))
    out = []
    for line in lines:
        # trim the line's outer spaces
        while line and not line[0].text.strip():
            line.pop(0)
        while line and not line[-1].text.strip():
            line.pop()
        if line:
            line[0].text = line[0].text.lstrip()
            line[-1].text = line[-1].text.rstrip()
            out.append(line)
    return out


def _write_runs(paragraph, line: list[_Seg], size: float | None = None, color: RGBColor | None = None,
                bold: bool | None = None) -> None:
    for s in line:
        run = paragraph.add_run(s.text)
        if s.bold or bold:
            run.bold = True
        if s.note:
            run.font.color.rgb = GREY
            run.font.size = Pt(NOTE_PT if size is None else max(size - 1, 6))
        elif size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color


# ------------------------------------------------------------------------------------- converter
class _Writer:
    def __init__(self, doc, charts: dict[str, bytes], why_no_chart: str, lang: str):
        self.doc, self.charts, self.why, self.lang = doc, charts, why_no_chart, lang
        self.tables = 0
        self.images = 0
        self.missing: list[str] = []

    # -- blocks
    def block(self, el) -> None:
        if _skipped(el):
            return
        tag, cls = el.tag, _classes(el)
        if "plotly-graph-div" in cls:
            self.chart(el)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level = max(1, min(int(tag[1]) - 1, 4))
            text = _text(el)
            if text:
                self.doc.add_heading(text, level=level)
        elif tag == "summary":
            text = _text(el)
            if text:
                self.doc.add_heading(text, level=3)
        elif tag == "table":
            self.table(el)
        elif tag in ("ul", "ol"):
            self.list(el, 1)
        elif "tiles" in cls:
            self.tiles(el)
        elif tag == "p" or not any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS and not _skipped(c) for c in el):
            self.paragraph(el)
        else:
            self.container(el)

    def container(self, el) -> None:
        if el.text and el.text.strip():
            self.doc.add_paragraph(_WS.sub(" ", el.text).strip())
        for c in el:
            self.block(c)
            if c.tail and c.tail.strip() and isinstance(c.tag, str):
                self.doc.add_paragraph(_WS.sub(" ", c.tail).strip())

    def paragraph(self, el) -> None:
        cls = _classes(el)
        note = bool(cls & NOTE_CLASSES)
        banner = el.get("id") == "provisional-banner"
        for line in _lines(el, note=note):
            p = self.doc.add_paragraph()
            if banner:
                _write_runs(p, line, color=RED, bold=True)
            elif note:
                _write_runs(p, [_Seg(s.text, s.bold, True) for s in line], size=NOTE_PT + 1)
            else:
                _write_runs(p, line)

    def list(self, el, depth: int) -> None:
        style = "List Bullet" if el.tag == "ul" else "List Number"
        if depth > 1:
            style += f" {min(depth, 3)}"
        for li in el:
            if not isinstance(li.tag, str) or li.tag != "li" or _skipped(li):
                continue
            inline = lxml.html.fromstring("<div></div>")
            inline.text = li.text
            nested = []
            for c in li:
                if isinstance(c.tag, str) and c.tag in ("ul", "ol"):
                    nested.append(c)
                else:
                    inline.append(_copy(c))
            for i, line in enumerate(_lines(inline) or [[]]):
                p = self.doc.add_paragraph(style=style if i == 0 else None)
                _write_runs(p, line)
            for n in nested:
                self.list(n, depth + 1)

    def tiles(self, el) -> None:
        tiles = [t for t in el if isinstance(t.tag, str) and "tile" in _classes(t)]
        if not tiles:
            return
        per_row = min(len(tiles), 4)
        rows = -(-len(tiles) // per_row)
        table = self.doc.add_table(rows=rows * 2, cols=per_row)
        table.style = "Table Grid"
        _table_width_full(table)
        for i, tile in enumerate(tiles):
            r, c = divmod(i, per_row)
            k = tile.find_class("k")
            v = tile.find_class("v")
            label = table.rows[2 * r].cells[c].paragraphs[0]
            _write_runs(label, [_Seg(_text(k[0]) if k else "", note=True)], size=NOTE_PT + 1)
            value = table.rows[2 * r + 1].cells[c].paragraphs[0]
            _write_runs(value, [_Seg(_text(v[0]) if v else _text(tile), bold=True)], size=13)
        self.tables += 1
        self.doc.add_paragraph()

    def table(self, el) -> None:
        rows = el.xpath("./thead/tr|./tbody/tr|./tr|./tfoot/tr")
        rows = [r for r in rows if not _skipped(r)]
        if not rows:
            return
        caption = el.find("caption")
        if caption is not None and _text(caption):
            p = self.doc.add_paragraph(style="Caption")
            _write_runs(p, [_Seg(_text(caption), bold=True)])
        cells_of = [[c for c in r if isinstance(c.tag, str) and c.tag in ("th", "td")] for r in rows]
        ncols = max(sum(_span(c) for c in cells) for cells in cells_of) or 1
        size = WIDE_TABLE_PT if ncols >= WIDE_TABLE_COLUMNS else TABLE_PT
        table = self.doc.add_table(rows=len(rows), cols=ncols)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _table_width_full(table)
        for r_el, cells, row in zip(rows, cells_of, table.rows):
            head = r_el.getparent().tag == "thead"
            if head:
                _row_flag(row, "w:tblHeader")  # repeated at the top of each page
            _row_flag(row, "w:cantSplit")
            word_cells = row.cells
            col = 0
            for c in cells:
                span = min(_span(c), ncols - col)
                if span <= 0:
                    break
                target = word_cells[col]
                if span > 1:
                    target = target.merge(word_cells[col + span - 1])
                self._cell(target, c, size, head)
                col += span
        self.tables += 1
        self.doc.add_paragraph()

    def _cell(self, cell, el, size: float, head: bool) -> None:
        lines = _lines(el, bold=el.tag == "th")
        numeric = "num" in _classes(el)
        p = cell.paragraphs[0]
        for i, line in enumerate(lines):
            if i:
                p = cell.add_paragraph()
            if numeric:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.space_after = Pt(0)
            _write_runs(p, line, size=size)
        if head or el.tag == "th":
            _shade(cell, "F6F8FA")

    def chart(self, el) -> None:
        div_id = el.get("id") or ""
        png = self.charts.get(div_id)
        if png:
            self.doc.add_picture(io.BytesIO(png), width=CONTENT_WIDTH)
            self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.images += 1
        else:
            self.missing.append(div_id)
            p = self.doc.add_paragraph()
            _write_runs(p, [_Seg(TEXT[self.lang]["no_chart"].format(why=self.why), note=True)], size=NOTE_PT + 1)


def _span(cell) -> int:
    try:
        return max(int(cell.get("colspan") or 1), 1)
    except ValueError:
        return 1


def _copy(el):
    from copy import deepcopy

    c = deepcopy(el)
    c.tail = el.tail
    return c


# ---------------------------------------------------------------------------------------- document
def _setup(doc, lang: str) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(22), Mm(20)
    section.header_distance = section.footer_distance = Mm(10)
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _set_fonts(normal.element, BODY_FONT)
    _set_lang(normal.element, lang)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Caption"):
        try:
            st = styles[name]
        except KeyError:
            continue
        _set_fonts(st.element, HEADING_FONT if name != "Caption" else BODY_FONT)
        if name != "Caption":
            st.font.color.rgb = RGBColor(0x12, 0x35, 0x5B)
    styles["Title"].font.size = Pt(20)
    styles["Heading 1"].font.size = Pt(15)
    styles["Heading 2"].font.size = Pt(13)
    styles["Heading 3"].font.size = Pt(11.5)
    for name in ("List Bullet", "List Number", "List Bullet 2", "List Bullet 3", "Table Grid", "Header", "Footer"):
        try:
            _set_fonts(styles[name].element, BODY_FONT)
        except KeyError:
            pass


def html_to_docx(html_path: Path, target: Path, *, charts: dict[str, bytes] | None = None, why_no_chart: str = "",
                 lang: str | None = None) -> DocxInfo:
    """Write the Word copy of the report page ``html_path`` to ``target``; ``charts`` maps each plotly
    div id to its PNG (:class:`reports.export_pdf.PrintedPage`). Returns what went in."""
    html_path, target = Path(html_path), Path(target)
    root = lxml.html.parse(str(html_path)).getroot()
    body = root.find("body")
    lang = lang or (body.get("data-lang") if body is not None else None) or "zh"
    lang = lang if lang in TEXT else "zh"

    title, scope, period, generated = (_by_id(root, i) for i in ("page-title", "meta-scope", "meta-period", "meta-generated"))
    title = title or _text(root.find(".//title"))
    doc = Document()
    _setup(doc, lang)
    props = doc.core_properties
    props.title = title
    props.subject = " · ".join(x for x in (scope, period) if x)
    props.language = "zh-CN" if lang == "zh" else "en-US"
    props.author = ""
    props.comments = generated

    section = doc.sections[0]
    hp = section.header.paragraphs[0]
    _write_runs(hp, [_Seg(" · ".join(x for x in (title, scope, period) if x))], size=8, color=GREY)
    fp = section.footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    a, b, c = TEXT[lang]["page"]
    fp.add_run(a)
    _field(fp, "PAGE")
    fp.add_run(b)
    _field(fp, "NUMPAGES")
    if c:
        fp.add_run(c)
    for r in fp.runs:
        r.font.size = Pt(8)

    doc.add_heading(title, level=0)
    meta = " · ".join(x for x in (scope, period, generated) if x)
    if meta:
        _write_runs(doc.add_paragraph(), [_Seg(meta, note=True)], size=NOTE_PT + 1)
    w = _Writer(doc, charts or {}, why_no_chart or "–", lang)
    for el in root.xpath("//*[@id='provisional-banner']"):
        w.paragraph(el)
    main = root.xpath("//main") or ([body] if body is not None else [])
    for m in main:
        w.container(m)
    for f in root.xpath("//footer[@id='page-footer']"):
        for line in _lines(f):
            _write_runs(doc.add_paragraph(), [_Seg(s.text, s.bold, True) for s in line], size=NOTE_PT)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    doc.save(str(tmp))
    tmp.replace(target)
    return DocxInfo(target, w.tables, w.images, w.missing)


def _by_id(root, element_id: str) -> str:
    found = root.xpath("//*[@id=$i]", i=element_id)
    return _text(found[0]) if found else ""
