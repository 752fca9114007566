"""Ranked index report (DESIGN §5.1): ``index_report.html`` + ``index_report.xlsx``.

Also the shared layer of the three index outputs (this report, :mod:`reports.drilldown`,
:mod:`reports.dashboard`): :func:`load_index_data` reads what the index stage stored and
:data:`IndexData` carries it; the index figures live here too.

Where each number comes from
----------------------------
* Scores, ranks, 5–95 % rank intervals, grades: ``mart.index_scores`` (what the index stage
  published; sql/reports/index_scores.sql), for the period and for
  ``indicators.scores.previous_period`` (rank change; "—" when that period is not stored; when it was
  stored under another spec version its ranks are recomputed under this period's spec, one scale).
* Numerator, denominator, raw value, record count, small-count flag: ``mart.indicator_values``.
* Strengths and weaknesses (``index_model.strengths_weaknesses``), the attribution of score changes
  (``index_model.explain_change``) and the methodology (``index_model.weights_table`` /
  ``methodology_table``, ``indicators.methodology_table``) need the :class:`index_model.IndexResult`:
  it is recomputed from the stored indicator values (``indicators.scores.index_for(..., runs=0)``,
  deterministic, no Monte-Carlo) under **the spec that produced the stored scores**: the stored
  ``spec_version`` must match the spec given (``spec=``), else the shipped spec with that version is
  used (``index_model/specs/*.yaml``), else :class:`SpecNotFound` is raised. If the recomputed scores
  differ from the stored ones (indicator values rewritten after the index ran) the pages say so.

Every string from the data (region names, labels, respondents) is escaped by Jinja (autoescape) or,
inside figures, by :func:`reports.render.plot_text`. The XLSX writes every text cell as a string
(never a formula).
"""
from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

from index_model.safe_cells import neutralise_workbook, set_cell
from reports import labels, render
from reports.figures import GREY, _fig, _layout
from reports.periods import Period, parse_period
from reports.queries import run, table_exists
from reports.render import check_id, fmt_num, fmt_pct, plot_text
from reports.scope import Scope, as_scope, unit_names

SLOT = render.SLOTS["index_report"]
XLSX_NAME = "index_report.xlsx"
SW_N = 3  # strengths / weaknesses per region
PCT_UNITS = ("share", "ratio")  # indicator units shown as percentages
GRADE_COLOURS = {"优": "#2e7d32", "良": "#7cb342", "中": "#f9a825", "差": "#c62828"}
DRIVERS_N = 2
BOARDS_N = 3  # weakest / strongest indicators per region (short boards)
BOARDS_L2_N = 2  # weakest / strongest sub-dimensions per region


class SpecNotFound(LookupError):
    """The stored scores were computed with a spec version that is neither given nor shipped."""


class IndexNotAvailable(LookupError):
    """``mart.index_scores`` holds nothing for the scope and period."""


# ------------------------------------------------------------------------------------------ data
@dataclass
class IndexData:
    scope: Scope
    period: Period
    lang: str
    spec: Any  # index_model.IndexSpec actually used
    result: Any  # index_model.IndexResult (recomputed, no Monte-Carlo)
    cur: pd.DataFrame  # stored mart.index_scores rows of the period
    prev_period: str
    prev: pd.DataFrame  # stored rows of the previous period (may be empty)
    values: pd.DataFrame  # mart.indicator_values of the period
    names: dict[str, str]  # region_code -> display name
    regions: list[str]  # region codes by composite rank
    sw: pd.DataFrame  # strengths_weaknesses (indicators)
    change: Any | None  # index_model.ChangeExplanation (previous -> current) or None
    notes: list[str] = field(default_factory=list)
    stored_spec_versions: tuple[str, ...] = ()
    # noise of each indicator's change (index_model.noise_table), the change verdict per region
    # (index_model.change_verdicts: signal / within noise / drivers) and the short boards with values
    # (index_model.short_boards); empty / None without a previous period
    noise: pd.DataFrame = field(default_factory=pd.DataFrame)
    verdicts: pd.DataFrame | None = None
    boards: pd.DataFrame = field(default_factory=pd.DataFrame)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def root(self) -> str:
        return self.spec.root

    @property
    def dimensions(self) -> list[str]:
        return list(self.spec.children(self.spec.root))

    def nodes_at(self, level: int) -> list[str]:
        return [n for n in self.spec.preorder if self.spec.level[n] == level]

    def label(self, node_id: str) -> str:
        return self.spec.label(node_id, self.lang)

    def is_indicator(self, node_id: str) -> bool:
        return self.spec.nodes[node_id].is_indicator

    def is_pct(self, node_id: str) -> bool:
        node = self.spec.nodes[node_id]
        return bool(node.is_indicator and (node.unit or "") in PCT_UNITS)

    @property
    def has_prev(self) -> bool:
        return not self.prev.empty

    def node(self, node_id: str) -> pd.DataFrame:
        """Stored rows of one node, indexed by region, ordered by rank; with prev_rank and rank_change
        (cached: do not modify the frame)."""
        key = ("node", node_id)
        if key not in self._cache:
            self._cache[key] = self._node(node_id)
        return self._cache[key]

    def _node(self, node_id: str) -> pd.DataFrame:
        d = self.cur[self.cur.node_id == node_id].set_index("region_code")
        d = d.sort_values(["rank", "score"], ascending=[True, False], na_position="last")
        if self.has_prev:
            p = self.prev[self.prev.node_id == node_id].set_index("region_code")["rank"]
            d["prev_rank"] = p.reindex(d.index)
        else:
            d["prev_rank"] = np.nan
        d["rank_change"] = d["prev_rank"] - d["rank"]
        return d

    def n_ranked(self, node_id: str) -> int:
        return int(self.node(node_id)["rank"].notna().sum())

    def value_rows(self, indicator_id: str) -> pd.DataFrame:
        """mart.indicator_values rows of one indicator, indexed by region (cached: do not modify)."""
        key = ("values", indicator_id)
        if key not in self._cache:
            v = self.values
            self._cache[key] = v[v.indicator_id == indicator_id].set_index("region_code") if not v.empty else \
                v.set_index("region_code")
        return self._cache[key]


def region_names(scope: Scope, codes, lang: str = "zh") -> dict[str, str]:
    """Display names of ranked units (one place, so tests can plant a hostile name)."""
    return unit_names(scope, codes, lang)


@lru_cache(maxsize=None)
def _shipped_specs() -> dict[str, str]:
    """spec_version -> path of every spec shipped in index_model/specs/."""
    from index_model import default_spec_path, load_spec

    out = {}
    for p in sorted(default_spec_path().parent.glob("*.y*ml")):
        try:
            out.setdefault(load_spec(p).spec_version, str(p))
        except Exception:  # noqa: BLE001 - a broken extra file must not stop the reports
            continue
    return out


def resolve_report_spec(spec, stored_versions) -> Any:
    """The spec the stored scores were computed with (see module doc)."""
    from index_model import load_spec
    from indicators import resolve_spec

    stored = sorted({str(v) for v in stored_versions if v is not None and v == v})
    if spec is not None:
        sp = resolve_spec(spec)
        if stored and sp.spec_version not in stored:
            raise SpecNotFound(f"the stored index scores were computed with spec_version {', '.join(stored)}, "
                               f"not {sp.spec_version!r}: pass the spec that produced them")
        return sp
    default = resolve_spec(None)
    if not stored or default.spec_version in stored:
        return default
    for v in stored:
        if v in _shipped_specs():
            return load_spec(_shipped_specs()[v])
    raise SpecNotFound(f"the stored index scores were computed with spec_version {', '.join(stored)}, which is "
                       "not shipped in index_model/specs/: pass spec=<the YAML used by the index stage>")


def check_data(d: IndexData, scope, period, lang: str) -> IndexData:
    """A pre-loaded :class:`IndexData` must be for the scope, period and language being built."""
    if d.lang != lang or d.scope.key != as_scope(scope).key or d.period.key != parse_period(period).key:
        raise ValueError(f"data is for {d.scope.key}/{d.period.key}/{d.lang}, not {scope}/{period}/{lang}")
    return d


def index_available(con, scope: str | Scope, period: str | Period) -> bool:
    """True when ``mart.index_scores`` holds rows for the scope and period."""
    if not table_exists(con, "mart", "index_scores"):
        return False
    scope, period = as_scope(scope), parse_period(period)
    return int(run(con, "index_periods", scope=scope.key, period=period.key)["n_rows"].iloc[0]) > 0


def load_index_data(con, scope: str | Scope, period: str | Period, lang: str = "zh", *, spec=None) -> IndexData:
    """Everything the three index outputs show, for one scope and period (see module doc)."""
    from index_model import attribute_change, change_verdicts, explain_change, short_boards, strengths_weaknesses
    from indicators.scores import index_for, indicator_noise, previous_period

    labels.check_lang(lang)
    scope, period = as_scope(scope), parse_period(period)
    if not index_available(con, scope, period):
        raise IndexNotAvailable(f"mart.index_scores has no rows for scope {scope.key}, period {period.key}: "
                                "run the index stage first")
    prev_key = previous_period(period.key)
    stored = run(con, "index_scores", scope=scope.key, period=period.key, previous=prev_key)
    stored["region_code"] = stored["region_code"].astype(str)
    cur = stored[stored.period == period.key].reset_index(drop=True)
    prev = stored[stored.period == prev_key].reset_index(drop=True)
    versions = tuple(sorted(set(cur.spec_version.dropna())))
    sp = resolve_report_spec(spec, versions)
    notes: list[str] = []
    t = labels.translator(lang)
    known = set(sp.preorder)
    if not set(cur.node_id) <= known:
        raise SpecNotFound(f"stored nodes {sorted(set(cur.node_id) - known)[:5]} are not in spec {sp.spec_version}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_ = index_for(con, scope.key, period.key, sp, runs=0)
    if run_ is None:
        raise IndexNotAvailable(f"mart.indicator_values has no rows for scope {scope.key}, period {period.key}")
    result = run_.result
    # the recomputation must reproduce what was published
    wide = cur.pivot(index="region_code", columns="node_id", values="score")
    common_u = [u for u in wide.index if u in result.scores.index]
    common_n = [n for n in wide.columns if n in result.scores.columns]
    diff = (wide.loc[common_u, common_n] - result.scores.loc[common_u, common_n]).abs().to_numpy()
    diff = float(np.nanmax(diff)) if diff.size and not np.all(np.isnan(diff)) else 0.0
    if diff > 1e-6 or set(wide.index) != set(result.scores.index):
        msg = t("ir.note.recomputed_differs", diff=f"{diff:.3g}")
        notes.append(msg)
        warnings.warn(f"scope {scope.key} period {period.key}: {msg}", stacklevel=2)
    values = (run(con, "index_indicator_values", scope=scope.key, period=period.key)
              if table_exists(con, "mart", "indicator_values") else pd.DataFrame(
                  columns=["region_code", "indicator_id", "numerator", "denominator", "value", "raw_value",
                           "record_count", "min_records", "small_count", "treatment", "scope_value", "spec_version"]))
    values["region_code"] = values["region_code"].astype(str)
    top = cur[cur.node_id == sp.root].sort_values(["rank", "score", "region_code"], ascending=[True, False, True],
                                                  na_position="last")
    regions = list(top.region_code)
    names = region_names(scope, regions, lang)
    sw = strengths_weaknesses(result, n=SW_N)
    change = None
    prev_run = None
    if not prev.empty:
        prev_versions = set(prev.spec_version.dropna())
        other_spec = bool(prev_versions) and prev_versions != set(versions)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prev_run = index_for(con, scope.key, prev_key, sp, runs=0)
            if prev_run is not None:
                change = explain_change(prev_run.result, result)
        except (ValueError, KeyError):  # different hierarchy / non-positive geometric values
            change = None
        if other_spec and prev_run is not None:
            # one scale: the previous period's ranks recomputed under this period's spec (and goalposts)
            lg = prev_run.result.long().rename(columns={"unit": "region_code"})
            prev = lg[["region_code", "node_id", "score", "rank"]].assign(
                period=prev_key, spec_version=sp.spec_version)
            notes.append(t("ir.note.prev_recomputed", prev=", ".join(sorted(prev_versions)), cur=sp.spec_version))
        elif other_spec:
            notes.append(t("ir.note.prev_spec", prev=", ".join(sorted(prev_versions)), cur=", ".join(versions)))
    # noise: every rate's interval from its counts; a change is attributed only beyond noise (issue 9)
    noise, verdicts = pd.DataFrame(), None
    if prev_run is not None and table_exists(con, "mart", "indicator_values"):
        prev_values = run(con, "index_indicator_values", scope=scope.key, period=prev_key)
        noise = indicator_noise(sp, prev_values, values)
        if change is not None and not noise.empty:
            verdicts = change_verdicts(change.summary, attribute_change(change.effects, noise), n_drivers=DRIVERS_N)
    boards = short_boards(result, previous=prev_run.result if prev_run is not None else None,
                          noise=noise if not noise.empty else None, n_indicators=BOARDS_N, n_subdimensions=BOARDS_L2_N)
    return IndexData(scope=scope, period=period, lang=lang, spec=sp, result=result, cur=cur, prev_period=prev_key,
                     prev=prev, values=values, names=names, regions=regions, sw=sw, change=change, notes=notes,
                     stored_spec_versions=versions, noise=noise, verdicts=verdicts, boards=boards)


# ------------------------------------------------------------------------------------ formatting
def fmt_rank(v: Any) -> str:
    if v is None or _nan(v):
        return "–"
    return str(int(math.floor(float(v) + 0.5)))


def fmt_interval(lo: Any, hi: Any) -> str:
    if lo is None or _nan(lo) or hi is None or _nan(hi):
        return "–"
    return f"{fmt_rank(lo)}–{fmt_rank(hi)}"


def change_text(ch: Any) -> tuple[str, str]:
    """(text, css class) of a rank change; "—" when the previous period has no rank."""
    if ch is None or _nan(ch):
        return "—", "none"
    ch = int(ch)
    if ch > 0:
        return f"▲{ch}", "up"
    if ch < 0:
        return f"▼{-ch}", "down"
    return "＝", "same"


def fmt_indicator_value(d: IndexData, indicator_id: str, v: Any) -> str:
    if v is None or _nan(v):
        return "–"
    return fmt_pct(v) if d.is_pct(indicator_id) else fmt_num(v, 2)


def fmt_count(v: Any) -> str:
    if v is None or _nan(v):
        return "–"
    f = float(v)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.2f}"


def _nan(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def spec_display(spec, lang: str = "zh") -> str:
    """The index specification as a reader names it: "消费环境指数（第2版）" — never the file or the
    internal version key ("default_v2"); a spec whose version key has no number is shown by its name
    and key."""
    import re

    t = labels.translator(lang)
    name = str((spec.name_zh if lang == "zh" else spec.name_en) or spec.name_zh or spec.name_en or "").strip()
    m = re.search(r"v(\d+)$", str(spec.spec_version))
    version = t("spec.version_n", n=m.group(1)) if m else str(spec.spec_version)
    return t("spec.display", name=name, version=version)


def grade_text(d: IndexData, g: Any) -> str:
    if g is None or _nan(g):
        return "–"
    return labels.value_label(g, d.lang)


def sw_items(d: IndexData, unit: str, kind: str) -> list[dict]:
    s = d.sw[(d.sw.unit == unit) & (d.sw.kind == kind)].sort_values("order")
    return [{"node_id": r.node_id, "label": d.label(r.node_id), "rank": int(r.rank), "n": int(r.n_ranked),
             "score": r.score, "dimension": d.label(r.dimension_id)} for r in s.itertuples()]


def sw_text(d: IndexData, unit: str, kind: str) -> str:
    t = labels.translator(d.lang)
    return t("ir.sw.sep").join(t("ir.sw.item", label=i["label"], rank=i["rank"], n=i["n"]) for i in sw_items(d, unit, kind))


def verdict(d: IndexData, unit: str) -> dict | None:
    """The noise verdict of a region's composite change (index_model.change_verdicts), or None."""
    if d.verdicts is None or d.verdicts.empty:
        return None
    v = d.verdicts[d.verdicts.unit == unit]
    return None if v.empty else v.iloc[0].to_dict()


def drivers(d: IndexData, unit: str) -> tuple[float | None, list[dict]]:
    """Score change of the composite and its largest indicator effects (explain_change) — only effects of
    changes beyond the indicator's noise when the noise is measured (index_model.noise)."""
    if d.change is None:
        return None, []
    s = d.change.summary
    row = s[s.unit == unit]
    if row.empty or _nan(row["delta"].iloc[0]):
        return None, []
    v = verdict(d, unit)
    if v is not None:
        return float(row["delta"].iloc[0]), [{"node_id": c, "label": d.label(c), "effect": float(x)}
                                             for c, x in v["drivers"]]
    e = d.change.effects
    e = e[(e.unit == unit) & (e.kind == "indicator")].copy()
    e = e.reindex(e["effect"].abs().sort_values(ascending=False).index).head(DRIVERS_N)
    return float(row["delta"].iloc[0]), [{"node_id": r.component_id, "label": d.label(r.component_id),
                                          "effect": float(r.effect)} for r in e.itertuples()]


def drivers_text(d: IndexData, unit: str) -> tuple[str, str]:
    """(score change, drivers): the attributed drivers, then the part of the change within noise; "within
    noise" (在噪声范围内) when no indicator's change exceeds its noise."""
    t = labels.translator(d.lang)
    delta, items = drivers(d, unit)
    if delta is None:
        return "—", ""
    v = verdict(d, unit)
    if v is not None and v["verdict"] == "within_noise":
        return f"{delta:+.2f}", t("ir.change.within_noise")
    text = t("ir.sw.sep").join(f"{i['label']} {i['effect']:+.2f}" for i in items)
    if v is not None and abs(v["noise"]) >= 0.005:
        text += t("ir.change.noise_part", x=f"{v['noise']:+.2f}")
    return f"{delta:+.2f}", text


# ------------------------------------------------------------------------------ noise, short boards
TRENDS = ("improved", "worsened", "within_noise", "unchanged")


def value_intervals(d: IndexData) -> dict[tuple[str, str], tuple[float, float]]:
    """(indicator_id, region_code) -> the 95 % interval of the value from its stored counts (cached)."""
    key = ("intervals",)
    if key not in d._cache:
        from index_model import noise_models, value_interval
        from indicators import definitions

        defs = definitions()
        models = noise_models(d.spec, {k: x.kind for k, x in defs.items()})
        level = float((getattr(d.spec.methods, "noise", None) or {}).get("level", 0.95))
        out: dict = {}
        v = d.values
        for iid, g in (v.groupby("indicator_id") if not v.empty else []):
            lo, hi = value_interval(models.get(iid, "none"), g["numerator"], g["denominator"],
                                    defs[iid].scale if iid in defs else 1.0, level)
            out.update({(iid, str(c)): (a, b) for c, a, b in zip(g["region_code"], lo, hi)})
        d._cache[key] = out
    return d._cache[key]


def interval_text(d: IndexData, indicator_id: str, code: str) -> str:
    """"lo–hi" of the value's 95 % interval, "–" without a sampling model."""
    lo, hi = value_intervals(d).get((indicator_id, code), (np.nan, np.nan))
    if _nan(lo) or _nan(hi):
        return "–"
    return f"{fmt_indicator_value(d, indicator_id, lo)}–{fmt_indicator_value(d, indicator_id, hi)}"


def change_noise(d: IndexData, indicator_id: str, code: str) -> tuple[str, str]:
    """(change against the previous period, verdict text) of one indicator value: the verdict says whether
    the change exceeds the indicator's noise (MOVER interval of the difference excludes 0)."""
    t = labels.translator(d.lang)
    if d.noise is None or d.noise.empty:
        return "–", ""
    key = ("noise_idx",)
    if key not in d._cache:
        d._cache[key] = d.noise.set_index(["indicator_id", "region_code"])
    nz = d._cache[key]
    if (indicator_id, code) not in nz.index:
        return "–", ""
    r = nz.loc[(indicator_id, code)]
    if _nan(r["delta"]):
        return "–", ""
    txt = fmt_delta(d, indicator_id, r["delta"])
    if float(r["delta"]) == 0:
        return txt, t("ir.sb.trend.unchanged")
    if _nan(r["beyond_noise"]):
        return txt, t("ir.noise.not_measured")
    return txt, t("ir.noise.beyond") if bool(r["beyond_noise"]) else t("ir.change.within_noise")


def fmt_delta(d: IndexData, indicator_id: str, v: Any) -> str:
    """A signed difference of an indicator's values (percentage points for shares), or of scores."""
    if v is None or _nan(v):
        return "–"
    t = labels.translator(d.lang)
    if indicator_id in d.spec.nodes and d.is_pct(indicator_id):
        return t("ir.sb.pp", v=f"{float(v) * 100:+.1f}")
    return f"{float(v):+.2f}"


def board_rows(d: IndexData, unit: str) -> list[dict]:
    """The short boards and strengths of one region (index_model.short_boards), formatted."""
    t = labels.translator(d.lang)
    b = d.boards
    if b is None or b.empty:
        return []
    b = b[b.unit == unit]
    out = []
    for r in b.itertuples():
        is_ind = r.level == "indicator"
        fmt = (lambda v, _n=r.node_id: fmt_indicator_value(d, _n, v)) if is_ind else (lambda v: fmt_num(v, 1))
        out.append({
            "level": t("ir.sb.level." + r.level), "kind": t("ir.sb.kind." + r.kind), "kind_raw": r.kind,
            "node_id": r.node_id, "label": d.label(r.node_id), "value": fmt(r.value),
            "target": fmt(r.target) if not _nan(r.target) else "–", "median": fmt(r.median),
            "reference": t("ir.sb.ref." + r.reference),
            "gap": fmt_delta(d, r.node_id, r.gap) if is_ind else f"{r.gap:+.1f}",
            "gap_points": f"{r.gap_points:+.1f}",
            "previous": fmt(r.previous_value) if not _nan(r.previous_value) else "–",
            "change": (fmt_delta(d, r.node_id, r.change) if is_ind else f"{r.change:+.1f}") if not _nan(r.change) else "–",
            "trend": t("ir.sb.trend." + r.trend) if isinstance(r.trend, str) and r.trend in TRENDS else "–",
            "trend_raw": r.trend if isinstance(r.trend, str) else "",
            "self_reported": bool(r.self_reported),
        })
    return out


def board_tables(d: IndexData, href_region: Callable[[str], str] | None = None) -> list[dict]:
    return [{"code": c, "name": d.names.get(c, c), "href": href_region(c) if href_region else "",
             "rows": board_rows(d, c)} for c in d.regions]


def self_reported_labels(d: IndexData) -> list[str]:
    """Labels of the spec's indicators built on self-reported figures (their caveat is printed)."""
    return [d.label(i.id) for i in d.spec.indicators if getattr(i, "self_reported", False)]


# --------------------------------------------------------------------------------------- figures
def click_figure_html(fig: go.Figure, div_id: str, height: int | None = None, event: str = "plotly_click") -> Markup:
    """Like :func:`reports.render.figure_html`, plus a click handler that opens ``customdata[0]`` — a
    relative page name built in code (checked again in the browser against a strict pattern)."""
    check_id(div_id)
    if event not in ("plotly_click", "plotly_sunburstclick", "plotly_treemapclick"):
        raise ValueError(f"bad event {event!r}")
    if height:
        fig.update_layout(height=height)
    js = ("var gd=document.getElementById('{plot_id}');"
          "gd.on('" + event + "',function(ev){var p=ev&&ev.points&&ev.points[0];"
          "var c=p&&(p.customdata||(p.data&&p.data.customdata&&p.data.customdata[0]));var h=c&&c[0];"
          "if(typeof h==='string'&&/^[A-Za-z0-9_.\\/#-]+$/.test(h)&&h.indexOf('..')===-1){"
          "window.location.href=h;return false;}});")
    frag = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=render.PLOTLY_CONFIG,
                       default_height=f"{height or 420}px", default_width="100%", validate=True, post_script=js)
    return Markup(frag)  # noqa: S704 - plotly JSON-encodes the data; the script text is fixed


def _rank_order(d: IndexData, node: str) -> pd.DataFrame:
    return d.node(node)


def fig_rank_uncertainty(d: IndexData, node: str | None = None) -> go.Figure:
    """Nominal rank (◆) and the Monte-Carlo 5–95 % interval (bar) per region, best at the top."""
    t = labels.translator(d.lang)
    node = node or d.root
    nd = _rank_order(d, node)
    nd = nd[nd["rank"].notna()]
    n = len(nd)
    rows = nd.iloc[::-1]
    ys = [plot_text(d.names.get(c, c)) for c in rows.index]
    lo = rows["rank_low"].fillna(rows["rank"]).astype(float)
    hi = rows["rank_high"].fillna(rows["rank"]).astype(float)
    rk = rows["rank"].astype(float)
    fig = _fig()
    fig.add_bar(y=ys, x=(hi - lo).clip(lower=0.12), base=lo, orientation="h", marker_color="rgba(31,119,180,0.35)",
                name=plot_text(t("ir.fig.interval")), hoverinfo="skip")
    fig.add_scatter(y=ys, x=rk, mode="markers", marker={"symbol": "diamond", "size": 11, "color": "#12355b"},
                    name=plot_text(t("ir.fig.nominal_rank")),
                    customdata=np.stack([lo.to_numpy(), hi.to_numpy()], axis=1),
                    hovertemplate="%{y}<br>" + plot_text(t("col.ir.rank")) + " %{x}<br>5–95%: %{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>")
    fig.update_xaxes(title_text=plot_text(t("ir.fig.rank_axis")), range=[0.4, max(n, 1) + 0.6], dtick=1 if n <= 40 else None)
    fig.update_yaxes(type="category", automargin=True)
    _layout(fig, t("ir.fig.uncertainty", node=d.label(node)), height=max(340, 100 + 26 * n), barmode="overlay")
    fig.update_layout(legend={"orientation": "h", "x": 1.0, "y": 1.0, "yanchor": "bottom", "xanchor": "right"},
                      margin={"t": 80})
    return fig


def fig_ranking_bars(d: IndexData, href: Callable[[str], str] | None = None, node: str | None = None) -> go.Figure:
    """Scores of one node (default: the composite) per region, best at the top, coloured by grade."""
    t = labels.translator(d.lang)
    node = node or d.root
    nd = _rank_order(d, node)
    nd = nd[nd["score"].notna()].iloc[::-1]
    ys = [plot_text(d.names.get(c, c)) for c in nd.index]
    colours = [GRADE_COLOURS.get(g, GREY) if isinstance(g, str) else GREY for g in nd["grade"]]
    text = [f"{s:.1f}" for s in nd["score"]]
    custom = [[href(c) if href else "", plot_text(grade_text(d, g))] for c, g in zip(nd.index, nd["grade"])]
    fig = _fig(go.Bar(y=ys, x=nd["score"], orientation="h", text=text, textposition="auto", marker_color=colours,
                      customdata=custom,
                      hovertemplate="%{y}: %{x:.2f} (%{customdata[1]})<extra></extra>"))
    fig.update_xaxes(title_text=plot_text(t("ir.fig.score_axis")), range=[0, 105])
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, t("ir.fig.ranking", node=d.label(node)), height=max(320, 70 + 26 * len(nd)))


def fig_dimension_heatmap(d: IndexData) -> go.Figure:
    t = labels.translator(d.lang)
    dims = d.dimensions
    wide = d.cur.pivot(index="region_code", columns="node_id", values="score").reindex(index=d.regions, columns=dims)
    z = wide.to_numpy(dtype=float)
    text = [[("" if np.isnan(v) else f"{v:.1f}") for v in row] for row in z]
    fig = _fig(go.Heatmap(z=z, x=[plot_text(d.label(c)) for c in dims], y=[plot_text(d.names.get(c, c)) for c in wide.index],
                          colorscale="RdYlGn", zmin=0, zmax=100, text=text, texttemplate="%{text}",
                          colorbar={"title": {"text": plot_text(t("ir.fig.score_axis"))}},
                          hovertemplate="%{y} · %{x}: %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    _layout(fig, t("ir.fig.heatmap"), height=max(360, 130 + 30 * len(wide)))
    fig.update_layout(margin={"t": 95})
    return fig


def fig_dimension_radar(d: IndexData, regions: list[str] | None = None) -> go.Figure:
    t = labels.translator(d.lang)
    dims = d.dimensions
    wide = d.cur.pivot(index="region_code", columns="node_id", values="score")
    fig = _fig()
    theta = [plot_text(d.label(c)) for c in dims] + [plot_text(d.label(dims[0]))]
    mean = wide[dims].mean()
    fig.add_scatterpolar(r=list(mean) + [mean.iloc[0]], theta=theta, name=plot_text(t("ir.fig.scope_mean")),
                         line={"color": "#777", "dash": "dash"})
    for c in regions or d.regions[:3]:
        if c not in wide.index:
            continue
        r = wide.loc[c, dims]
        fig.add_scatterpolar(r=list(r) + [r.iloc[0]], theta=theta, name=plot_text(d.names.get(c, c)), fill="toself",
                             opacity=0.55)
    fig.update_layout(polar={"radialaxis": {"range": [0, 100]}})
    return _layout(fig, t("ir.fig.radar"), height=460)


def fig_hierarchy_sunburst(d: IndexData, colour: pd.Series, href: Callable[[str], str] | None, title: str) -> go.Figure:
    """The spec's hierarchy: segment size = effective weight, colour = ``colour[node]`` (0–100, grey when
    missing), ``customdata[0]`` = the page a click opens (drill-down)."""
    from plotly.colors import sample_colorscale

    from index_model import weights_table

    t = labels.translator(d.lang)
    wt = weights_table(d.result).set_index("node_id")
    ids = list(d.spec.preorder)
    values = [float(wt.at[n, "effective_weight"]) if d.is_indicator(n) else 0.0 for n in ids]
    score = [colour.get(n) for n in ids]
    ok = [v is not None and pd.notna(v) for v in score]
    shades = sample_colorscale("RdYlGn", [min(max(float(v) / 100, 0.0), 1.0) for v, k in zip(score, ok) if k]) if any(ok) else []
    it = iter(shades)
    colours = [next(it) if k else "#cfd8dc" for k in ok]
    custom = [[href(n) if href else "", f"{float(v):.1f}" if k else "–", f"{wt.at[n, 'effective_weight']:.1%}"]
              for n, v, k in zip(ids, score, ok)]
    fig = _fig(go.Sunburst(
        ids=ids, parents=[d.spec.parent.get(n) or "" for n in ids], labels=[plot_text(d.label(n)) for n in ids],
        values=values, branchvalues="remainder", customdata=custom, insidetextorientation="radial",
        marker={"colors": colours, "line": {"color": "white", "width": 1}},
        hovertemplate="%{label}<br>" + plot_text(t("ir.fig.weight")) + " %{customdata[2]}<br>"
                      + plot_text(t("ir.fig.score_axis")) + " %{customdata[1]}<extra></extra>"))
    # the colour scale, drawn by an empty helper trace (a sunburst with explicit colours has none)
    fig.add_scatter(x=[None], y=[None], mode="markers", hoverinfo="skip", showlegend=False,
                    marker={"color": [0], "colorscale": "RdYlGn", "cmin": 0, "cmax": 100, "showscale": True,
                            # under the rings, across: at a phone's width an upright scale beside them took
                            # half the card and left the rings too small to read (390 px screenshot)
                            "colorbar": {"title": {"text": plot_text(t("ir.fig.score_axis")), "side": "top"},
                                         "orientation": "h", "x": 0.5, "xanchor": "center", "y": 0, "yanchor": "top",
                                         "len": 0.6, "thickness": 12}})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 70})
    return _layout(fig, title, height=620)


def sunburst_colour_mean(d: IndexData) -> pd.Series:
    return d.cur.groupby("node_id")["score"].mean()


# ------------------------------------------------------------------------------------------ tables
def ranking_rows(d: IndexData, href: Callable[[str], str] | None = None) -> list[dict]:
    top = d.node(d.root)
    dims = {n: d.node(n) for n in d.dimensions}
    n = d.n_ranked(d.root)
    rows = []
    for code in d.regions:
        r = top.loc[code]
        ch, cls = change_text(r["rank_change"]) if d.has_prev else ("—", "none")
        delta, drv = drivers_text(d, code)
        rows.append({
            "code": code, "name": d.names.get(code, code), "href": href(code) if href else "",
            "rank": fmt_rank(r["rank"]), "n": n, "score": fmt_num(r["score"], 2),
            "change": ch, "change_class": cls, "prev_rank": fmt_rank(r["prev_rank"]),
            "interval": fmt_interval(r["rank_low"], r["rank_high"]), "median": fmt_rank(r["rank_median"]),
            "grade": grade_text(d, r["grade"]), "grade_raw": r["grade"] if isinstance(r["grade"], str) else "",
            "dims": [{"score": fmt_num(dims[k].at[code, "score"], 2) if code in dims[k].index else "–",
                      "rank": fmt_rank(dims[k].at[code, "rank"]) if code in dims[k].index else "–"} for k in d.dimensions],
            "delta": delta, "drivers": drv,
        })
    return rows


def hierarchy_rows(d: IndexData, href: Callable[[str], str] | None = None) -> list[dict]:
    """The hierarchy of the spec used, with weights and directions (methodology)."""
    from index_model import weights_table

    t = labels.translator(d.lang)
    wt = weights_table(d.result)
    rows = []
    for r in wt.itertuples():
        nid = r.node_id
        is_ind = r.node_type == "indicator"
        parent = r.parent_id
        weighting = d.spec.weighting_of(parent).get("method", "equal") if parent else ""
        rows.append({
            "id": nid, "level": int(r.level), "label": d.label(nid), "href": href(nid) if href else "",
            "type": level_text(d, int(r.level)),
            "direction": (t("ir.dir.up_short") if r.direction > 0 else t("ir.dir.down_short")) if is_ind else "",
            "local_weight": fmt_pct(r.local_weight), "effective_weight": fmt_pct(r.effective_weight, 2),
            "weighting": t("ir.weighting." + weighting) if parent and weighting in WEIGHTING else (weighting or ""),
            "aggregation": t("ir.aggregation." + r.aggregation) if r.aggregation in AGGREGATION else (r.aggregation or ""),
            "normalisation": (t("ir.norm." + r.normalisation) if r.normalisation in NORMALISATION else (r.normalisation or ""))
                             + (goalpost_text(d, nid) if is_ind else ""),
            "target": (fmt_pct(r.target) if d.is_pct(nid) else fmt_num(r.target, 2)) if is_ind and pd.notna(r.target) else "",
            "min_records": fmt_rank(r.min_records) if is_ind and pd.notna(r.min_records) and r.min_records > 0 else "",
            "source": source_text(d, r.source) if is_ind else "",
        })
    return rows


def goalpost_text(d: IndexData, nid: str) -> str:
    """`` [low, high]`` of an indicator on fixed goalposts (as resolved for this scope and period), else ''."""
    p = d.result.spec.normalisation_of(nid)
    if p.get("method") != "goalposts" or "low" not in p:
        return ""
    fmt = (lambda v: fmt_pct(v)) if d.is_pct(nid) else (lambda v: fmt_num(v, 3))
    return f" [{fmt(p['low'])}, {fmt(p['high'])}]"


def level_text(d: IndexData, level: int) -> str:
    key = f"ir.level.{level}"
    return labels.label(key, d.lang) if key in labels.LABELS else f"L{level}"


def source_text(d: IndexData, source: Any) -> str:
    if not isinstance(source, str) or not source:
        return ""
    key = "ir.source." + source
    return labels.label(key, d.lang) if key in labels.LABELS else source


def unit_text(d: IndexData, unit: Any) -> str:
    if not isinstance(unit, str) or not unit:
        return ""
    key = "ir.unit." + unit
    return labels.label(key, d.lang) if key in labels.LABELS else unit


WEIGHTING = ("equal", "fixed", "ahp", "entropy")
AGGREGATION = ("arithmetic", "geometric")
NORMALISATION = ("minmax", "zscore", "distance_to_target", "percentile_rank", "goalposts")


def _params(p, lang: str = "zh") -> str:
    """The parameters a reader needs, in words (the base period); the rest (scale, log, …) are in the
    workbook's technical sheet, not on the page."""
    t = labels.translator(lang)
    items = [t("ir.m.base_period", year=v) for k, v in dict(p).items() if k == "base_period" and v]
    return f"（{'；'.join(items)}）" if items else ""


def in_language(text: str, lang: str = "zh") -> str:
    """The part of a bilingual spec text "中文（…）/ English" in the report's language (the whole text
    when it has no such slash)."""
    import re

    parts = re.split(r"(?<=[\u3000-\u9fff\uff01-\uff5e])\s*/\s*(?=[A-Za-z])", str(text), maxsplit=1)
    if len(parts) < 2:
        return str(text)
    return parts[0].strip() if lang == "zh" else " ".join(parts[1].split())


def treatment_text(treatment, lang: str = "zh") -> str:
    """A small-count treatment in words (shrink, flag, none)."""
    key = f"ir.treatment.{treatment}"
    return labels.label(key, lang) if key in labels.LABELS else (str(treatment) if treatment else "–")


def method_rows(d: IndexData) -> list[tuple[str, str]]:
    """Human-readable method choices of the spec used (label, text)."""
    t = labels.translator(d.lang)
    sp = d.spec
    m = sp.methods
    norm = dict(m.normalisation)
    nm = norm.get("method", "")
    overrides = [i.id for i in sp.indicators if i.normalisation]
    w = dict(m.weighting)
    w_over = [a for a in sp.aggregate_ids if sp.nodes[a].weighting]
    agg_over = [a for a in sp.aggregate_ids if sp.nodes[a].aggregation]
    sc = dict(m.small_count)
    unc = dict(m.uncertainty)
    rows = [
        (t("ir.m.spec"), spec_display(sp, d.lang)),
        (t("ir.m.normalisation"), (t("ir.norm." + nm) if nm in NORMALISATION else nm) + _params(norm, d.lang)
         + (t("ir.m.overrides", items=", ".join(d.label(i) for i in overrides)) if overrides else "")),
        (t("ir.m.direction"), t("ir.m.direction_text")),
        (t("ir.m.weighting"), (t("ir.weighting." + w.get("method", "equal")) if w.get("method", "equal") in WEIGHTING
                               else str(w.get("method"))) + _params(w, d.lang)
         + (t("ir.m.overrides", items=", ".join(d.label(a) for a in w_over)) if w_over else "")),
        (t("ir.m.aggregation"), (t("ir.aggregation." + m.aggregation) if m.aggregation in AGGREGATION else m.aggregation)
         + (t("ir.m.overrides", items=", ".join(d.label(a) for a in agg_over)) if agg_over else "")),
        (t("ir.m.missing"), t("ir.m.missing_text", cov=f"{m.min_coverage:.0%}")),
        (t("ir.m.small_count"), t("ir.m.small_count_text", treatment=treatment_text(sc.get("treatment", "none"), d.lang))),
        (t("ir.m.noise"), t("ir.m.noise_text", level=f"{float(dict(getattr(m, 'noise', None) or {}).get('level', 0.95)):.0%}")),
        (t("ir.m.ranking"), t("ir.m.ranking_text")),
        (t("ir.m.grades"), "、".join(f"{labels.value_label(lab, d.lang)} ≥ {lo:g}" if lo is not None
                                     else f"{labels.value_label(lab, d.lang)} {t('ir.m.otherwise')}" for lab, lo in m.grades)
         + "".join(f"；{labels.value_label(lab, d.lang)}：{in_language(m.grade_meanings[lab], d.lang)}" for lab, _ in m.grades
                   if lab in getattr(m, "grade_meanings", {}))
         or "–"),
    ]
    if unc:
        wcfg = unc.get("weights", {"method": "uniform", "spread": 0.25})
        wcfg = {"method": wcfg} if isinstance(wcfg, str) else dict(wcfg)
        norms = unc.get("normalisations") or [norm]
        aggs = unc.get("aggregations") or [m.aggregation]
        rows.append((t("ir.m.uncertainty"), t(
            "ir.m.uncertainty_text", runs=unc.get("runs", 1000), seed=unc.get("seed", 0),
            weights=f"{wcfg.get('method', 'uniform')}" + (f" ±{float(wcfg.get('spread', 0.25)):.0%}" if wcfg.get("method", "uniform") == "uniform" else ""),
            norms="、".join((t("ir.norm." + n["method"]) if isinstance(n, dict) and n.get("method") in NORMALISATION else str(n)) for n in norms),
            aggs="、".join(t("ir.aggregation." + a) if a in AGGREGATION else str(a) for a in aggs))))
    for aid in sp.aggregate_ids:
        inf = d.result.weight_info.get(aid, {})
        if inf.get("method") == "ahp":
            rows.append((t("ir.m.ahp", node=d.label(aid)),
                         f"CR = {inf['cr']:.4f}, λmax = {inf['lambda_max']:.4f}, RI = {inf['ri']} ({inf['random_index_table']})"))
        elif inf.get("method") == "entropy":
            rows.append((t("ir.m.entropy", node=d.label(aid)), f"{inf.get('variant')}: " + ", ".join(
                f"{d.label(c)} {w:.1%}" for c, w in d.result.weights[aid].items())))
    return rows


# internal names that indicator definitions mention, in the words a reader knows (display only)
PLAIN_WORDS = {
    "zh": {"record_count": "记录数", "min_records": "最小记录数", "reference/data/key_categories.csv": "五大类别对照表"},
    "en": {"record_count": "the record count", "min_records": "the minimum count",
           "reference/data/key_categories.csv": "the key-category table"},
}


def plain_words(text: str, lang: str = "zh") -> str:
    """``received_at`` in brackets after the words it names goes; the rest become words."""
    import re

    text = re.sub(r"\s?[（(][a-z][a-z0-9]*_[a-z0-9_]+[）)]", "", text)
    for k, v in PLAIN_WORDS.get(lang, PLAIN_WORDS["en"]).items():
        text = text.replace(k, v)
    return text


def definition_rows(d: IndexData) -> list[dict]:
    """Indicator definitions (indicators.methodology_table) of the spec used."""
    from indicators import methodology_table

    t = labels.translator(d.lang)
    mt = methodology_table(d.spec)
    out = []
    for r in mt.itertuples():
        out.append({
            "id": r.indicator_id, "label": d.label(r.indicator_id),
            "direction": t("ir.dir.up_short") if r.direction > 0 else t("ir.dir.down_short"),
            "unit": unit_text(d, r.unit), "source": source_text(d, r.source),
            "definition": plain_words((r.definition_zh if d.lang == "zh" else r.definition_en) or r.definition_en or "",
                                      d.lang),
            "numerator": r.numerator or "", "denominator": r.denominator or "",
            "min_records": fmt_rank(r.min_records) if pd.notna(r.min_records) else "–",
            "treatment": treatment_text(r.small_count_treatment, d.lang),
        })
    return out


def technical_rows(d: IndexData) -> list[dict]:
    """index_model.methodology_table of the recomputation, minus the note that does not apply here."""
    from index_model import methodology_table

    mt = methodology_table(d.result)
    mt = mt[~mt["value"].astype(str).str.contains("small-count treatment .* not applied", regex=True)]
    mt = mt[~((mt.section == "small counts") & (mt["item"] == "values flagged"))]
    rows = [{"section": r.section, "item": r.item, "value": r.value} for r in mt.itertuples()]
    for k, v in dict(d.spec.methods.uncertainty).items():
        rows.append({"section": "uncertainty", "item": k, "value": _plain(v)})
    rows.append({"section": "uncertainty", "item": "quantiles", "value": "0.05, 0.95 (linear, R type 7)"})
    return rows


def _plain(v: Any) -> str:
    if isinstance(v, dict) or hasattr(v, "items"):
        return ", ".join(f"{k}={_plain(x)}" for k, x in dict(v).items())
    if isinstance(v, (list, tuple)):
        return "[" + "; ".join(_plain(x) for x in v) + "]"
    return str(v)


def sw_rows(d: IndexData, href_region: Callable[[str], str] | None = None) -> list[dict]:
    return [{"code": c, "name": d.names.get(c, c), "href": href_region(c) if href_region else "",
             "strengths": sw_items(d, c, "strength"), "weaknesses": sw_items(d, c, "weakness")} for c in d.regions]


def small_count_summary(d: IndexData) -> int:
    if d.values.empty:
        return 0
    return int(d.values["small_count"].fillna(False).astype(bool).sum())


# ------------------------------------------------------------------------------------------ build
def present(out_dir: Path, key: str, links=None) -> bool:
    """Is report slot ``key`` in the folder? ``links`` (slot keys being built together) overrides the check."""
    if links is not None:
        return key in links
    return (Path(out_dir) / render.SLOTS[key].filename).is_file()


def _drill_href(out_dir: Path, kind: str, links=None, root: str | None = None) -> Callable[[str], str] | None:
    """Links into drilldown/ when it is in the folder (relative to the folder root); the composite
    ``root`` links to the drill-down's overview."""
    from reports import drilldown

    if not present(out_dir, "drilldown", links):
        return None
    if kind == "region":
        return lambda c: f"{drilldown.DIR}/{drilldown.region_page(c)}"
    return lambda n: (render.SLOTS["drilldown"].filename if n == root else f"{drilldown.DIR}/{drilldown.node_page(n)}")


def build_index_report(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *,
                       spec=None, generated_at: dt.datetime | None = None, data: IndexData | None = None,
                       links=None, narrative=None) -> Path:
    """Write ``index_report.html`` and ``index_report.xlsx`` into ``out_dir``; returns the HTML path.
    ``narrative``: the analysis sections (reports.narrative) whose opening sections open the page.

    Links to the drill-down pages and the dashboard are included when they exist in ``out_dir`` (or,
    given ``links``, when their slot key is in it: the outputs being built together)."""
    d = check_data(data, scope, period, lang) if data else load_index_data(con, scope, period, lang, spec=spec)
    out_dir = Path(out_dir)
    t = labels.translator(lang)
    href_region = _drill_href(out_dir, "region", links)
    href_node = _drill_href(out_dir, "node", links, d.root)
    xlsx = write_index_xlsx(d, out_dir / XLSX_NAME)
    top = d.node(d.root)
    best = d.regions[0] if d.regions else None
    tiles = [
        (t("ir.tile.regions"), str(d.n_ranked(d.root))),
        (t("ir.tile.best"), d.names.get(best, best) if best else "–"),
        (t("ir.tile.best_score"), fmt_num(top.at[best, "score"], 2) if best else "–"),
        (t("ir.tile.spec"), spec_display(d.spec, lang)),
        (t("ir.tile.previous"), parse_period(d.prev_period).label(lang) if d.has_prev else t("ir.tile.no_previous")),
        (t("ir.tile.small_counts"), str(small_count_summary(d))),
    ]
    figs = {
        "uncertainty": render.figure_html(fig_rank_uncertainty(d), "fig-rank-uncertainty"),
        "ranking": (click_figure_html(fig_ranking_bars(d, href_region), "fig-ranking") if href_region
                    else render.figure_html(fig_ranking_bars(d), "fig-ranking")),
        "heatmap": render.figure_html(fig_dimension_heatmap(d), "fig-dimension-heatmap"),
    }
    return render.render_page(
        out_dir, SLOT.filename, "index_report.html.j2", lang=lang, report_key=SLOT.key, title=t(SLOT.label),
        scope_label=d.scope.label(lang), period_label=d.period.label(lang), generated_at=generated_at,
        tiles=tiles, figs=figs, ranking=ranking_rows(d, href_region), has_prev=d.has_prev,
        prev_label=parse_period(d.prev_period).label(lang), has_change=d.change is not None,
        dims=[{"id": n, "label": d.label(n), "href": href_node(n) if href_node else ""} for n in d.dimensions],
        sw=sw_rows(d, href_region), hierarchy=hierarchy_rows(d, href_node), methods=method_rows(d),
        definitions=definition_rows(d), notes=d.notes,
        boards=board_tables(d, href_region), self_reported=self_reported_labels(d),
        has_noise=d.verdicts is not None,
        noise_level=f"{float((getattr(d.spec.methods, 'noise', None) or {}).get('level', 0.95)):.0%}",
        xlsx_name=xlsx.name, drill_href=render.SLOTS["drilldown"].filename if href_region else "",
        dashboard_href=render.SLOTS["dashboard"].filename if present(out_dir, "dashboard", links) else "",
        spec_version=spec_display(d.spec, lang), spec_source="",
        **_map_context(d, href_region),
        **_narrative_context(narrative, out_dir, links),
    )


def _map_context(d: IndexData, href_region) -> dict:
    from reports.maps import map_context

    return map_context(d, href_region)


def _narrative_context(sections, out_dir: Path, links=None) -> dict:
    """The opening of the narrative analysis for the ranked report and the dashboard (reports.narrative)."""
    from reports.narrative import opening

    return {"narrative_opening": opening(sections),
            "analysis_href": render.SLOTS["analysis"].filename if sections and present(out_dir, "analysis", links) else ""}


# ------------------------------------------------------------------------------------------- XLSX
SCORE_FMT, RANK_FMT, PCT_FMT, CHANGE_FMT, NUM_FMT, INT_FMT = "0.00", "0", "0.0%", "+0;-0;0", "#,##0.00", "#,##0"


def _sheet_names(lang: str) -> list[str]:
    t = labels.translator(lang)
    return [t("ir.xlsx.sheet.l0"), t("ir.xlsx.sheet.l1"), t("ir.xlsx.sheet.l2"), t("ir.xlsx.sheet.l3"),
            t("ir.xlsx.sheet.method"), t("ir.xlsx.sheet.definitions")]


def _num(v: Any) -> Any:
    if v is None or _nan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    return v


def _write_sheet(ws, header: list[str], rows: list[list[Any]], formats: list[Any], widths: list[int]) -> None:
    """Header row (bold, frozen), data rows; ``formats[j]`` = number format or a callable(row) -> format."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append(header)
    for c in ws[1]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DCE6F1")
        c.alignment = Alignment(vertical="center", wrap_text=True)
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(row, start=1):
            cell = ws.cell(row=i, column=j)
            v = _num(v)
            if isinstance(v, str):
                set_cell(cell, v)  # text stays text: a leading "=" is never a formula
            else:
                cell.value = v
                fmt = formats[j - 1]
                fmt = fmt(i - 2) if callable(fmt) else fmt
                if fmt and v is not None and not isinstance(v, bool):
                    cell.number_format = fmt
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w


def write_index_xlsx(d: IndexData, path: Path) -> Path:
    """The workbook: one sheet per level (composite, L1, L2, L3) plus methodology and definitions."""
    from openpyxl import Workbook

    t = labels.translator(d.lang)
    names = _sheet_names(d.lang)
    wb = Workbook()
    wb.remove(wb.active)

    # --- composite
    top = d.node(d.root)
    dims = {n: d.node(n) for n in d.dimensions}
    header = [t("col.ir.rank"), t("col.ir.region"), t("col.unit_code"), t("col.ir.score"), t("col.ir.rank_change"),
              t("col.ir.prev_rank"), t("col.ir.rank_low"), t("col.ir.rank_high"), t("col.ir.rank_median"),
              t("col.ir.grade")] + [t("col.ir.dim_score", dim=d.label(n)) for n in d.dimensions] + [
              t("col.ir.score_change"), t("col.ir.drivers"), t("col.ir.strengths"), t("col.ir.weaknesses")]
    rows = []
    for c in d.regions:
        r = top.loc[c]
        delta, _ = drivers(d, c)
        rows.append([r["rank"], d.names.get(c, c), c, r["score"],
                     r["rank_change"] if d.has_prev and pd.notna(r["rank_change"]) else "—",
                     r["prev_rank"], r["rank_low"], r["rank_high"], r["rank_median"], grade_text(d, r["grade"])]
                    + [dims[n].at[c, "score"] if c in dims[n].index else None for n in d.dimensions]
                    + [delta, drivers_text(d, c)[1], sw_text(d, c, "strength"), sw_text(d, c, "weakness")])
    fmts = [RANK_FMT, None, None, SCORE_FMT, CHANGE_FMT, RANK_FMT, RANK_FMT, RANK_FMT, RANK_FMT, None] + \
        [SCORE_FMT] * len(d.dimensions) + ["+0.00;-0.00;0.00", None, None, None]
    _write_sheet(wb.create_sheet(names[0]), header, rows, fmts,
                 [6, 16, 10, 10, 9, 9, 10, 10, 10, 7] + [12] * len(d.dimensions) + [10, 40, 60, 60])

    # --- L1 / L2 (long: node x region)
    for level, name in ((1, names[1]), (2, names[2])):
        header = [t("col.ir.node"), t("col.ir.node_id"), t("col.ir.parent"), t("col.ir.rank"), t("col.ir.region"),
                  t("col.unit_code"), t("col.ir.score"), t("col.ir.rank_change"), t("col.ir.rank_low"),
                  t("col.ir.rank_high"), t("col.ir.grade")]
        rows = []
        for n in d.nodes_at(level):
            nd = d.node(n)
            for c in nd.index:
                r = nd.loc[c]
                rows.append([d.label(n), n, d.label(d.spec.parent[n]), r["rank"], d.names.get(c, c), c, r["score"],
                             r["rank_change"] if d.has_prev and pd.notna(r["rank_change"]) else "—",
                             r["rank_low"], r["rank_high"], grade_text(d, r["grade"])])
        _write_sheet(wb.create_sheet(name), header, rows,
                     [None, None, None, RANK_FMT, None, None, SCORE_FMT, CHANGE_FMT, RANK_FMT, RANK_FMT, None],
                     [22, 26, 14, 6, 16, 10, 10, 9, 10, 10, 7])

    # --- L3 indicators with the values behind them
    from indicators import definitions

    defs = definitions()
    header = [t("col.ir.node"), t("col.ir.node_id"), t("col.ir.parent"), t("col.ir.direction"), t("col.ir.unit"),
              t("col.ir.rank"), t("col.ir.region"), t("col.unit_code"), t("col.ir.norm_score"), t("col.ir.raw_value"),
              t("col.ir.used_value"), t("col.ir.numerator"), t("col.ir.denominator"), t("col.ir.record_count"),
              t("col.ir.min_records"), t("col.ir.small_count"), t("col.ir.treatment")]
    rows, row_pct, row_count_fmt = [], [], []
    for n in d.spec.indicator_ids:
        nd = d.node(n)
        vals = d.value_rows(n)
        node = d.spec.nodes[n]
        kind = defs[n].kind if n in defs else None
        for c in nd.index:
            r = nd.loc[c]
            v = vals.loc[c] if c in vals.index else None
            get = (lambda k: v[k] if v is not None else None)
            small = get("small_count")
            rows.append([d.label(n), n, d.label(d.spec.parent[n]),
                         t("ir.dir.up") if node.direction > 0 else t("ir.dir.down"), unit_text(d, node.unit),
                         r["rank"], d.names.get(c, c), c, r["score"], get("raw_value"), get("value"),
                         get("numerator"), get("denominator"), get("record_count"), get("min_records"),
                         (t("common.yes") if bool(small) else t("common.no")) if small is not None and not _nan(small) else "",
                         get("treatment") if isinstance(get("treatment"), str) else ""])
            row_pct.append(d.is_pct(n))
            row_count_fmt.append(INT_FMT if kind in ("share", "per10k", "median") else NUM_FMT)
    value_fmt = (lambda i: PCT_FMT if row_pct[i] else NUM_FMT)
    count_fmt = (lambda i: row_count_fmt[i])
    _write_sheet(wb.create_sheet(names[3]), header, rows,
                 [None, None, None, None, None, RANK_FMT, None, None, SCORE_FMT, value_fmt, value_fmt, count_fmt,
                  count_fmt, RANK_FMT, RANK_FMT, None, None],
                 [24, 34, 14, 8, 14, 6, 16, 10, 10, 11, 11, 12, 14, 9, 9, 8, 9])

    # --- methodology: the hierarchy with weights, then the method choices
    header = [t("col.ir.level"), t("col.ir.node"), t("col.ir.node_id"), t("col.ir.type"), t("col.ir.direction"),
              t("col.ir.local_weight"), t("col.ir.effective_weight"), t("col.ir.weighting"), t("col.ir.aggregation"),
              t("col.ir.normalisation"), t("col.ir.min_records")]
    from index_model import weights_table

    wt = weights_table(d.result)
    rows = []
    for h, w in zip(hierarchy_rows(d), wt.itertuples()):
        rows.append([h["level"], "  " * h["level"] + h["label"], h["id"], h["type"], h["direction"],
                     float(w.local_weight), float(w.effective_weight), h["weighting"], h["aggregation"],
                     h["normalisation"], h["min_records"]])
    ws = wb.create_sheet(names[4])
    _write_sheet(ws, header, rows, [RANK_FMT, None, None, None, None, PCT_FMT, "0.00%", None, None, None, None],
                 [6, 34, 34, 10, 8, 10, 10, 16, 14, 16, 10])
    start = ws.max_row + 2
    ws.cell(row=start, column=1, value=t("ir.sec.method_choices"))
    for k, (lab, text) in enumerate(method_rows(d), start=start + 1):
        set_cell(ws.cell(row=k, column=2), lab)
        set_cell(ws.cell(row=k, column=3), text)

    # --- indicator definitions
    header = [t("col.ir.node"), t("col.ir.node_id"), t("col.ir.direction"), t("col.ir.unit"), t("col.ir.source"),
              t("col.definition"), t("col.ir.numerator"), t("col.ir.denominator"), t("col.ir.min_records"),
              t("col.ir.treatment")]
    rows = [[r["label"], r["id"], r["direction"], r["unit"], r["source"], r["definition"], r["numerator"],
             r["denominator"], r["min_records"], r["treatment"]] for r in definition_rows(d)]
    _write_sheet(wb.create_sheet(names[5]), header, rows, [None] * 10, [24, 34, 8, 14, 10, 60, 40, 40, 10, 10])

    # --- short boards and strengths with values (index_model.short_boards); numbers stay numbers
    header = [t("col.ir.region"), t("col.unit_code"), t("ir.sb.col.kind"), t("ir.sb.col.level"), t("col.ir.node"),
              t("col.ir.node_id"), t("ir.sb.col.value"), t("col.target"), t("ir.sb.col.median"), t("ir.sb.col.reference"),
              t("ir.sb.col.gap"), t("ir.sb.col.gap_points"), t("ir.sb.col.previous"), t("ir.sb.col.change"),
              t("ir.sb.col.trend"), t("ir.sb.col.self_reported")]
    rows, row_pct = [], []
    b = d.boards if d.boards is not None else pd.DataFrame()
    for c in d.regions:
        for r in (b[b.unit == c].itertuples() if not b.empty else []):
            rows.append([d.names.get(c, c), c, t("ir.sb.kind." + r.kind), t("ir.sb.level." + r.level), d.label(r.node_id),
                         r.node_id, r.value, r.target, r.median, t("ir.sb.ref." + r.reference), r.gap, r.gap_points,
                         r.previous_value, r.change,
                         t("ir.sb.trend." + r.trend) if isinstance(r.trend, str) and r.trend in TRENDS else "",
                         t("common.yes") if r.self_reported else t("common.no")])
            row_pct.append(r.level == "indicator" and d.is_pct(r.node_id))
    vfmt = (lambda i: PCT_FMT if row_pct[i] else NUM_FMT)
    ws = wb.create_sheet(t("ir.xlsx.sheet.boards"))
    _write_sheet(ws, header, rows, [None, None, None, None, None, None, vfmt, vfmt, vfmt, None, vfmt, "+0.0;-0.0;0.0",
                                    vfmt, vfmt, None, None], [16, 10, 8, 10, 26, 34, 11, 11, 11, 10, 11, 10, 11, 11, 12, 8])
    caveat = self_reported_labels(d)
    if caveat:
        set_cell(ws.cell(row=ws.max_row + 2, column=1), t("ir.caveat.self_reported", items=t("ir.sw.sep").join(caveat)))

    # --- technical parameters of the computation (kept out of the pages: internal names)
    _write_sheet(wb.create_sheet(t("ir.xlsx.sheet.technical")), ["section", "item", "value"],
                 [[r["section"], r["item"], str(r["value"])] for r in technical_rows(d)], [None] * 3, [18, 28, 100])

    render.stamp_provisional(wb)  # a "provisional: …" first row on every sheet when publishing provisionally
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    neutralise_workbook(wb)  # headers, notes and banners too: no cell of ours is a formula
    wb.save(tmp)
    tmp.replace(path)
    return path
