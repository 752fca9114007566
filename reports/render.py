"""HTML rendering for every report: one Jinja2 environment, one plotly.js per output folder.

Rules (DESIGN §7, engineering-notes §4):

* **Autoescape is on** for every template. Everything taken from the data — region, respondent,
  platform, product names, failed items — is escaped by Jinja. The only ``Markup`` (``|safe``)
  content is the plotly figure fragment made by :func:`figure_html`.
* **Figures** are ``pio.to_html(fig, full_html=False, include_plotlyjs=False)`` fragments. plotly
  JSON-encodes the figure with ``<``, ``>``, ``/`` and ``&`` written as ``\\u003c`` etc., so a string
  such as ``</script>`` in the data cannot close the fragment's ``<script>`` element
  (tests/test_reports.py checks this). Data strings put into figures additionally go through
  :func:`plot_text`, which HTML-escapes them so plotly.js shows them literally instead of
  interpreting its own tag subset (``<a href>``, ``<b>``, ``<br>``).
* **plotly.js** is written ONCE per output folder as ``plotly.min.js`` (``plotly.offline.get_plotlyjs()``,
  i.e. the bundle shipped with the installed plotly — never a CDN); pages load it with a relative
  ``<script src="plotly.min.js">`` (``../plotly.min.js`` from a sub-folder). The folder works offline.
* One language per output folder: ``lang="zh"`` (default) or ``"en"``; labels come from
  :mod:`reports.labels`.

Index page and report slots
---------------------------
:data:`REPORT_SLOTS` lists every report the folder may hold, in index order; :func:`write_index`
links the slots whose file exists (and the extra files, e.g. an XLSX, that exist). To add a report
built elsewhere (ranked index report, drill-down, dashboard, DQ report):

1. render it with :func:`render_page` (template extending ``base.html.j2``) or write the file
   yourself at the slot's ``filename`` inside the output folder, calling :func:`ensure_plotlyjs`
   and loading ``plotly.min.js`` relatively;
2. call :func:`write_index` (``reports.build_reports`` does it after the reports it builds).

Provisional outputs
-------------------
A period with months the data-quality gate held back or has not judged on current data is
published only on request (``--provisional``), inside ``with render.provisional(banner):``. Every
page rendered then carries the banner (``#provisional-banner``, in ``base.html.j2``) and every XLSX
sheet written with :func:`stamp_provisional` before saving gets it as its first row.

Element ids are stable for browser tests: ``<body data-report="<slot key>">``, sections
``sec-*``, figures ``fig-*`` (the plotly div id), tables ``tbl-*``, index links ``link-<slot key>``.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jinja2
import plotly.io as pio
import plotly.offline
from markupsafe import Markup

from reports import labels

PLOTLY_JS = "plotly.min.js"
# the "provisional: 2025-06 held back by …" line of the outputs being written; "" when publishable
_PROVISIONAL: contextvars.ContextVar[str] = contextvars.ContextVar("provisional_banner", default="")
_ID_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class ReportSlot:
    key: str  # also the page's data-report attribute and the index link id (link-<key>)
    filename: str  # relative to the output folder
    label: str  # labels.py key of the link text
    description: str  # labels.py key of the one-line description
    owner: str  # the module that writes the file (documentation only)
    extra_files: tuple[str, ...] = ()  # further downloads listed next to the link when present


# HOOKS: slots for reports other modules add. Only slots whose file exists are linked.
REPORT_SLOTS: tuple[ReportSlot, ...] = (
    ReportSlot("analysis", "analysis.html", "report.analysis", "desc.analysis",
               "narrative analysis (issue 10 point 1) — reports.narrative", ("analysis.pdf", "analysis.docx")),
    ReportSlot("index_report", "index_report.html", "report.index_report", "desc.index_report",
               "ranked index report (DESIGN §5.1) — reports.index_report; PDF and Word copies: reports.export_files",
               ("index_report.xlsx", "index_report.pdf", "index_report.docx")),
    ReportSlot("drilldown", "drilldown/index.html", "report.drilldown", "desc.drilldown",
               "drill-down pages (DESIGN §5.2) — reports.drilldown; pages in drilldown/ load ../plotly.min.js"),
    ReportSlot("dashboard", "dashboard.html", "report.dashboard", "desc.dashboard",
               "policymaker dashboard (DESIGN §5.3) — reports.dashboard"),
    ReportSlot("complaints_analysis", "complaints_analysis.html", "report.complaints_analysis",
               "desc.complaints_analysis", "reports.complaints_analysis"),
    ReportSlot("key_categories", "key_categories.html", "report.key_categories", "desc.key_categories",
               "lock-on analysis of the five key categories (issue 10 point 6) — reports.key_categories"),
    ReportSlot("kpi_scorecard", "kpi_scorecard.html", "report.kpi_scorecard", "desc.kpi_scorecard",
               "reports.kpi_scorecard"),
    ReportSlot("sampling_report", "sampling_report.html", "report.sampling_report", "desc.sampling_report",
               "reports.sampling_report"),
    ReportSlot("dq_report", "dq_report.html", "report.dq_report", "desc.dq_report",
               "data-quality report (DESIGN §5.7) — reports.dq_report", ("dq_report.xlsx",)),
)
SLOTS = {s.key: s for s in REPORT_SLOTS}


# ------------------------------------------------------------------------------------ formatting
def fmt_int(v: Any) -> str:
    if v is None or _isnan(v):
        return "–"
    return f"{int(round(float(v))):,}"


def fmt_pct(v: Any, digits: int = 1) -> str:
    if v is None or _isnan(v):
        return "–"
    return f"{float(v) * 100:.{digits}f}%"


def fmt_money(v: Any) -> str:
    """Yuan to the whole yuan (a reader does not need the fen); tables of amounts use :func:`fmt_wan`."""
    if v is None or _isnan(v):
        return "–"
    return f"{float(v):,.0f}"


def fmt_wan(v: Any) -> str:
    """Yuan shown in 万元 (10,000 yuan) with the precision the size needs: 1,264 · 35.6 · 0.35."""
    if v is None or _isnan(v):
        return "–"
    w = float(v) / 10_000
    digits = 0 if abs(w) >= 1000 else 1 if abs(w) >= 10 else 2
    return f"{w:,.{digits}f}"


def fmt_pvalue(v: Any) -> str:
    """A p-value as a reader expects it: "p < 0.001", "p = 0.023", "p = 0.41"."""
    if v is None or _isnan(v):
        return "–"
    p = float(v)
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def fmt_num(v: Any, digits: int = 1) -> str:
    if v is None or _isnan(v):
        return "–"
    return f"{float(v):,.{digits}f}"


def _isnan(v: Any) -> bool:
    try:
        return v != v  # NaN, pd.NA raises
    except TypeError:
        return True


def fmt_value(v: Any, kind: str) -> str:
    if kind == "int":
        return fmt_int(v)
    if kind == "pct":
        return fmt_pct(v)
    if kind == "money":  # table columns of amounts: 万元 (their headers say so)
        return fmt_wan(v)
    if kind == "num":
        return fmt_num(v)
    if kind == "num3":
        return fmt_num(v, 3)
    if kind == "pvalue":
        return fmt_pvalue(v)
    if v is None or _isnan(v):
        return "–"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.strftime("%Y-%m-%d")
    return str(v)


# ---------------------------------------------------------------------------------- tables/figs
@dataclass
class Column:
    key: str  # row dict key
    label: str  # already translated header text
    kind: str = "text"  # text | int | pct | money | num | num3 | pvalue | status | date
    numeric: bool = False


@dataclass
class Table:
    id: str  # element id (tbl-...)
    columns: list[Column]
    rows: list[dict]
    caption: str = ""
    note: str = ""
    truncated_from: int | None = None  # total rows when only the first len(rows) are shown

    def __post_init__(self):
        check_id(self.id)
        for c in self.columns:
            if c.kind in ("int", "pct", "money", "num", "num3", "pvalue"):
                c.numeric = True


def table(id: str, columns: Iterable[tuple], frame, caption: str = "", note: str = "", limit: int | None = None) -> Table:
    """A :class:`Table` from a DataFrame; ``columns`` = (key, header[, kind]) tuples."""
    cols = [Column(c[0], c[1], c[2] if len(c) > 2 else "text") for c in columns]
    n = 0 if frame is None else len(frame)
    rows = [] if frame is None else frame.head(limit if limit else n).to_dict("records")
    return Table(id, cols, rows, caption, note, n if limit and n > limit else None)


def check_id(element_id: str) -> str:
    """Element ids are fixed strings chosen in code; never data. Refuse anything else."""
    if not _ID_OK.match(element_id):
        raise ValueError(f"bad element id {element_id!r}")
    return element_id


def plot_text(value: Any) -> str:
    """A data string for a plotly figure, HTML-escaped so plotly.js shows it as plain text."""
    if value is None or _isnan(value):
        return ""
    return html.escape(str(value), quote=False)


PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def figure_html(fig, div_id: str, height: int | None = None) -> Markup:
    """The figure as an HTML fragment (div + script, no plotly.js): the only Markup we emit."""
    check_id(div_id)
    if height:
        fig.update_layout(height=height)
    frag = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG,
                       default_height=f"{height or 420}px", default_width="100%", validate=True)
    return Markup(frag)  # noqa: S704 - plotly JSON-encodes every string (\u003c...), see module doc


# ------------------------------------------------------------------------------------ jinja env
@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(int=fmt_int, pct=fmt_pct, money=fmt_money, wan=fmt_wan, pvalue=fmt_pvalue, num=fmt_num,
                       fmt=fmt_value)
    return env


def ensure_plotlyjs(out_dir: Path) -> Path:
    """Write ``plotly.min.js`` into ``out_dir`` once (rewritten only if its content differs)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / PLOTLY_JS
    js = plotly.offline.get_plotlyjs().encode("utf-8")
    if target.exists() and target.stat().st_size == len(js) and _sha(target.read_bytes()) == _sha(js):
        return target
    tmp = target.with_suffix(".js.tmp")
    tmp.write_bytes(js)
    tmp.replace(target)
    return target


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@contextlib.contextmanager
def provisional(banner: str):
    """Pages and sheets written inside this block carry ``banner`` (nothing when it is empty)."""
    token = _PROVISIONAL.set(banner or "")
    try:
        yield
    finally:
        _PROVISIONAL.reset(token)


def provisional_banner() -> str:
    return _PROVISIONAL.get()


def stamp_provisional(wb) -> None:
    """Inside :func:`provisional`: a first row with the banner on every sheet of ``wb`` (the header
    and data move down one row; frozen panes and filters follow). Call just before saving."""
    banner = _PROVISIONAL.get()
    if not banner:
        return
    from openpyxl.styles import Font, PatternFill

    from index_model.safe_cells import set_cell

    for ws in wb.worksheets:
        ws.insert_rows(1)
        cell = ws.cell(row=1, column=1)
        set_cell(cell, banner)  # text, never a formula
        cell.font = Font(bold=True, color="9C0006")
        cell.fill = PatternFill("solid", fgColor="FFEB9C")
        if ws.freeze_panes:
            col, row = ws.freeze_panes.rstrip("0123456789"), int(ws.freeze_panes.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
            ws.freeze_panes = f"{col}{row + 1}"
        if ws.auto_filter.ref:
            from openpyxl.worksheet.cell_range import CellRange

            rng = CellRange(ws.auto_filter.ref)
            rng.shift(row_shift=1)
            ws.auto_filter.ref = rng.coord


def _root_prefix(filename: str) -> str:
    depth = len(Path(filename).parts) - 1
    return "../" * depth


def render_page(out_dir: Path, filename: str, template: str, *, lang: str, report_key: str, title: str,
                scope_label: str = "", period_label: str = "", generated_at: dt.datetime | None = None,
                **context: Any) -> Path:
    """Render ``template`` to ``out_dir/filename``; the page loads plotly.js from the folder root."""
    labels.check_lang(lang)
    check_id(report_key)
    out_dir = Path(out_dir)
    ensure_plotlyjs(out_dir)
    root = _root_prefix(filename)
    env = environment()
    html_text = env.get_template(template).render(
        lang=lang,
        html_lang=labels.HTML_LANG[lang],
        t=labels.translator(lang),
        v=labels.value_translator(lang),
        report_key=report_key,
        title=title,
        scope_label=scope_label,
        period_label=period_label,
        generated_at=(generated_at or dt.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        plotlyjs_src=root + PLOTLY_JS,
        index_href=root + "index.html",
        provisional_banner=_PROVISIONAL.get(),
        **context,
    )
    target = out_dir / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    tmp.replace(target)
    return target


@dataclass
class IndexEntry:
    key: str
    href: str
    label: str
    description: str
    extras: list[tuple[str, str]] = field(default_factory=list)  # (href, file name)


def available_reports(out_dir: Path, lang: str = "zh") -> list[IndexEntry]:
    """The slots whose file exists in ``out_dir``, in :data:`REPORT_SLOTS` order."""
    t = labels.translator(lang)
    out = []
    for s in REPORT_SLOTS:
        if (Path(out_dir) / s.filename).is_file():
            extras = [(x, Path(x).name) for x in s.extra_files if (Path(out_dir) / x).is_file()]
            out.append(IndexEntry(s.key, s.filename, t(s.label), t(s.description), extras))
    return out


def write_index(out_dir: Path, *, scope_label: str, period_label: str, lang: str = "zh",
                generated_at: dt.datetime | None = None) -> Path:
    """(Re)write ``index.html`` linking every report present in the folder, and the earlier editions of
    the folder kept in its history with what changed (reports.editions; the folder's edition.json is
    this run's record)."""
    from reports import editions

    t = labels.translator(lang)
    eds, now = editions.list_editions(out_dir, lang, editions.read_record(out_dir))
    return render_page(out_dir, "index.html", "index.html.j2", lang=lang, report_key="index",
                       title=t("index.title"), scope_label=scope_label, period_label=period_label,
                       generated_at=generated_at, entries=available_reports(out_dir, lang), editions=eds,
                       edition_changes=now)
