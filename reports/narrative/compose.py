"""Narrative analysis text from the facts (issue 10 point 1): pure and deterministic.

:func:`compose` turns a :class:`~reports.narrative.model.NarrativeInput` into the eight sections of
the analysis — 总体情况, 指数排名与变化, 各维度分析, 各地短板与建议, 五大类重点商品和服务, 投诉热点,
抽检情况, 数据质量说明 — each a heading and paragraphs of sentences. Every sentence is a template of
the label catalog (:mod:`reports.labels`, keys ``na.*``, zh and en) filled with numbers from the
facts; nothing else is written.

Significance: a change is called beyond noise ("超出统计误差") only when its interval excludes 0 —
for index scores, the verdict of :func:`index_model.change_verdicts` (each indicator's change judged
against its own noise); for counts, the MOVER interval of the difference of two exact Poisson
intervals; for shares (pass rate, online share), of two Wilson intervals (:mod:`index_model.noise`).
Otherwise the text says the change is within noise ("变化在统计误差范围内").
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from index_model.noise import change_interval, poisson_interval, wilson_interval
from reports import labels
from reports.narrative.model import (
    BoardFact,
    ComplaintFacts,
    CountFact,
    HotspotFacts,
    IndexFacts,
    KpiFact,
    NarrativeInput,
    QualityFacts,
    SamplingFacts,
    Section,
)

SECTION_KEYS = ("overview", "ranking", "dimensions", "boards", "key_categories", "hotspots", "sampling",
                "data_quality")
TOP_N = 3
LEVEL = 0.95


# ------------------------------------------------------------------------------------ noise tests
def count_change_beyond(n: int, prev: int | None, level: float = LEVEL) -> bool | None:
    """Does a count's change exceed its Poisson noise (MOVER interval of the difference excludes 0)?
    None when there is nothing to compare with."""
    if prev is None or n is None:
        return None
    lo, hi = poisson_interval([n, prev], level)
    _, dlo, dhi = change_interval(prev, lo[1], hi[1], n, lo[0], hi[0])
    return bool(dlo[0] > 0 or dhi[0] < 0)


def share_change_beyond(k: int, n: int, k0: int | None, n0: int | None, level: float = LEVEL) -> bool | None:
    """Does a share's change (k/n against k0/n0) exceed its binomial noise (Wilson + MOVER)?"""
    if k0 is None or n0 is None or not n or not n0:
        return None
    lo, hi = wilson_interval([k, k0], [n, n0], level)
    if np.isnan(lo).any():
        return None
    _, dlo, dhi = change_interval(k0 / n0, lo[1], hi[1], k / n, lo[0], hi[0])
    return bool(dlo[0] > 0 or dhi[0] < 0)


# ------------------------------------------------------------------------------------ formatting
class Writer:
    """Number formats and the small phrases every section uses, in one language."""

    def __init__(self, inp: NarrativeInput, lang: str):
        self.lang = labels.check_lang(lang)
        self.t: Callable[..., str] = labels.translator(lang)
        self.inp = inp
        self.cmp = self.t(f"na.cmp.{inp.comparison_kind}")  # 同比 / 环比
        self.sep = self.t("na.sep.list")  # 、

    # numbers
    @staticmethod
    def n(v) -> str:
        return f"{int(v):,}"

    @staticmethod
    def pct(v, digits: int = 1) -> str:
        return f"{float(v) * 100:.{digits}f}%"

    @staticmethod
    def score(v) -> str:
        return f"{float(v):.2f}"

    @staticmethod
    def wan(v) -> str:  # yuan -> 万元
        return f"{float(v) / 10000:,.2f}"

    def value(self, v, is_pct: bool) -> str:
        return self.pct(v) if is_pct else f"{float(v):,.2f}"

    def join(self, items) -> str:
        return self.sep.join(items)

    def sentences(self, items) -> str:
        return self.t("na.sep.semi").join(items)

    # phrases
    def sig(self, beyond: bool | None) -> str:
        if beyond is None:
            return ""
        return self.t("na.sig.beyond") if beyond else self.t("na.sig.within")

    def pct_change(self, n: float, prev: float | None) -> str:
        """同比增长5.2% / 同比下降3.1% / 与上期持平 (relative change of a count or amount)."""
        if prev is None:
            return self.t("na.change.no_prev", cmp_label=self.inp.comparison_label)
        if prev == 0:
            return self.t("na.change.from_zero", cmp=self.cmp) if n else self.t("na.change.flat", cmp=self.cmp)
        r = (n - prev) / prev
        if round(r * 100, 1) == 0:
            return self.t("na.change.flat", cmp=self.cmp)
        key = "na.change.up" if r > 0 else "na.change.down"
        return self.t(key, cmp=self.cmp, x=self.pct(abs(r)))

    def count_change(self, n: int, prev: int | None) -> str:
        """The relative change of a count followed by its noise verdict."""
        return self.pct_change(n, prev) + self.sig(count_change_beyond(n, prev))

    def pp_change(self, v: float, prev: float | None, beyond: bool | None) -> str:
        """同比上升1.2个百分点（…） for a share."""
        if prev is None:
            return self.t("na.change.no_prev", cmp_label=self.inp.comparison_label)
        d = (v - prev) * 100
        if round(d, 1) == 0:
            return self.t("na.change.flat", cmp=self.cmp) + self.sig(beyond)
        key = "na.change.pp_up" if d > 0 else "na.change.pp_down"
        return self.t(key, cmp=self.cmp, x=f"{abs(d):.1f}") + self.sig(beyond)

    def score_change(self, v: float, prev: float | None) -> str:
        """同比提高3.20分 (index scores, points)."""
        if prev is None:
            return self.t("na.change.no_prev", cmp_label=self.inp.comparison_label)
        d = v - prev
        if round(d, 2) == 0:
            return self.t("na.change.flat", cmp=self.cmp)
        key = "na.change.pts_up" if d > 0 else "na.change.pts_down"
        return self.t(key, cmp=self.cmp, x=f"{abs(d):.2f}")


def _p(*sentences: str) -> tuple[str, ...]:
    return tuple(s for s in sentences if s)


# ------------------------------------------------------------------------------------ sections
def overview(w: Writer) -> list[tuple[str, ...]]:
    t, inp = w.t, w.inp
    paras = []
    c = inp.complaints
    if c is not None:
        s = [t("na.ov.total", period=inp.period_label, scope=inp.scope_name, n=w.n(c.total.n),
               change=w.count_change(c.total.n, c.total.prev))]
        if c.total.n:
            parts = [t("na.ov.type_item", label=x.label, n=w.n(x.n), share=w.pct(x.n / c.total.n)) for x in c.by_type]
            if parts:
                s.append(t("na.ov.types", items=w.sentences(parts)))
            base = c.complaints_reports
            if c.goods is not None and c.services is not None and base:
                s.append(t("na.ov.goods_services", goods=w.pct(c.goods / base), services=w.pct(c.services / base)))
            online = c.online / c.total.n
            prev_share = (c.prev_online / c.prev_total) if c.prev_online is not None and c.prev_total else None
            if prev_share is None:
                s.append(t("na.ov.online_only", n=w.n(c.online), share=w.pct(online)))
            else:
                s.append(t("na.ov.online", n=w.n(c.online), share=w.pct(online),
                           change=w.pp_change(online, prev_share,
                                              share_change_beyond(c.online, c.total.n, c.prev_online, c.prev_total))))
            if c.disputed > 0 and c.prev_recovered is not None:
                s.append(t("na.ov.money_change", wan=w.wan(c.recovered), ratio=w.pct(c.recovered / c.disputed),
                           change=w.pct_change(c.recovered, c.prev_recovered)))
            elif c.disputed > 0:
                s.append(t("na.ov.money", wan=w.wan(c.recovered), ratio=w.pct(c.recovered / c.disputed)))
            elif c.recovered > 0:
                s.append(t("na.ov.money_only", wan=w.wan(c.recovered)))
        paras.append(_p(*s))
    ix = inp.index
    if ix is not None and ix.regions:
        ranked = [r for r in ix.regions if r.score is not None and r.rank is not None]
        if ranked:
            scores = [r.score for r in ranked]
            med = float(np.median(scores))
            best, worst = ranked[0], ranked[-1]
            s = [t("na.ov.index", n=len(ranked), median=w.score(med), best=best.name, best_score=w.score(best.score),
                   worst=worst.name, worst_score=w.score(worst.score))]
            grades = [(g, sum(1 for r in ranked if r.grade == g)) for g in ("优", "良", "中", "差")]
            if any(k for _, k in grades):
                s.append(t("na.ov.grades", items=w.join(t("na.ov.grade_item", grade=labels.value_label(g, w.lang), n=k)
                                                        for g, k in grades if k)))
            if ix.has_prev:
                judged = [r for r in ranked if r.verdict is not None and r.prev_score is not None]
                up = sum(1 for r in judged if r.significant > 0)
                down = sum(1 for r in judged if r.significant < 0)
                rest = len(judged) - up - down
                if judged:
                    key = "na.ov.index_changes" if rest else "na.ov.index_changes_all"
                    if not up and not down:
                        key = "na.ov.index_changes_none"
                    s.append(t(key, cmp_label=inp.comparison_label, up=up, down=down, rest=rest))
            paras.append(_p(*s))
    total_kpis = [k for k in inp.kpis if k.unit is None and k.status in ("green", "red")]
    if total_kpis:
        missed = [k for k in total_kpis if k.status == "red"]
        met = [k for k in total_kpis if k.status == "green"]
        key = "na.ov.kpi_all_missed" if not met else "na.ov.kpi_all_met" if not missed else "na.ov.kpi"
        s = [t(key, n=len(total_kpis), met=len(met), missed=len(missed))]
        if missed:
            s.append(t("na.ov.kpi_missed", items=w.join(kpi_item(w, k) for k in missed)))
        if met:
            s.append(t("na.ov.kpi_met", items=w.join(kpi_item(w, k) for k in met)))
        paras.append(_p(*s))
    sm = inp.sampling
    if sm is not None and sm.tested:
        paras.append(_p(sampling_headline(w, sm)))
    if not paras:
        paras.append(_p(t("na.no_data")))
    return paras


def kpi_item(w: Writer, k: KpiFact) -> str:
    rate = w.pct(k.rate) if not k.per10k else f"{k.rate:.2f}"
    target = w.pct(k.target, 0) if k.target is not None else ""
    key = "na.kpi.item_few" if k.few_records else "na.kpi.item"
    return w.t(key, label=k.label, rate=rate, target=target, num=w.n(k.numerator), den=w.n(k.denominator))


def sampling_headline(w: Writer, sm: SamplingFacts) -> str:
    rate = sm.passed / sm.tested
    prev_t = (sm.prev_passed or 0) + (sm.prev_failed or 0) if sm.prev_passed is not None else 0
    prev_rate = sm.prev_passed / prev_t if prev_t else None
    beyond = share_change_beyond(sm.passed, sm.tested, sm.prev_passed, prev_t) if prev_t else None
    return w.t("na.sm.headline", period=w.inp.period_label, n=w.n(sm.tested), failed=w.n(sm.failed),
               rate=w.pct(rate), change=w.pp_change(rate, prev_rate, beyond))


def region_sentence(w: Writer, r, has_prev: bool) -> str:
    t = w.t
    if r.score is None or r.rank is None:
        return t("na.rk.unranked", name=r.name)
    grade = t("na.rk.grade", grade=labels.value_label(r.grade, w.lang)) if r.grade else ""
    head = t("na.rk.region", name=r.name, score=w.score(r.score), rank=r.rank, grade=grade)
    if not has_prev or r.prev_score is None:
        return head + t("na.rk.no_prev", cmp_label=w.inp.comparison_label) + t("na.end")
    change = w.score_change(r.score, r.prev_score)
    drivers = w.join(t("na.rk.driver", label=lab, x=f"{eff:+.2f}") for lab, eff in r.drivers)
    if r.verdict == "attributed" and r.significant:
        tail = t("na.rk.beyond")
        if r.drivers:
            tail += t("na.rk.drivers", items=drivers)
    elif r.verdict == "attributed":  # changes beyond noise exist but do not carry the score change
        tail = t("na.rk.mixed", signal=f"{(r.signal or 0):+.2f}", noise=f"{(r.noise or 0):+.2f}",
                 items=drivers or "–")
    elif r.verdict == "within_noise":
        tail = t("na.rk.within")
    elif r.verdict == "unchanged":
        tail = ""
    else:
        tail = t("na.rk.not_judged")
    rank = ""
    if r.prev_rank is not None:
        k = r.prev_rank - r.rank
        one = "_one" if abs(k) == 1 else ""
        rank = (t("na.rk.rank_up" + one, k=k) if k > 0 else t("na.rk.rank_down" + one, k=-k) if k < 0
                else t("na.rk.rank_same"))
        if not r.significant and k != 0:
            rank += t("na.rk.rank_noise")
    return head + t("na.sep.clause") + change + tail + rank + t("na.end")


def ranking(w: Writer) -> list[tuple[str, ...]]:
    t, ix = w.t, w.inp.index
    if ix is None or not ix.regions:
        return [_p(t("na.rk.none"))]
    ranked = [r for r in ix.regions if r.score is not None and r.rank is not None]
    paras = []
    item = (lambda r: t("na.rk.item", name=r.name, score=w.score(r.score)))
    if len(ranked) > 2 * TOP_N:
        paras.append(_p(t("na.rk.top", n=TOP_N, items=w.join(item(r) for r in ranked[:TOP_N])),
                        t("na.rk.bottom", n=TOP_N, items=w.join(item(r) for r in ranked[-TOP_N:]))))
    elif ranked:
        paras.append(_p(t("na.rk.all", items=w.join(item(r) for r in ranked))))
    paras += [_p(region_sentence(w, r, ix.has_prev)) for r in ix.regions]  # one paragraph per region
    if ix.has_prev:
        paras.append(_p(t("na.rk.method", level=f"{ix.noise_level:.0%}")))
    return paras


def dimensions(w: Writer) -> list[tuple[str, ...]]:
    t, ix = w.t, w.inp.index
    if ix is None or not ix.dimensions:
        return [_p(t("na.rk.none"))]
    paras = []
    for d in ix.dimensions:
        if d.median is None:
            paras.append(_p(t("na.dm.no_scores", label=d.label)))
            continue
        s = [t("na.dm.median", label=d.label, median=w.score(d.median),
               change=(t("na.sep.clause") + w.score_change(d.median, d.prev_median)) if ix.has_prev else "")]
        if d.best and d.worst:
            s.append(t("na.dm.range", best=d.best[0], best_score=w.score(d.best[1]), worst=d.worst[0],
                       worst_score=w.score(d.worst[1]), spread=w.score(d.best[1] - d.worst[1])))
        if ix.has_prev and d.n_compared:
            rest = d.n_compared - d.n_up - d.n_down
            if d.n_up or d.n_down:
                s.append(t("na.dm.changes" if rest else "na.dm.changes_all", up=d.n_up, down=d.n_down, rest=rest))
            else:
                s.append(t("na.dm.all_within", n=d.n_compared))
        paras.append(_p(*s))
    return paras


def board_item(w: Writer, b: BoardFact) -> str:
    t = w.t
    fmt = (lambda v: w.value(v, b.is_pct)) if b.is_indicator else w.score
    gap = b.value - b.reference_value
    gap_text = (t("na.pp", x=f"{abs(gap) * 100:.1f}") if b.is_pct else w.score(abs(gap)) if not b.is_indicator
                else f"{abs(gap):,.2f}")
    rel = "na.bd.above" if gap > 0 else "na.bd.below" if gap < 0 else "na.bd.equal"
    ref = t(f"na.bd.ref.{b.reference}", v=fmt(b.reference_value))
    text = t("na.bd.item", label=b.label, value=fmt(b.value), ref=ref, rel=t(rel, x=gap_text))
    if b.trend == "within_noise":
        text += t("na.bd.trend.within_noise")
    elif b.trend in ("improved", "worsened", "unchanged"):
        text += t(f"na.bd.trend.{b.trend}", cmp=w.cmp)
    if b.self_reported:
        text += t("na.bd.self_reported")
    return text


def advice(w: Writer, weakest: list[BoardFact]) -> str:
    """建议: one suggestion per sub-dimension of the short boards (a generic one where none is written)."""
    parts: list[str] = []
    for b in weakest:
        key = f"na.advice.{b.parent_id}"
        text = w.t(key) if b.parent_id and key in labels.LABELS else w.t("na.advice.generic", label=b.label)
        if text not in parts:
            parts.append(text)
    return w.t("na.bd.advice", items=w.sentences(parts)) if parts else ""


def boards(w: Writer) -> list[tuple[str, ...]]:
    t, inp = w.t, w.inp
    regions = [r.name for r in inp.index.regions] if inp.index else []
    for b in inp.boards:
        if b.region not in regions:
            regions.append(b.region)
    unit_kpis: dict[str, list[KpiFact]] = {}
    for k in inp.kpis:
        if k.unit is not None and k.status == "red":
            unit_kpis.setdefault(k.unit, []).append(k)
    paras = []
    for name in regions:
        bs = [b for b in inp.boards if b.region == name and b.is_indicator]
        weak = [b for b in bs if b.kind == "weakest"]
        strong = [b for b in bs if b.kind == "strongest"]
        s = []
        if weak:
            s.append(t("na.bd.weak", name=name, items=w.sentences(board_item(w, b) for b in weak)))
        if strong:
            s.append(t("na.bd.strong" if s else "na.bd.strong_named", name=name,
                       items=w.sentences(board_item(w, b) for b in strong)))
        if name in unit_kpis:
            s.append(t("na.bd.kpi" if s else "na.bd.kpi_unit", name=name,
                       items=w.join(kpi_item(w, k) for k in unit_kpis.pop(name))))
        if weak:
            s.append(advice(w, weak))
        if s:
            paras.append(_p(*s))
    for name, ks in unit_kpis.items():  # bureaus that are not ranked units (e.g. the provincial bureau itself)
        paras.append(_p(t("na.bd.kpi_unit", name=name, items=w.join(kpi_item(w, k) for k in ks))))
    if not paras:
        paras.append(_p(t("na.bd.none")))
    return paras


def key_categories(w: Writer) -> list[tuple[str, ...]]:
    t, c = w.t, w.inp.complaints
    paras = []
    if c is not None and c.key_categories:
        n_key = sum(k.n for k in c.key_categories)
        prev_key = sum(k.prev for k in c.key_categories) if all(k.prev is not None for k in c.key_categories) else None
        base = c.complaints_reports if c.complaints_reports is not None else c.total.n
        paras.append(_p(t("na.kc.total", n=w.n(n_key), share=w.pct(n_key / base) if base else "–",
                          change=w.count_change(n_key, prev_key))))
        s = []
        for k in c.key_categories:
            x = t("na.kc.item", label=k.label, n=w.n(k.n), share=w.pct(k.share) if k.share is not None else "–",
                  change=w.count_change(k.n, k.prev))
            if k.online is not None and k.n:
                x += t("na.kc.online", share=w.pct(k.online / k.n))
            if k.top_problem is not None:
                x += t("na.kc.problem", label=k.top_problem[0], n=w.n(k.top_problem[1]))
            s.append(x + t("na.end"))
        paras.append(_p(*s))
    sm = w.inp.sampling
    if sm is not None and sm.key_categories:
        items = [t("na.kc.sampling_item", label=lab, n=w.n(n), failed=w.n(f), rate=w.pct((n - f) / n))
                 for lab, n, f in sm.key_categories if n]
        if items:
            paras.append(_p(t("na.kc.sampling", items=w.sentences(items))))
    if not paras:
        paras.append(_p(t("na.no_data")))
    return paras


def hotspots(w: Writer) -> list[tuple[str, ...]]:
    t, c, h = w.t, w.inp.complaints, w.inp.hotspots
    paras = []
    if c is not None and c.total.n:
        item = (lambda x: t("na.hs.item", label=x.label, n=w.n(x.n), share=w.pct(x.share) if x.share is not None else "–"))
        s = []
        if c.categories:
            s.append(t("na.hs.categories", items=w.join(item(x) for x in c.categories[:TOP_N])))
        if c.problems:
            s.append(t("na.hs.problems", items=w.join(item(x) for x in c.problems[:TOP_N])))
        if s:
            paras.append(_p(*s))
    if h is not None:
        rising = [x for x in h.rising if x.prev and count_change_beyond(x.n, x.prev) and x.n > x.prev]
        if rising:
            paras.append(_p(t("na.hs.rising", items=w.join(
                t("na.hs.rising_item", label=x.label, n=w.n(x.n), change=w.pct_change(x.n, x.prev)) for x in rising))))
        if h.surges:
            items = [t("na.hs.surge_item", series=s.series, month=s.month, n=w.n(s.count), expected=f"{s.expected:.1f}",
                       ratio=("∞" if math.isinf(s.ratio) else f"{s.ratio:.1f}")) for s in h.surges]
            paras.append(_p(t("na.hs.surges", tested=w.n(h.tested), k=len(h.surges), items=w.sentences(items))))
        else:
            paras.append(_p(t("na.hs.no_surges", tested=w.n(h.tested))))
    if not paras:
        paras.append(_p(t("na.no_data")))
    return paras


def sampling(w: Writer) -> list[tuple[str, ...]]:
    t, sm = w.t, w.inp.sampling
    if sm is None or not sm.tested:
        return [_p(t("na.sm.none"))]
    paras = [_p(sampling_headline(w, sm),
                t("na.sm.split", safety=w.n(sm.failed_safety), label=w.n(sm.failed_label)) if sm.failed else "")]
    if sm.worst:
        items = [t("na.sm.worst_item", label=lab, n=w.n(n), failed=w.n(f), rate=w.pct((n - f) / n)) for lab, n, f in sm.worst]
        paras.append(_p(t("na.sm.worst", min=sm.min_batches, items=w.sentences(items))))
    key = "na.sm.no_overdue" if not sm.overdue else "na.sm.overdue_one" if sm.overdue == 1 else "na.sm.overdue"
    paras.append(_p(t(key, n=w.n(sm.overdue))))
    return paras


def data_quality(w: Writer) -> list[tuple[str, ...]]:
    t, q = w.t, w.inp.quality
    paras = []
    if q is not None:
        s = []
        if q.rows_checked:
            s.append(t("na.dq.gate", months=q.months_checked, n=w.n(q.rows_checked), q=w.n(q.rows_quarantined),
                       share=w.pct(q.rows_quarantined / q.rows_checked, 2), flagged=w.n(q.rows_flagged)))
        else:
            s.append(t("na.dq.no_gate"))
        if q.stale_months:
            s.append(t("na.dq.stale", months=w.join(q.stale_months)))
        if q.value_cells:
            s.append(t("na.dq.small", k=w.n(q.small_count_cells), n=w.n(q.value_cells)))
        if q.self_reported:
            s.append(t("na.dq.self_reported", items=w.join(q.self_reported)))
        if q.provisional:
            s.append(q.provisional)
        paras.append(_p(*s))
        if q.notes:
            paras.append(_p(*q.notes))
    paras.append(_p(t("na.dq.method", level=f"{LEVEL:.0%}")))
    return paras


BUILDERS = {"overview": overview, "ranking": ranking, "dimensions": dimensions, "boards": boards,
            "key_categories": key_categories, "hotspots": hotspots, "sampling": sampling, "data_quality": data_quality}


def compose(inp: NarrativeInput, lang: str = "zh") -> list[Section]:
    """The eight sections, in :data:`SECTION_KEYS` order (see module doc)."""
    w = Writer(inp, lang)
    out = []
    for key in SECTION_KEYS:
        paras = tuple(p for p in BUILDERS[key](w) if p)
        out.append(Section(key, w.t(f"na.sec.{key}"), paras))
    return out


def plain_text(sections: list[Section], lang: str = "zh") -> str:
    """The sections as plain text (headings numbered as in the regulators' reports)."""
    t = labels.translator(lang)
    join = "" if lang == "zh" else " "
    lines = []
    for i, s in enumerate(sections, start=1):
        lines.append(t("na.heading", i=t(f"na.num.{i}"), heading=s.heading))
        lines += [join.join(p) for p in s.paragraphs]
    return "\n".join(lines)
