"""The facts of a narrative analysis, read from the warehouse and from what the other reports compute.

Nothing is defined twice: index scores, ranks, grades, change verdicts and drivers, short boards come
from the :class:`reports.index_report.IndexData` the index outputs are built from (so the analysis says
what the ranked report shows); KPIs from :mod:`reports.kpi_scorecard` / :mod:`reports.kpi`; sampling
from :mod:`reports.sampling_report`'s queries and Order No. 18 limits; surges from
:func:`reports.surges.detect_surges` on the same monthly counts as the 12315 analysis page; data
quality from :mod:`data_quality.scorecard`. The only new query is sql/reports/narrative_complaints.sql
(this period and the period compared with, by record type, category and problem).
"""
from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from reports import labels, render
from reports.narrative.model import (
    BoardFact,
    ComplaintFacts,
    CountFact,
    DimensionFact,
    HotspotFacts,
    IndexFacts,
    KpiFact,
    NarrativeInput,
    QualityFacts,
    RegionFact,
    SamplingFacts,
    SurgeFact,
)
from reports.periods import Period, add_months, parse_period
from reports.queries import run, table_exists
from reports.scope import Scope, registered_unit_map, unit_names

MAX_SURGES = 5
MIN_SAMPLING_BATCHES = 20  # a product category's pass rate is named only from this many batches
TOP_RISING = 5
UNIT_WORDS = {"province": "province", "prefecture": "city", "county": "county"}


def comparison(period: Period) -> tuple[Period, str]:
    """The period changes are measured against (the index's previous period) and its kind:
    ``yoy`` (a year against the year before, 同比) or ``pop`` (against the period just before, 环比)."""
    from indicators.scores import previous_period

    prev = parse_period(previous_period(period.key))
    return prev, ("yoy" if period.kind == "year" else "pop")


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _int(v) -> int | None:
    f = _num(v)
    return None if f is None else int(round(f))


# ------------------------------------------------------------------------------------------ index
def index_facts(d) -> IndexFacts:
    from reports.index_report import drivers, verdict

    top = d.node(d.root)
    prev_scores = (d.prev[d.prev.node_id == d.root].set_index("region_code")["score"] if d.has_prev
                   else pd.Series(dtype=float))
    regions = []
    for c in d.regions:
        r = top.loc[c]
        v = verdict(d, c) if d.has_prev else None
        drv = []
        if v is not None and v["verdict"] == "attributed":
            drv = [(x["label"], x["effect"]) for x in drivers(d, c)[1]]
        regions.append(RegionFact(
            name=d.names.get(c, c), score=_num(r["score"]), rank=_int(r["rank"]),
            grade=r["grade"] if isinstance(r.get("grade"), str) else None,
            prev_score=_num(prev_scores.get(c)) if d.has_prev else None,
            prev_rank=_int(r["prev_rank"]) if d.has_prev else None,
            verdict=v["verdict"] if v is not None else None, drivers=drv,
            signal=_num(v["signal"]) if v is not None else None, noise=_num(v["noise"]) if v is not None else None))
    dims = [dimension_fact(d, n) for n in d.dimensions]
    level = float((getattr(d.spec.methods, "noise", None) or {}).get("level", 0.95))
    return IndexFacts(regions=regions, dimensions=dims, has_prev=d.has_prev, noise_level=level)


def _moved_beyond_noise(d, unit: str, leaves: list[str]) -> bool:
    """Did an indicator under the node change for ``unit`` other than within its noise (the rule of
    index_model.attribute_change: a change is attributed unless it is within noise)?"""
    nz = d.noise
    if nz is None or nz.empty:
        return False
    rows = nz[(nz.region_code == unit) & nz.indicator_id.isin(leaves)]
    for r in rows.itertuples():
        if r.delta is None or pd.isna(r.delta) or r.delta == 0:
            continue
        if pd.isna(r.beyond_noise) or bool(r.beyond_noise):
            return True
    return False


def dimension_fact(d, node: str) -> DimensionFact:
    nd = d.node(node)
    s = nd["score"].dropna()
    if s.empty:
        return DimensionFact(label=d.label(node), median=None, prev_median=None, best=None, worst=None)
    prev = (d.prev[d.prev.node_id == node].set_index("region_code")["score"].dropna() if d.has_prev
            else pd.Series(dtype=float))
    best, worst = s.idxmax(), s.idxmin()
    leaves = list(d.spec.leaves(node))
    up = down = compared = 0
    for c, v in s.items():
        if c not in prev.index:
            continue
        compared += 1
        delta = float(v) - float(prev[c])
        if delta != 0 and _moved_beyond_noise(d, c, leaves):
            up += delta > 0
            down += delta < 0
    return DimensionFact(label=d.label(node), median=float(s.median()),
                         prev_median=float(prev.median()) if len(prev) else None,
                         best=(d.names.get(best, best), float(s[best])), worst=(d.names.get(worst, worst), float(s[worst])),
                         n_regions=len(s), n_up=int(up), n_down=int(down), n_compared=compared)


def board_facts(d) -> list[BoardFact]:
    b = d.boards
    if b is None or b.empty:
        return []
    out = []
    order = {c: i for i, c in enumerate(d.regions)}
    b = b[b.level == "indicator"].copy()
    b["_o"] = b.unit.map(order)
    for r in b.sort_values(["_o", "kind", "order"], ascending=[True, False, True]).itertuples():
        ref_v = r.target if r.reference == "target" else r.median
        if _num(r.value) is None or _num(ref_v) is None:
            continue
        out.append(BoardFact(region=d.names.get(r.unit, r.unit), kind=r.kind, label=d.label(r.node_id),
                             value=float(r.value), reference=r.reference, reference_value=float(ref_v),
                             is_pct=d.is_pct(r.node_id), trend=r.trend if isinstance(r.trend, str) else None,
                             change=_num(r.change), self_reported=bool(r.self_reported), parent_id=r.parent_id,
                             node_id=r.node_id))
    return out


# ------------------------------------------------------------------------------------- complaints
def complaint_facts(con, scope: Scope, period: Period, prev: Period, lang: str) -> ComplaintFacts | None:
    from reference.categories import KEY_AREAS, key_category_of

    if not table_exists(con, "clean", "complaints"):
        return None
    df = run(con, "narrative_complaints", prefix=scope.prefix, start=period.start_ts, end=period.end_ts,
             prev_start=prev.start_ts, prev_end=prev.end_ts)
    span = run(con, "complaints_data_span", prefix=scope.prefix)
    first = span["first_month"].iloc[0] if len(span) else None
    covered = first is not None and not pd.isna(first) and pd.Timestamp(first).date() <= prev.start
    v = labels.value_translator(lang)
    cur, old = df[df.period_tag == "cur"], df[df.period_tag == "prev"]

    def dim(frame, name):
        return frame[frame.dimension == name]

    def prev_n(name, value=None, col="n"):
        if not covered:
            return None
        x = dim(old, name)
        if value is not None:
            x = x[x.value == value]
        return int(x[col].sum())

    tot = dim(cur, "total")
    n = int(tot["n"].sum())
    cr_total = int(tot["n_complaints_reports"].sum())
    by_type = []
    types = dim(cur, "record_type").set_index("value")["n"]
    for rt in ("投诉", "举报", "咨询"):
        if rt in types.index:
            by_type.append(CountFact(label=v(rt), n=int(types[rt]), prev=prev_n("record_type", rt)))
    cats = dim(cur, "category").sort_values(["n", "value"], ascending=[False, True])
    problems = dim(cur, "problem_type").sort_values(["n", "value"], ascending=[False, True])
    goods = int(cats.loc[cats.parent == "商品", "n"].sum())
    services = int(cats.loc[cats.parent == "服务", "n"].sum())
    cat_facts = [CountFact(label=v(r.value), n=int(r.n), prev=prev_n("category", r.value),
                           share=r.n / cr_total if cr_total else None) for r in cats.itertuples() if isinstance(r.value, str)]
    prob_facts = [CountFact(label=v(r.value), n=int(r.n), prev=prev_n("problem_type", r.value),
                            share=r.n / cr_total if cr_total else None) for r in problems.itertuples()
                  if isinstance(r.value, str)]
    # the five key categories (工商消字〔2013〕133号), one mapping table (reference.categories)
    kc = dim(cur, "category").assign(key=lambda f: f.value.map(key_category_of))
    kc_prev = dim(old, "category").assign(key=lambda f: f.value.map(key_category_of))
    cp = dim(cur, "category_problem").assign(key=lambda f: f.parent.map(key_category_of))
    keys = []
    for k in KEY_AREAS:
        rows = kc[kc.key == k]
        nk = int(rows["n"].sum())
        probs = cp[(cp.key == k) & cp.value.notna()].groupby("value")["n"].sum().sort_values(ascending=False, kind="stable")
        keys.append(CountFact(label=v(k), n=nk, prev=int(kc_prev.loc[kc_prev.key == k, "n"].sum()) if covered else None,
                              share=nk / cr_total if cr_total else None, online=int(rows["n_online"].sum()),
                              top_problem=(v(probs.index[0]), int(probs.iloc[0])) if len(probs) else None))
    prev_tot = dim(old, "total")
    return ComplaintFacts(
        total=CountFact(label="", n=n, prev=int(prev_tot["n"].sum()) if covered else None),
        by_type=by_type, online=int(tot["n_online"].sum()),
        prev_online=int(prev_tot["n_online"].sum()) if covered else None,
        prev_total=int(prev_tot["n"].sum()) if covered else None,
        disputed=float(tot["amount_disputed"].sum()), recovered=float(tot["amount_recovered"].sum()),
        prev_recovered=float(prev_tot["amount_recovered"].sum()) if covered else None,
        goods=goods, services=services, complaints_reports=cr_total, categories=cat_facts, problems=prob_facts, key_categories=keys)


def hotspot_facts(con, scope: Scope, period: Period, lang: str, names: dict[str, str],
                  complaints: ComplaintFacts | None) -> HotspotFacts | None:
    """Surges in the category and region × category families (the 12315 analysis page's test and
    counts), the strongest first; categories and problems among the largest rising beyond noise."""
    from reports.surges import DEFAULT_METHOD, detect_surges

    if not table_exists(con, "clean", "complaints"):
        return None
    method = DEFAULT_METHOD
    base_start = dt.datetime.combine(add_months(period.start, -method.baseline_months), dt.time())
    with registered_unit_map(con, scope):
        cm = run(con, "complaints_category_monthly", prefix=scope.prefix, start=base_start, end=period.end_ts)
    span = run(con, "complaints_data_span", prefix=scope.prefix)
    first = span["first_month"].iloc[0] if len(span) else None
    first = None if first is None or pd.isna(first) else pd.Timestamp(first).date()
    last = span["last_month"].iloc[0] if len(span) else None
    last = None if last is None or pd.isna(last) else pd.Timestamp(last).date()
    months = [m for m in period.months if last is None or m <= last]
    v = labels.value_translator(lang)
    found, tested = [], 0
    cat = cm.groupby(["category", "month"], dropna=False, as_index=False)["n"].sum() if len(cm) else cm
    for keys, frame in ((["category"], cat), (["unit_code", "category"], cm)):
        res = detect_surges(frame, keys, months, observed_from=first, method=method)
        tested += int(res.attrs.get("tested", len(res)))
        s = res[res["surge"]] if len(res) else res
        unit_names_ = {**unit_names(scope, s["unit_code"].unique(), lang), **names} if "unit_code" in s else {}
        for r in s.itertuples():
            series = v(r.category) if keys == ["category"] else f"{unit_names_.get(r.unit_code, r.unit_code)} · {v(r.category)}"
            m = pd.Timestamp(r.month)
            found.append((float(r.p_value), -int(r.count), SurgeFact(
                series=series, month=parse_period(f"{m.year}-{m.month:02d}").label(lang), count=int(r.count),
                expected=float(r.expected), ratio=float(r.ratio))))
    found.sort(key=lambda x: (x[0], x[1]))
    rising = []
    if complaints is not None:
        rising = [c for c in complaints.categories[:TOP_RISING] + complaints.problems[:TOP_RISING] if c.prev is not None]
    return HotspotFacts(surges=[f for _, _, f in found[:MAX_SURGES]], tested=tested, rising=rising)


# --------------------------------------------------------------------------------------- sampling
def sampling_facts(con, scope: Scope, period: Period, prev: Period, lang: str,
                   as_of: dt.date | None = None) -> SamplingFacts | None:
    from reference.categories import KEY_AREAS, key_category_of
    from reports.sampling_report import OVERDUE, collect, order18_limits

    if not table_exists(con, "clean", "sampling_results"):
        return None
    limits = order18_limits()
    breakdown, failed = collect(con, scope, period, as_of or period.last_day, limits)
    with registered_unit_map(con, scope):
        old = run(con, "sampling_breakdown", prefix=scope.prefix, start=prev.start, end=prev.end)
    v = labels.value_translator(lang)
    units = breakdown[breakdown.dimension == "unit"]
    if units.empty:
        return SamplingFacts(passed=0, failed=0)
    ou = old[old.dimension == "unit"]
    cats = breakdown[breakdown.dimension == "product_category"].copy()
    cats["tested"] = cats["passed"] + cats["failed"]
    cats = cats[(cats.tested >= MIN_SAMPLING_BATCHES) & (cats.failed > 0) & cats.value.notna()]
    cats = cats.assign(rate=cats.passed / cats.tested).sort_values(["rate", "tested", "value"], ascending=[True, False, True])
    allc = breakdown[breakdown.dimension == "product_category"].assign(key=lambda f: f.value.map(key_category_of))
    key_rows = []
    for k in KEY_AREAS:
        r = allc[allc.key == k]
        n_k = int((r.passed + r.failed).sum())
        if n_k:
            key_rows.append((v(k), n_k, int(r.failed.sum())))
    overdue = (int((failed["correction_status"].isin(OVERDUE) | failed["reinspection_status"].isin(OVERDUE)).sum())
               if len(failed) else 0)
    return SamplingFacts(
        passed=int(units.passed.sum()), failed=int(units.failed.sum()),
        prev_passed=int(ou.passed.sum()) if len(ou) else None, prev_failed=int(ou.failed.sum()) if len(ou) else None,
        failed_safety=int(units.failed_safety.sum()), failed_label=int(units.failed_label.sum()),
        worst=[(v(r.value), int(r.tested), int(r.failed)) for r in cats.head(3).itertuples()],
        key_categories=key_rows, overdue=overdue, min_batches=MIN_SAMPLING_BATCHES)


# -------------------------------------------------------------------------------------------- KPI
def kpi_facts(con, scope: Scope, period: Period, lang: str, names: dict[str, str]) -> list[KpiFact]:
    from reports.kpi import KPI_BY_ID, NONE, scorecard
    from reports.kpi_scorecard import TOTAL, collect, with_total

    counts, _, _ = collect(con, scope, period)
    if counts.empty:
        return []
    sc = scorecard(with_total(counts))
    codes = [c for c in sc.unit_code.unique() if c != TOTAL]
    nm = {**unit_names(scope, codes, lang), **{c: n for c, n in names.items() if c in codes}}
    out = []
    for r in sc.itertuples():
        k = KPI_BY_ID[r.kpi_id]
        if r.status == NONE:
            continue
        out.append(KpiFact(label=k.zh if lang == "zh" else k.en, numerator=int(r.numerator), denominator=int(r.denominator),
                           target=k.target_float, status=r.status, unit=None if r.unit_code == TOTAL else nm[r.unit_code],
                           few_records=bool(r.few_records), per10k=k.scale != 1))
    return out


# ----------------------------------------------------------------------------------- data quality
def quality_facts(con, period: Period, d=None) -> QualityFacts:
    q = QualityFacts(provisional=render.provisional_banner())
    if table_exists(con, "dq", "runs"):
        from data_quality import scorecard as sc
        from reports.dq_report import partitions_for

        parts = partitions_for("complaints", period, sc.checked_partitions(con, "complaints"))
        if parts:
            ov = sc.overview(con, ["complaints"], parts)
            q.rows_checked = int(ov["rows_staged"].sum())
            q.rows_quarantined = int(ov["rows_quarantined"].sum())
            q.rows_flagged = int(ov["rows_flagged"].sum())
            q.months_checked = int(ov["month"].nunique())
            q.stale_months = list(sc.stale_partitions(con, "complaints", parts))
    if d is not None:
        from reports.index_report import self_reported_labels

        vals = d.values
        if not vals.empty and "small_count" in vals:
            q.value_cells = int(len(vals))
            q.small_count_cells = int(vals["small_count"].fillna(False).astype(bool).sum())
        q.self_reported = self_reported_labels(d)
        q.notes = list(d.notes)
    return q


# ------------------------------------------------------------------------------------------ gather
def gather(con, scope: Scope, period: Period, lang: str = "zh", *, data=None,
           sampling_as_of: dt.date | None = None) -> NarrativeInput:
    """Every fact of the analysis for one scope and period. ``data``: the
    :class:`reports.index_report.IndexData` of the index outputs (None: no index this period)."""
    labels.check_lang(lang)
    prev, kind = comparison(period)
    names = dict(data.names) if data is not None else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        complaints = complaint_facts(con, scope, period, prev, lang)
        hotspots = hotspot_facts(con, scope, period, lang, names, complaints)
        sampling = sampling_facts(con, scope, period, prev, lang, sampling_as_of)
        kpis = kpi_facts(con, scope, period, lang, names) if table_exists(con, "clean", "complaints") else []
    return NarrativeInput(
        scope_name=scope.name, period_label=period.label(lang),
        comparison_label=prev.label(lang), comparison_kind=kind, unit_word=UNIT_WORDS.get(scope.unit_level, "region"),
        index=index_facts(data) if data is not None else None, complaints=complaints, hotspots=hotspots,
        sampling=sampling, kpis=kpis, boards=board_facts(data) if data is not None else [],
        quality=quality_facts(con, period, data))
