"""Narrative analysis (issue 10 point 1): an analysis report in words, in the register of the regulators'
own annual 12315 analyses, every sentence generated from the data.

    narrative(con, scope, period, lang="zh", *, data=None) -> list[Section]     # gather + compose
    build_analysis(con, scope, period, out_dir, lang="zh", *, data=None, sections=None) -> Path  # analysis.html

Layers: :mod:`.model` (the facts and :class:`Section`), :mod:`.gather` (facts from the warehouse and the
other reports' own computations), :mod:`.compose` (pure: facts -> sections, sentence templates from
:mod:`reports.labels`, keys ``na.*``). The same sections open ``dashboard.html`` and
``index_report.html`` (template macro ``narrative_macros.html.j2``); every string reaches the page
through Jinja autoescape. No Dagster import.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports import labels, render
from reports.narrative.compose import SECTION_KEYS, compose, plain_text
from reports.narrative.gather import gather
from reports.narrative.model import NarrativeInput, Section
from reports.periods import Period, parse_period
from reports.scope import Scope, as_scope

__all__ = ["narrative", "build_analysis", "compose", "gather", "plain_text", "Section", "NarrativeInput",
           "SECTION_KEYS", "OPENING_SECTIONS"]

# the sections that open the dashboard and the ranked report (the whole text is analysis.html)
OPENING_SECTIONS = ("overview",)


def narrative(con, scope: str | Scope, period: str | Period, lang: str = "zh", *, data=None,
              sampling_as_of: dt.date | None = None) -> list[Section]:
    """The analysis sections for a scope and period (``data``: the index outputs' IndexData, if any)."""
    scope, period = as_scope(scope), parse_period(period)
    return compose(gather(con, scope, period, lang, data=data, sampling_as_of=sampling_as_of), lang)


def opening(sections: list[Section] | None) -> list[Section]:
    """The sections shown at the top of the dashboard and the ranked report."""
    return [s for s in sections or [] if s.key in OPENING_SECTIONS]


def build_analysis(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *, data=None,
                   sections: list[Section] | None = None, generated_at: dt.datetime | None = None) -> Path:
    """Write ``analysis.html`` into ``out_dir`` (the ``analysis`` slot); returns its path."""
    scope, period = as_scope(scope), parse_period(period)
    if sections is None:
        sections = narrative(con, scope, period, lang, data=data)
    slot = render.SLOTS["analysis"]
    t = labels.translator(lang)
    return render.render_page(Path(out_dir), slot.filename, "analysis.html.j2", lang=lang, report_key=slot.key,
                              title=t(slot.label), scope_label=scope.label(lang), period_label=period.label(lang),
                              generated_at=generated_at, sections=sections,
                              links=_links(out_dir))


def _links(out_dir: Path) -> list[tuple[str, str, str]]:
    """(id, href, label) of the index outputs next to the analysis (only those that exist)."""
    out = []
    for key in ("index_report", "dashboard", "complaints_analysis", "kpi_scorecard", "sampling_report"):
        s = render.SLOTS[key]
        if (Path(out_dir) / s.filename).is_file():
            out.append((f"link-{key}", s.filename, s.label))
    return out
