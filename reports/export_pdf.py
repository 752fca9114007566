"""PDF copies of report pages, printed by headless Chromium over the DevTools protocol (issue 10 point 2).

A page is opened from disk (``file://``, no server, no network), every plotly chart is waited for,
``<details>`` are opened (a closed one would print as its summary line only), the page is laid out
with the print stylesheet (``@media print`` in ``templates/base.html.j2``: no chart toolbars, rows and
figures kept whole, table headers repeated, CJK cells not broken per character) at the width of the
printed A4 column, the charts are fitted to that width, and ``Page.printToPDF`` prints it on A4 with
a running header (report title, scope, period) and footer (page N of M). Chromium puts the glyphs of
the fonts it used into the file: Noto CJK (Debian's ``fonts-noto-cjk``, CFF outlines) as Type 3 fonts
whose glyph procedures draw each character used — the PDF looks the same on a machine without the
font — with ToUnicode maps so the text can be searched and copied (:func:`fix_text_layer` corrects
the radicals Chromium writes there for some ideographs).

The same session also captures each chart as a PNG (``Page.captureScreenshot`` clipped to the chart
at twice the resolution) for the Word copy (:mod:`reports.export_docx`).

Pure: no Dagster. Needs the ``chromium`` executable (``$CEI_CHROMIUM``, else /usr/bin/chromium or
``chromium`` / ``chromium-browser`` / ``google-chrome`` on PATH) and the ``websockets`` package.
Without Chromium, :func:`find_chromium` returns None and callers skip the PDF (see
:mod:`reports.export_files`). Every failure is raised as :class:`ExportError` with a one-line message.
"""
from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path

# A4 in inches (DevTools paper sizes are inches) and the printed column in CSS px (96 px/in)
A4_W_IN, A4_H_IN = 8.27, 11.69
MARGIN_IN = {"top": 0.75, "bottom": 0.65, "left": 0.55, "right": 0.55}
SCALE = 0.8  # print scale: a 16 px body line prints at ~9.6 pt, wide tables keep their columns
LAYOUT_WIDTH = round((A4_W_IN - MARGIN_IN["left"] - MARGIN_IN["right"]) * 96 / SCALE)  # ≈ 870 CSS px
CHART_PNG_SCALE = 2

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

TEXT = {
    "zh": {"page": "第 <span class=\"pageNumber\"></span> 页 / 共 <span class=\"totalPages\"></span> 页"},
    "en": {"page": "Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span>"},
}
FONT_STACK = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"


class ExportError(RuntimeError):
    """A PDF could not be produced; the message is one line for the person running the command."""


def find_chromium() -> str | None:
    """The Chromium executable to use, or None. ``$CEI_CHROMIUM`` wins (None when it names no executable)."""
    configured = os.environ.get("CEI_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() and os.access(configured, os.X_OK) else None
    if Path("/usr/bin/chromium").is_file() and os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageMeta:
    """What the running header says, read from the page itself (``#page-title``, ``#meta-scope``, …)."""
    title: str = ""
    scope: str = ""
    period: str = ""
    lang: str = "zh"


@dataclass
class PrintedPage:
    pdf: bytes
    meta: PageMeta
    charts: dict[str, bytes] = field(default_factory=dict)  # plotly div id -> PNG
    chart_count: int = 0  # plotly divs on the page
    overflow: list[dict] = field(default_factory=list)  # elements wider than the printed column


class Chromium:
    """A headless Chromium driven over the DevTools protocol: one page target, flattened session.
    Use as a context manager; the browser and its temporary profile are removed on exit."""

    def __init__(self, executable: str | None = None, timeout: float = 90):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise ExportError("Chromium not found (apt-get install chromium fonts-noto-cjk, or set CEI_CHROMIUM)")
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.ws = None
        self.profile: Path | None = None
        self.next_id = 0
        self.events: list[dict] = []

    # -- lifecycle
    def __enter__(self) -> "Chromium":
        try:
            from websockets.sync.client import connect
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ExportError(f"python package websockets missing ({exc})") from None
        self.profile = Path(tempfile.mkdtemp(prefix="cei-export-chromium-"))
        try:
            self.proc = subprocess.Popen([self.executable, *FLAGS, f"--user-data-dir={self.profile}",
                                          f"--window-size={LAYOUT_WIDTH},1200", "about:blank"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as exc:
            self._cleanup()
            raise ExportError(f"Chromium could not start: {exc}") from None
        try:
            port_file = self.profile / "DevToolsActivePort"
            deadline = time.time() + self.timeout
            while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read().decode(errors="replace").strip().splitlines()
                    raise ExportError("Chromium exited at start: " + (err[-1] if err else f"status {self.proc.returncode}"))
                if time.time() > deadline:
                    raise ExportError("Chromium did not open its DevTools port")
                time.sleep(0.1)
            port, path = port_file.read_text().split()[:2]
            self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime"):
                self.call(f"{domain}.enable", session=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.ws is not None:
                self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self._cleanup()

    def _cleanup(self) -> None:
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- protocol
    def call(self, method: str, session: bool = False, timeout: float | None = None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.time() + (timeout or self.timeout)
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise ExportError(f"Chromium did not answer {method} in time")
            try:
                m = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                raise ExportError(f"Chromium did not answer {method} in time") from None
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise ExportError(f"Chromium refused {method}: {m['error'].get('message', m['error'])}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)
                if m["method"] == "Page.javascriptDialogOpening":  # never hang on a dialog
                    self.ws.send(json.dumps({"id": 10**9 + len(self.events), "method": "Page.handleJavaScriptDialog",
                                             "params": {"accept": True}, "sessionId": self.session}))

    def eval(self, expression: str):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise ExportError(f"script failed in the page: {d.get('exception', {}).get('description', d.get('text'))}")
        return r["result"].get("value")

    def wait_event(self, method: str, since: int, timeout: float | None = None) -> dict:
        deadline = time.time() + (timeout or self.timeout)
        while True:
            for m in self.events[since:]:
                if m["method"] == method:
                    return m
            left = deadline - time.time()
            if left <= 0:
                raise ExportError(f"the page did not finish loading ({method})")
            try:
                m = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            if "method" in m:
                self.events.append(m)

    # -- pages
    def open(self, page: Path) -> None:
        since = len(self.events)
        self.call("Page.navigate", session=True, url=Path(page).resolve().as_uri())
        self.wait_event("Page.loadEventFired", since)

    def wait_plots(self) -> dict:
        """Until every plotly div has drawn its SVG (or the timeout): the counts."""
        js = """(() => { const d = [...document.querySelectorAll('.plotly-graph-div')];
                 return {divs: d.length, drawn: d.filter(e => e.classList.contains('js-plotly-plot')
                                                             && e.querySelector('.main-svg')).length}; })()"""
        deadline = time.time() + self.timeout
        state = self.eval(js)
        while state["drawn"] < state["divs"] and time.time() < deadline:
            time.sleep(0.2)
            state = self.eval(js)
        return state

    def print_page(self, page: Path, *, charts: bool = True) -> PrintedPage:
        """Open ``page``, lay it out for A4 and print it; with ``charts`` also capture each chart as PNG."""
        self.call("Emulation.setEmulatedMedia", session=True, media="print")
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=LAYOUT_WIDTH, height=1200,
                  deviceScaleFactor=1, mobile=False)
        self.open(page)
        state = self.wait_plots()
        if state["drawn"] < state["divs"]:
            raise ExportError(f"{Path(page).name}: {state['divs'] - state['drawn']} of {state['divs']} charts did not draw")
        meta = PageMeta(**self.eval(READ_META))
        layout = self.eval(PREPARE_PRINT)
        printed = PrintedPage(pdf=b"", meta=meta, chart_count=state["divs"], overflow=layout["overflow"])
        if charts:
            for c in layout["charts"]:
                shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                                 clip={"x": c["x"], "y": c["y"], "width": c["w"], "height": c["h"],
                                       "scale": CHART_PNG_SCALE})
                printed.charts[c["id"]] = base64.b64decode(shot["data"])
        printed.pdf = fix_text_layer(base64.b64decode(self.call(
            "Page.printToPDF", session=True, timeout=max(self.timeout, 180),
            paperWidth=A4_W_IN, paperHeight=A4_H_IN, scale=SCALE, printBackground=True, preferCSSPageSize=False,
            marginTop=MARGIN_IN["top"], marginBottom=MARGIN_IN["bottom"], marginLeft=MARGIN_IN["left"],
            marginRight=MARGIN_IN["right"], displayHeaderFooter=True,
            headerTemplate=header_template(meta), footerTemplate=footer_template(meta),
            generateTaggedPDF=True, generateDocumentOutline=True)["data"]))
        return printed


# the running header's words, read from the page (the same for every page that extends base.html.j2)
READ_META = """(() => { const t = s => { const e = document.querySelector(s); return e ? e.textContent.trim() : ''; };
    return {title: t('#page-title'), scope: t('#meta-scope'), period: t('#meta-period'),
            lang: document.body.dataset.lang || (document.documentElement.lang || 'zh').slice(0, 2)}; })()"""

# <details> left closed on paper: specialists' technical listings (the screen page keeps them)
KEEP_CLOSED = "#method-technical, [data-print=closed]"
# Open every other <details>, fit each chart to its card at the printed width, wait for the page's own fitting
# and two frames; then the charts' page boxes and any element that sticks out of the printed column.
PREPARE_PRINT = """(async () => { const KEEP_CLOSED = %s;
    document.querySelectorAll('details').forEach(d => { if (!d.matches(KEEP_CLOSED)) d.open = true; });
    const plots = [...document.querySelectorAll('.plotly-graph-div.js-plotly-plot')];
    if (window.Plotly) await Promise.all(plots.map(p => Plotly.Plots.resize(p)));
    // the page's own fitting (titles wrapped, names shortened, legends moved: base.html.j2) finishes first
    for (let i = 0; i < 100 && document.querySelector('[data-cei-fitting]'); i++) await new Promise(r => setTimeout(r, 100));
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const main = document.querySelector('main') || document.body, limit = main.getBoundingClientRect().right + 1;
    const overflow = [...document.querySelectorAll('main table, main .figure, main .tiles, main p')]
        .filter(e => e.getBoundingClientRect().right > limit)
        .map(e => ({tag: e.tagName.toLowerCase(), id: e.id, right: Math.round(e.getBoundingClientRect().right),
                    limit: Math.round(limit)}));
    const charts = plots.map(p => { const r = p.getBoundingClientRect();
        return {id: p.id, x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height}; })
        .filter(c => c.id && c.w > 0 && c.h > 0);
    return {charts, overflow};
})()""" % json.dumps(KEEP_CLOSED)


def _header_words(meta: PageMeta) -> tuple[str, str]:
    right = " · ".join(x for x in (meta.scope, meta.period) if x)
    return meta.title, right


def header_template(meta: PageMeta) -> str:
    """Running header: report title on the left, scope and period on the right (escaped: data words)."""
    left, right = (html.escape(x) for x in _header_words(meta))
    return (f'<div style="font-family:{FONT_STACK};font-size:8px;color:#52606d;width:100%;'
            f'margin:0 {MARGIN_IN["left"]}in;display:flex;justify-content:space-between;'
            f'border-bottom:0.5px solid #c0c8d0;padding-bottom:2px">'
            f'<span>{left}</span><span>{right}</span></div>')


def footer_template(meta: PageMeta) -> str:
    words = TEXT.get(meta.lang, TEXT["zh"])["page"]
    return (f'<div style="font-family:{FONT_STACK};font-size:8px;color:#52606d;width:100%;'
            f'text-align:center;margin:0 {MARGIN_IN["left"]}in">{words}</div>')


_PAGE_OBJ = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def count_pages(pdf: bytes) -> int:
    """Page objects in a PDF as Chromium writes it (uncompressed object dictionaries)."""
    return len(_PAGE_OBJ.findall(pdf))


# ------------------------------------------------------------------ text a reader can copy and search
# Noto CJK maps a CJK radical and its ideograph to one glyph (⻚ U+2EDA and 页 U+9875, ⽣ U+2F63 and
# 生 U+751F). Chromium's PDF writer (Skia) names each glyph by the lowest code point mapped to it, so
# text copied or searched in its PDFs reads "第 1 ⻚" and "⽣成" instead of "第 1 页" and "生成". The
# ToUnicode maps of the PDF are rewritten to the ideographs: Kangxi radicals (U+2F00–U+2FDF) by their
# Unicode compatibility decomposition (NFKC), the CJK Radicals Supplement (U+2E80–U+2EFF) by the pairs
# below — the ideograph that shares the radical's glyph in every face of Debian's fonts-noto-cjk
# (read from the fonts' cmap tables; radical first, ideograph second).
RADICAL_PAIRS = (
    "⺂乛⺃乚⺅亻⺇𠘨⺉刂⺋㔾⺍𭕄⺎兀⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺟母⺠民⺡氵⺣灬⺤爫⺦丬⺨犭⺩𤣩⺫罒⺭礻⺮𥫗"
    "⺯糹⺰纟⺱罓⺲罒⺳㓁⺹耂⺺肀⺽𦥑⺾艹⺿艹⻁虎⻂衤⻃覀⻄西⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻍辶⻎辶⻐钅⻑長⻒镸⻓长⻔门⻕𨸏"
    "⻖阝⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟")

RADICALS = {RADICAL_PAIRS[i]: RADICAL_PAIRS[i + 1] for i in range(0, len(RADICAL_PAIRS), 2)}


def _ideograph(ch: str) -> str:
    cp = ord(ch)
    if 0x2F00 <= cp <= 0x2FDF:
        return unicodedata.normalize("NFKC", ch)
    return RADICALS.get(ch, ch)


def _hex_text(h: str) -> str:
    try:
        return bytes.fromhex(h).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return ""


_HEX = r"<([0-9A-Fa-f]+)>"
_BFCHAR = re.compile(r"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(r"beginbfrange(.*?)endbfrange", re.S)
_BLOCKS = re.compile(r"\d+\s+begin(?:bfchar|bfrange).*end(?:bfchar|bfrange)", re.S)


def fix_cmap(text: str) -> str | None:
    """A ToUnicode CMap with radicals mapped to their ideographs, or None when it has none."""
    mapping: dict[str, str] = {}
    for block in _BFCHAR.findall(text):
        for src, dst in re.findall(_HEX + r"\s*" + _HEX, block):
            mapping[src] = _hex_text(dst)
    for block in _BFRANGE.findall(text):
        for lo, hi, dst in re.findall(_HEX + r"\s*" + _HEX + r"\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            a, b, width = int(lo, 16), int(hi, 16), len(lo)
            if dst.startswith("["):
                for i, d in enumerate(re.findall(_HEX, dst)):
                    mapping[f"{a + i:0{width}X}"] = _hex_text(d)
            else:
                base = int(dst[1:-1], 16)
                for i in range(b - a + 1):
                    mapping[f"{a + i:0{width}X}"] = _hex_text(f"{base + i:0{len(dst) - 2}X}")
    if not any(0x2E80 <= ord(c) <= 0x2FDF for v in mapping.values() for c in v):
        return None
    pairs = [(k, "".join(_ideograph(c) for c in v)) for k, v in mapping.items() if v]
    body = []
    for i in range(0, len(pairs), 100):
        chunk = pairs[i:i + 100]
        body.append(f"{len(chunk)} beginbfchar\n" + "\n".join(f"<{k}> <{v.encode('utf-16-be').hex().upper()}>"
                                                            for k, v in chunk) + "\nendbfchar")
    span = _BLOCKS.search(text)
    if span is None:
        return None
    return text[:span.start()] + "\n".join(body) + text[span.end():]


_TOUNICODE_REF = re.compile(rb"/ToUnicode\s+(\d+)\s+0\s+R")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER = re.compile(rb"trailer\s*<<(.*?)>>\s*startxref", re.S)


_OBJ_STREAM = re.compile(rb"(\d+) 0 obj\s*<<([^>]*)>>\s*stream\r?\n")
_XREF_HEAD = re.compile(rb"xref\s+(\d+)\s+(\d+)\s+")


def _xref_offsets(pdf: bytes, start: int) -> dict[int, int] | None:
    """Object number -> byte offset from a classic cross-reference table with one section (as Chromium
    writes it); None for anything else (a cross-reference stream, several sections)."""
    m = _XREF_HEAD.match(pdf, start)
    if m is None:
        return None
    first, count = int(m.group(1)), int(m.group(2))
    table = pdf[m.end():m.end() + 20 * count]
    if len(table) < 20 * count:
        return None
    out = {}
    for i in range(count):
        entry = table[20 * i:20 * i + 18]
        if entry[17:18] == b"n":
            out[first + i] = int(entry[:10])
    return out


def fix_text_layer(pdf: bytes) -> bytes:
    """The PDF with every font's ToUnicode map naming ideographs instead of radicals (see above), as an
    incremental update: the changed maps are appended with their own cross-reference section, the
    original bytes are kept. A PDF not laid out as Chromium writes it (classic cross-reference table,
    Flate streams with a direct length) is returned unchanged."""
    tail = _STARTXREF.search(pdf[-64:])
    trailers = _TRAILER.findall(pdf[-4096:])
    if tail is None or not trailers or b"/Encrypt" in trailers[-1]:
        return pdf
    trailer = trailers[-1]
    size = re.search(rb"/Size\s+(\d+)", trailer)
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", trailer)
    info = re.search(rb"/Info\s+(\d+\s+\d+\s+R)", trailer)
    if size is None or root is None:
        return pdf
    offsets = _xref_offsets(pdf, int(tail.group(1)))
    if offsets is None:
        return pdf
    updates: dict[int, bytes] = {}
    for num in sorted({int(n) for n in _TOUNICODE_REF.findall(pdf)}):
        m = _OBJ_STREAM.match(pdf, offsets.get(num, len(pdf)))
        if m is None or int(m.group(1)) != num:
            return pdf
        length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", m.group(2))
        if length is None or b"/FlateDecode" not in m.group(2) or b"/DecodeParms" in m.group(2):
            return pdf
        try:
            cmap = zlib.decompress(pdf[m.end():m.end() + int(length.group(1))]).decode("latin-1")
        except zlib.error:
            return pdf
        fixed = fix_cmap(cmap)
        if fixed is not None:
            data = zlib.compress(fixed.encode("latin-1"), 9)
            updates[num] = (b"%d 0 obj\n<</Filter /FlateDecode\n/Length %d>> stream\n" % (num, len(data))
                            + data + b"\nendstream\nendobj\n")
    if not updates:
        return pdf
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets.clear()
    for num, obj in updates.items():
        offsets[num] = len(out)
        out += obj
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for num in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    out += (b"trailer\n<</Size " + size.group(1) + b"\n/Root " + root.group(1)
            + (b"\n/Info " + info.group(1) if info else b"") + b"\n/Prev %d>>\nstartxref\n%d\n%%%%EOF\n"
            % (int(tail.group(1)), xref))
    return bytes(out)
