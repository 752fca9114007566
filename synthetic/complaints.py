"""12315 records (投诉 complaints, 举报 reports, 咨询 consultations) for one year, vectorised.

Volumes and mixes follow docs/domain.md §3.4; regional differences come from the latent traits of
``regions`` (see ``regions.TRAIT_EFFECTS``). A year is built as one typed frame (codes, datetimes,
floats) and turned into strings only when a month file is written (:func:`to_strings`).

Lifecycle (docs/domain.md §2.6, Order No. 20), measured in working days on the Chinese calendar:

- 投诉: ``accepted_at`` = the accept / not-accept decision, 0–6 working days after ``received_at``
  (limit 7); 受理 ≈ 73 %. An accepted complaint closes 1–44 working days after acceptance (limit
  45) with a mediation result; 不予受理 closes at the decision, with no mediation result.
- 举报: ``accepted_at`` = the 核查 decision (report checked, 立案/不予立案 decided), 1–14 working days
  after receipt (limit 15); ``report_substantiated`` is set once checked.
- About 2 % of accepted complaints are never closed (未按期办结; fewer where ``handling_speed`` is high):
  ``closed_at`` and the outcome stay empty, so 办结率 over complaints whose 45 working days have
  passed is ≈ 98 % (published 91.7–98.8 %, docs/domain.md §2.5).
- 咨询: no decision (``accept_decision`` and ``accepted_at`` empty), closed the same or next day.
- The export date is the last second of the last year: anything that would happen later is still
  open (``closed_at`` empty, and no outcome yet) — a few records received in late December.

Seasonality: monthly weights peak in March (3·15) and November (双11); more records on working
days; hotline and counter records fall in office hours, online ones spread into the evening.
Bursts: a few respondents ("bad actors": a gym or training school that closes with prepaid cards,
a batch of faulty products) and (prefecture, category) cells get a burst of complaints in one
month; they are listed in manifest.json under ``planted_surges``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.schema import CHANNELS, COMPLAINTS, MEDIATION_RESULTS, PROBLEM_TYPES, SATISFACTION_LEVELS

from . import vocab
from .businesses import Businesses, GroupedPool
from .people import make_complainants
from .regions import Universe, volume_weights
from .text import build_content, make_unique
from .timeutil import Workdays, at, month_of, office_seconds, year_days

COMPLAINT, REPORT, CONSULT = 0, 1, 2
# share of accepted complaints left unclosed (未按期办结), lower where handling is fast: 办结率 ≈ 98 %
# (published 办结率 91.7–98.8 %, docs/domain.md §2.5)
UNCLOSED_SHARE = 0.02
TYPE_NAMES = np.array(["投诉", "举报", "咨询"], dtype=object)
N_CAT = len(vocab.CATEGORIES)
N_PROB = len(PROBLEM_TYPES)
NAT = np.datetime64("NaT", "s")
PROB = {p: i for i, p in enumerate(PROBLEM_TYPES)}
CAT = {c: i for i, c in enumerate(vocab.CATEGORIES)}
CH = {c: i for i, c in enumerate(CHANNELS)}
SUCCESS = (0, 1)  # 达成调解协议, 协商和解成功


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def logit(p):
    return np.log(p / (1 - p))


def calibrate(x: np.ndarray, target: float) -> float:
    """Intercept b such that mean(sigmoid(x + b)) = target (bisection; keeps regional spread)."""
    if len(x) == 0:
        return float(logit(target))
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(x + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def categorical_logits(rng: np.random.Generator, logits: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """One draw per row from softmax(logits) (Gumbel-max), in chunks to bound memory."""
    out = np.empty(len(logits), dtype=np.int64)
    for s in range(0, len(logits), chunk):
        block = logits[s:s + chunk]
        out[s:s + chunk] = np.argmax(block + rng.gumbel(size=block.shape), axis=1)
    return out


def problem_matrix(mix: dict, cat_weight: np.ndarray) -> np.ndarray:
    """P(problem | category) with the given marginal mix (iterative proportional fitting).

    Affinities say which problems fit which categories (食品安全 only for food, 假冒/商标/计量 mostly
    goods, 合同 and 人身权利 more for services, 安全 more for vehicles and appliances …).
    """
    A = np.ones((N_CAT, N_PROB))
    goods = np.arange(N_CAT) < vocab.N_GOODS
    food = np.isin(np.array(vocab.CATEGORIES), vocab.FOOD_CATEGORIES)
    A[~food, PROB["食品安全"]] = 0.0
    A[food, PROB["食品安全"]] = 6.0
    for p, s_goods, s_serv in (("假冒", 1.0, 0.05), ("商标", 1.0, 0.05), ("计量", 1.0, 0.3), ("检验检测", 1.0, 0.3),
                               ("售后服务", 1.4, 0.8), ("合同", 0.7, 2.5), ("人身权利", 0.5, 2.0), ("质量", 1.4, 0.6)):
        A[goods, PROB[p]] *= s_goods
        A[~goods, PROB[p]] *= s_serv
    for c, f in (("交通工具", 3.0), ("家用电子电器", 2.5), ("文化娱乐体育服务", 2.0), ("其他服务", 1.3), ("医疗器械", 2.0)):
        A[CAT[c], PROB["安全"]] *= f
    for c in ("保健食品", "化妆品", "教育培训服务", "美容美发洗浴服务"):
        A[CAT[c], PROB["虚假宣传"]] *= 2.5
    A[CAT["餐饮和住宿服务"], PROB["计量"]] = 1.0
    target = np.array([mix[p] for p in PROBLEM_TYPES], dtype=float)
    target /= target.sum()
    base = target.copy()
    for _ in range(300):
        P = A * base
        P /= P.sum(axis=1, keepdims=True)
        marg = cat_weight @ P
        base *= np.where(marg > 0, target / np.maximum(marg, 1e-12), 1.0)
    return P


@dataclass
class ComplaintModel:
    u: Universe
    wd: Workdays
    resp: Businesses
    resp_pool: GroupedPool  # groups = region * N_CAT + category
    eu_pool: GroupedPool  # groups = region
    log_p: np.ndarray  # (3 record types, N_CAT, N_PROB)
    cat_goods: np.ndarray  # category weights within goods
    cat_serv: np.ndarray
    re: dict  # region random effects (logit scale) not tied to a trait


def category_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.array([vocab.GOODS_CATEGORY_WEIGHTS[c] for c in vocab.CATEGORIES[: vocab.N_GOODS]])
    s = np.array([vocab.SERVICE_CATEGORY_WEIGHTS[c] for c in vocab.CATEGORIES[vocab.N_GOODS:]])
    g, s = g / g.sum(), s / s.sum()
    return g, s, np.concatenate([0.6 * g, 0.4 * s])


def build_model(u: Universe, wd: Workdays, resp: Businesses, seed: int) -> ComplaintModel:
    g, s, overall = category_weights()
    log_p = np.stack([
        np.log(np.maximum(problem_matrix(m, overall), 1e-300))
        for m in (vocab.COMPLAINT_PROBLEM_MIX, vocab.REPORT_PROBLEM_MIX, vocab.CONSULT_PROBLEM_MIX)
    ])
    n_c = len(u.counties)
    order = np.lexsort((resp.category, resp.region_idx))
    assert (order == np.arange(len(order))).all(), "respondent pool must be sorted by (region, category)"
    resp_pool = GroupedPool(resp.region_idx.astype(np.int64) * N_CAT + resp.category, resp.weight, n_c * N_CAT)
    eu = u.entry_units
    eu_pool = GroupedPool(eu.county_idx.to_numpy(), eu.weight.to_numpy(), n_c)
    rng = np.random.default_rng([seed, 102])
    re = {k: rng.normal(0, sd, n_c) for k, sd in (
        ("accept", 0.15), ("goods", 0.12), ("online", 0.2), ("med", 0.12), ("case", 0.15), ("sat", 0.15),
        ("consult", 0.06),
    )}
    return ComplaintModel(u, wd, resp, resp_pool, eu_pool, log_p, g, s, re)


def expected_by_category(u: Universe, n_per_year: int, year: int) -> np.ndarray:
    """Expected 投诉/举报 (+ the 咨询 that name a business) per (region, category) and year."""
    _, _, overall = category_weights()
    return n_per_year * 0.7 * np.outer(volume_weights(u, year), overall)


def day_weights(wd: Workdays, year: int) -> tuple[np.ndarray, np.ndarray]:
    days = year_days(year)
    m = month_of(days)
    w = np.where(wd.is_workday(days), 1.0, 0.55)
    dom = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    w = w * np.where((m == 3) & (dom >= 10) & (dom <= 20), 1.6, 1.0)  # 3·15 week
    w = w * np.where((m == 11) & (dom >= 11) & (dom <= 20), 1.5, 1.0)  # after 双11
    w = w * np.where((m == 6) & (dom >= 18) & (dom <= 22), 1.3, 1.0)  # 618
    month_total = pd.Series(w).groupby(m).transform("sum").to_numpy()
    w = w / month_total * np.asarray(vocab.MONTH_WEIGHTS)[m - 1]
    return days, w / w.sum()


# --- bursts ------------------------------------------------------------------------------------------
def plan_bursts(model: ComplaintModel, year: int, n_total: int, rng: np.random.Generator) -> list[dict]:
    if n_total < 1000:
        return []
    u = model.u
    valid = u.valid_counties(year)
    n_pref = len(np.unique(u.county_pref_idx[valid]))
    bursts: list[dict] = []
    resp = model.resp
    burst_cats = np.array([CAT[c] for c in vocab.BURST_CATEGORIES])
    eligible = np.flatnonzero(np.isin(resp.category, burst_cats) & valid[resp.region_idx] & (resp.uscc != ""))
    for _ in range(min(12, max(1, round(0.3 * n_pref)))):
        b = int(rng.choice(eligible, p=resp.weight[eligible] / resp.weight[eligible].sum()))
        month = int(rng.integers(1, 13))
        size = max(12, int(round(n_total * rng.uniform(0.002, 0.005))))
        bursts.append({"kind": "respondent", "month": month, "respondent": b, "size": size,
                       "region": int(resp.region_idx[b]), "category": int(resp.category[b])})
    vw = volume_weights(u, year)
    pref_w = pd.Series(vw).groupby(u.county_pref_idx).sum()
    _, _, overall = category_weights()
    for _ in range(min(8, max(1, round(0.2 * n_pref)))):
        p = int(rng.choice(pref_w.index.to_numpy(), p=pref_w.to_numpy() / pref_w.sum()))
        k = int(rng.choice(N_CAT, p=overall))
        month = int(rng.integers(1, 13))
        expected = n_total * pref_w[p] * overall[k] * 0.58 / 12
        size = max(15, int(round(2.5 * expected)))
        bursts.append({"kind": "category", "month": month, "prefecture": p, "size": size, "category": k})
    total = sum(b["size"] for b in bursts)
    cap = int(0.06 * n_total)
    if total > cap:
        for b in bursts:
            b["size"] = max(5, int(b["size"] * cap / total))
    return bursts


def _burst_records(model: ComplaintModel, bursts: list[dict], year: int, rng: np.random.Generator) -> dict:
    u = model.u
    vw = volume_weights(u, year)
    cols = {k: [] for k in ("county", "day", "cat", "resp", "prob", "type", "burst")}
    for i, b in enumerate(bursts):  # a handful of bursts: a tiny loop
        n = b["size"]
        first = np.datetime64(f"{year}-{b['month']:02d}-01")
        last = (first.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
        window = int(rng.integers(7, 15))
        start = first + int(rng.integers(0, max(1, (last - first).astype(int) - window + 2)))
        day = np.minimum(start + rng.integers(0, window, n), last)
        if b["kind"] == "respondent":
            county = np.full(n, b["region"])
            resp = np.full(n, b["respondent"])
            goods = b["category"] < vocab.N_GOODS
            mix = (("质量", 0.6), ("售后服务", 0.3), ("虚假宣传", 0.1)) if goods else (("合同", 0.6), ("售后服务", 0.25), ("欺诈", 0.15))
            prob = np.array([PROB[p] for p, _ in mix])[rng.choice(len(mix), n, p=[w for _, w in mix])]
        else:
            in_pref = np.flatnonzero((u.county_pref_idx == b["prefecture"]) & (vw > 0))
            county = rng.choice(in_pref, n, p=vw[in_pref] / vw[in_pref].sum())
            resp = np.full(n, -1)
            prob = np.full(n, -1)
        cols["county"].append(county)
        cols["day"].append(day)
        cols["cat"].append(np.full(n, b["category"]))
        cols["resp"].append(resp)
        cols["prob"].append(prob)
        cols["type"].append(np.where(rng.random(n) < 0.85, COMPLAINT, REPORT))
        cols["burst"].append(np.full(n, i))
    return {k: np.concatenate(v) if v else np.array([], dtype=np.int64) for k, v in cols.items()}


# --- lifecycle ------------------------------------------------------------------------------------------
def schedule(wd: Workdays, rng: np.random.Generator, received: np.ndarray, rtype: np.ndarray,
             decision: np.ndarray, k_acc: np.ndarray, m_close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """accepted_at and closed_at from the receipt and working-day offsets (no export cut-off yet)."""
    n = len(received)
    rday = received.astype("datetime64[D]")
    rsec = (received - rday.astype("datetime64[s]")).astype(np.int64)
    decides = rtype != CONSULT
    aday = wd.add(rday, np.where(decides, k_acc, 0))
    asec = np.where(k_acc == 0, np.minimum(rsec + rng.integers(600, 3 * 3600, n), 86399), office_seconds(rng, n))
    accepted = np.where(decides, at(aday, asec), NAT)
    rejected = decision == 1
    cday = wd.add(aday, np.where(rejected | ~decides, 0, m_close))
    closed_dec = np.where(rejected, accepted, at(cday, office_seconds(rng, n)))
    next_day = rng.random(n) < 0.25
    cons_close = np.where(next_day, at(rday + 1, office_seconds(rng, n)),
                          at(rday, np.minimum(rsec + rng.integers(120, 2400, n), 86399)))
    closed = np.where(decides, closed_dec, cons_close)
    return accepted, closed


def apply_cutoff(f: pd.DataFrame, as_of: np.datetime64) -> None:
    """Blank what had not happened by the export date (in place): decisions, closures, outcomes."""
    acc = f["accepted"].to_numpy()
    pending = ~np.isnat(acc) & (acc > as_of)
    f.loc[pending, "accepted"] = NAT
    f.loc[pending, "decision"] = -1
    f.loc[pending, "substantiated"] = -1
    clo = f["closed"].to_numpy()
    open_ = pending | (~np.isnat(clo) & (clo > as_of))
    f.loc[open_, "closed"] = NAT
    f.loc[open_, "mediation"] = -1
    f.loc[open_, "recovered"] = np.nan
    f.loc[open_, "satisfaction"] = -1
    f.loc[open_, "settled"] = False
    f.loc[open_, "case_filed"] = False


def _received_seconds(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    n = len(channel)
    online = np.isin(channel, [CH[c] for c in vocab.ONLINE_CHANNELS])
    phone = channel == CH["电话"]
    u = rng.random(n)
    office = office_seconds(rng, n)
    evening = rng.integers(17 * 3600 + 1800, 23 * 3600 + 50 * 60, n)
    night = rng.integers(0, 8 * 3600 + 1800, n)
    late_phone = rng.integers(17 * 3600 + 1800, 20 * 3600, n)
    sec = np.where(online, np.where(u < 0.55, office, np.where(u < 0.9, evening, night)),
                   np.where(phone & (u < 0.12), late_phone, office))
    return sec


# --- one year --------------------------------------------------------------------------------------------
def generate_year(model: ComplaintModel, year: int, n_total: int, as_of: np.datetime64,
                  rng: np.random.Generator, taken: set, pii_share: float = 0.2) -> tuple[pd.DataFrame, list[dict]]:
    u, wd = model.u, model.wd
    T = {t: u.trait(t) for t in (
        "business_integrity", "product_quality", "service_access", "handling_speed", "mediation_effectiveness",
        "enforcement")}
    bursts = plan_bursts(model, year, n_total, rng)
    burst = _burst_records(model, bursts, year, rng)
    n_base = n_total - len(burst["county"])
    vw = volume_weights(u, year)
    days, dw = day_weights(wd, year)
    county = np.concatenate([rng.choice(len(vw), n_base, p=vw), burst["county"]]).astype(np.int64)
    day = np.concatenate([days[rng.choice(len(days), n_base, p=dw)], burst["day"].astype("datetime64[D]")])
    f_cat = np.concatenate([np.full(n_base, -1), burst["cat"]]).astype(np.int64)
    f_resp = np.concatenate([np.full(n_base, -1), burst["resp"]]).astype(np.int64)
    f_prob = np.concatenate([np.full(n_base, -1), burst["prob"]]).astype(np.int64)
    f_type = np.concatenate([np.full(n_base, -1), burst["type"]]).astype(np.int64)
    burst_id = np.concatenate([np.full(n_base, -1), burst["burst"]]).astype(np.int64)
    n = len(county)
    month = month_of(day)
    integ = T["business_integrity"][county]

    # record type: 投诉 35–50 %, 举报 12–20 %, 咨询 35–50 %
    p_rep = np.clip(0.155 * np.exp(-0.12 * integ), 0.115, 0.205)
    p_con = np.clip(0.42 * np.exp(model.re["consult"][county]), 0.36, 0.48)
    u1 = rng.random(n)
    rtype = np.where(u1 < p_rep, REPORT, np.where(u1 < p_rep + p_con, CONSULT, COMPLAINT))
    rtype = np.where(f_type >= 0, f_type, rtype)

    # object type and category (goods 55–65 %)
    p_goods = sigmoid(logit(0.60) + model.re["goods"][county])
    goods = rng.random(n) < p_goods
    cat = np.where(goods, rng.choice(vocab.N_GOODS, n, p=model.cat_goods),
                   vocab.N_GOODS + rng.choice(N_CAT - vocab.N_GOODS, n, p=model.cat_serv))
    cat = np.where(f_cat >= 0, f_cat, cat)
    goods = cat < vocab.N_GOODS

    # problem type: type- and category-specific mix, shifted by integrity (fraud) and quality (safety)
    logits = model.log_p[rtype, cat]
    fraud = [PROB[p] for p in vocab.FRAUD_PROBLEMS]
    safety = [PROB[p] for p in vocab.SAFETY_PROBLEMS]
    logits[:, fraud] += (-0.45 * integ)[:, None]
    logits[:, safety] += (-0.35 * T["product_quality"][county])[:, None]
    problem = categorical_logits(rng, logits)
    problem = np.where(f_prob >= 0, f_prob, problem)

    # channel: hotline 45–80 %, online self-registration rising over time
    base_oc = np.clip(0.30 + 0.035 * (year - 2022), 0.12, 0.60)
    z = logit(base_oc) + 0.45 * T["service_access"][county] + 0.01 * (month - 6.5)
    z = z + np.select([rtype == CONSULT, rtype == REPORT], [-0.45, 0.35], 0.0)
    s_online = sigmoid(z)
    u2 = rng.random(n)
    other = u2 < vocab.OTHER_CHANNEL_SHARE
    web = ~other & (rng.random(n) < s_online)
    web_ch = np.array([CH[c] for c in vocab.ONLINE_CHANNELS])[rng.choice(3, n, p=vocab.ONLINE_CHANNEL_SPLIT)]
    oth_ch = np.array([CH[c] for c in vocab.OTHER_CHANNELS])[rng.choice(4, n, p=vocab.OTHER_CHANNEL_SPLIT)]
    channel = np.where(other, oth_ch, np.where(web, web_ch, CH["电话"]))

    # online shopping (网购) 28–43 % of 投诉+举报, rising with time; platforms by object type
    target_online = float(np.clip(0.28 + 0.15 * (1 - np.exp(-(year - 2019.5) / 3.0)), 0.28, 0.43))
    district = (u.counties.kind.to_numpy() == "district")[county]
    zo = (np.where(goods, 0.35, -0.55) + 0.25 * district + model.re["online"][county]
          + np.where(month == 11, 0.35, 0.0) + np.where(month == 6, 0.15, 0.0) + 0.015 * (month - 6.5))
    zo = zo + np.where(rtype == CONSULT, -0.4, 0.0)
    b = calibrate(zo[rtype != CONSULT], target_online)
    online = rng.random(n) < sigmoid(zo + b)
    platform = np.full(n, "", dtype=object)
    for is_g, table in ((True, vocab.GOODS_PLATFORMS), (False, vocab.SERVICE_PLATFORMS)):
        w = np.array([max(0.005, w0 + dw_ * (year - 2020)) for _, w0, dw_ in table])
        sel = online & (goods == is_g)
        platform[sel] = np.array([p for p, _, _ in table], dtype=object)[rng.choice(len(w), int(sel.sum()), p=w / w.sum())]

    # respondent (always for 投诉/举报, 30 % of 咨询) and the entry unit that keyed the record
    wants = (rtype != CONSULT) | (rng.random(n) < 0.3)
    resp = np.where(wants, model.resp_pool.draw(rng, county * N_CAT + cat), -1)
    resp = np.where(f_resp >= 0, f_resp, resp)
    entry = model.eu_pool.draw(rng, county)

    # times and working-day offsets
    received = at(day, _received_seconds(rng, channel))
    speed = T["handling_speed"][county]
    k_acc = np.minimum(6, 1 + np.floor(rng.exponential(1.6 * np.exp(-0.3 * speed)))).astype(np.int64)
    rsec = (received - day.astype("datetime64[s]")).astype(np.int64)
    same_day_ok = wd.is_workday(day) & (rsec < 16 * 3600)
    k_acc = np.where((rng.random(n) < 0.08) & same_day_ok, 0, k_acc)
    k_rep = np.clip(np.round(rng.lognormal(np.log(6 * np.exp(-0.3 * speed)), 0.5)), 1, 14).astype(np.int64)
    k_acc = np.where(rtype == REPORT, k_rep, k_acc)

    # decisions and outcomes
    p_acc = np.where(rtype == COMPLAINT, sigmoid(logit(0.73) + model.re["accept"][county]), 0.88)
    decision = np.where(rtype == CONSULT, -1, np.where(rng.random(n) < p_acc, 0, 1)).astype(np.int64)
    med_t = T["mediation_effectiveness"][county]
    accepted_c = (rtype == COMPLAINT) & (decision == 0)
    zm = 0.42 * med_t + model.re["med"][county]
    bm = calibrate(zm[accepted_c], 0.52)
    success = accepted_c & (rng.random(n) < sigmoid(zm + bm))
    odr = success & (rng.random(n) < sigmoid(logit(0.28) + 0.45 * integ))
    m_med = np.clip(np.round(rng.lognormal(np.log(9 * np.exp(-0.3 * speed)), 0.7)), 1, 44)
    m_odr = np.minimum(44, 1 + np.floor(rng.exponential(2.0, n)))
    m_rep = np.clip(np.round(rng.lognormal(np.log(12), 0.6)), 1, 40)
    m_close = np.where(rtype == REPORT, m_rep, np.where(odr, m_odr, m_med)).astype(np.int64)
    fail_codes = np.array([2, 3, 4, 5])
    mediation = np.where(
        success, np.where(odr | (rng.random(n) < 0.55), 1, 0),
        fail_codes[rng.choice(4, n, p=[0.25, 0.35, 0.30, 0.10])])
    mediation = np.where(accepted_c, mediation, -1)

    # money: log-normal amount in dispute per category; recovered mostly when mediation succeeded
    med_amt = np.array([vocab.AMOUNT_MEDIAN[c] for c in vocab.CATEGORIES])[cat]
    disputed = np.clip(rng.lognormal(np.log(med_amt), 1.0), 1.0, 2_000_000.0)
    disputed = np.where(rng.random(n) < 0.6, np.maximum(1.0, np.round(disputed)), np.round(disputed, 2))
    disputed = np.where((rtype == COMPLAINT) & (rng.random(n) < 0.88), disputed, np.nan)
    frac = np.where(odr, rng.beta(3.0, 1.5, n), rng.beta(1.2, 2.8, n)) * np.exp(0.08 * med_t)
    frac = np.clip(frac, 0.01, 1.0)
    fraud_paid = success & (problem == PROB["欺诈"]) & (rng.random(n) < 0.25)  # 退一赔三 = 4 × price
    frac = np.where(fraud_paid, 4.0, frac)
    # money is recovered only where mediation or settlement succeeded (挽回经济损失 counts refunds and
    # compensation obtained); a failed, withdrawn or terminated complaint records 0.00
    frac = np.where(success, frac, 0.0)
    recovered = np.round(disputed * frac, 2)
    recovered = np.where(rng.random(n) < 0.5, np.floor(recovered), recovered)  # floor: never above disputed
    recovered = np.where(accepted_c & ~np.isnan(disputed), recovered, np.nan)

    enf = T["enforcement"][county]
    violation = np.isin(problem, [PROB[p] for p in vocab.VIOLATION_PROBLEMS])
    substantiated = np.where((rtype == REPORT) & (decision == 0),
                             (rng.random(n) < sigmoid(logit(0.45) + 0.45 * enf - 0.3 * integ)).astype(np.int64), -1)
    case_c = accepted_c & (rng.random(n) < sigmoid(logit(0.012) + 0.55 * enf + 1.0 * violation + model.re["case"][county]))
    case_r = (substantiated == 1) & (rng.random(n) < sigmoid(logit(0.30) + 0.55 * enf + model.re["case"][county]))
    case_filed = case_c | case_r

    # satisfaction callback (回访): ordinal logistic on success and mediation effectiveness
    callback = rng.random(n) < np.select(
        [accepted_c, rtype == COMPLAINT, rtype == REPORT], [0.92, 0.65, 0.7], 0.55)
    zs = (np.select([accepted_c, rtype == COMPLAINT, rtype == REPORT], [0.4, 0.0, 0.5], 1.5)
          + 1.2 * success + 0.35 * med_t + model.re["sat"][county] + rng.logistic(size=n))
    sat = np.where(zs > 0.2, 0, np.where(zs > -1.3, 1, 2))
    satisfaction = np.where(callback, sat, 3)

    f = pd.DataFrame({
        "county": county.astype(np.int32),
        "received": received,
        "rtype": rtype.astype(np.int8),
        "channel": channel.astype(np.int8),
        "decision": decision.astype(np.int8),
        "entry": entry.astype(np.int32),
        "resp": resp.astype(np.int32),
        "category": cat.astype(np.int16),
        "problem": problem.astype(np.int8),
        "online": online,
        "platform": platform,
        "disputed": disputed,
        "recovered": recovered,
        "mediation": mediation.astype(np.int8),
        "settled": odr,
        "case_filed": case_filed,
        "substantiated": substantiated.astype(np.int8),
        "satisfaction": satisfaction.astype(np.int8),
        "k_acc": k_acc.astype(np.int16),
        "m_close": m_close.astype(np.int16),
        "burst": burst_id.astype(np.int16),
    })
    accepted, closed = schedule(wd, rng, received, rtype, decision, k_acc, m_close)
    f["accepted"] = accepted
    f["closed"] = closed
    apply_cutoff(f, as_of)

    # complainants and free text
    local = u.scope["code"][:2] if u.scope["unit_level"] == "prefecture" else (
        u.scope["code"][:4] if u.scope["unit_level"] == "county" else "")
    people = make_complainants(rng, rtype, year, local, taken)
    resp_name = np.where(resp >= 0, model.resp.name[np.maximum(resp, 0)], "").astype(object)
    shop_word = np.array(["旗舰店", "专营店", "官方旗舰店", "小店", "专卖店"], dtype=object)[rng.integers(0, 5, n)]
    shop = np.where(resp >= 0, model.resp.zihao[np.maximum(resp, 0)] + shop_word, "")
    content, mention = build_content(rng, rtype, cat, problem, online, platform, resp_name, shop, disputed,
                                     day, people["name"], people["phone"], people["id_number"], pii_share)
    content = make_unique(content, people["name"] != "", people["name"], resp_name)
    f["name"] = people["name"]
    f["phone"] = people["phone"]
    f["id_number"] = people["id_number"]
    f["content"] = content
    f["pii_in_content"] = mention
    f["defect"] = ""
    f["blank"] = ""
    f["region_override"] = ""
    f["uscc_override"] = ""
    # A few accepted complaints are never closed (未按期办结): mediation neither concluded nor terminated
    # by the export date, what 办结率 (target 100 %) measures. Drawn last, so nothing else moves.
    stuck = accepted_c & ~np.isnat(f["closed"].to_numpy()) & (rng.random(n) < sigmoid(logit(UNCLOSED_SHARE) - 0.5 * speed))
    f.loc[stuck, "closed"] = NAT
    f.loc[stuck, "mediation"] = -1
    f.loc[stuck, "recovered"] = np.nan
    f.loc[stuck, "satisfaction"] = -1
    f.loc[stuck, "settled"] = False
    f.loc[stuck, "case_filed"] = False
    return f, bursts


def finalize(f: pd.DataFrame, u: Universe) -> pd.DataFrame:
    """Sort by receipt and assign 登记编号: handling region + YYYYMMDD + 5-digit daily sequence."""
    f = f.sort_values(["received", "county"], kind="stable").reset_index(drop=True)
    day = f["received"].to_numpy().astype("datetime64[D]")
    seq = f.groupby([f["county"], day], sort=False).cumcount().to_numpy() + 1
    codes = u.counties.code.to_numpy(dtype=object)[f["county"].to_numpy()]
    ymd = np.datetime_as_string(day, unit="D").astype(object)
    ymd = pd.Series(ymd).str.replace("-", "", regex=False).to_numpy(dtype=object)
    f["record_id"] = codes + ymd + pd.Series(seq).astype(str).str.zfill(5).to_numpy(dtype=object)
    return f


# --- strings -----------------------------------------------------------------------------------------------
def fmt_datetime(a: np.ndarray) -> np.ndarray:
    """datetime64 -> 'YYYY-MM-DD HH:MM:SS' ('' for NaT), without a Python loop."""
    a = np.asarray(a, dtype="datetime64[s]")
    s = np.datetime_as_string(a, unit="s")  # 2025-03-05T09:12:00
    cp = s.astype("<U19").view(np.uint32).reshape(len(s), 19).copy()
    cp[:, 10] = ord(" ")
    out = cp.view("<U19").ravel().astype(object)
    out[np.isnat(a)] = ""
    return out


def fmt_date(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype="datetime64[D]")
    out = np.datetime_as_string(a, unit="D").astype(object)
    out[np.isnat(a)] = ""
    return out


def fmt_money(x: np.ndarray) -> np.ndarray:
    """Yuan with 2 decimals ('' for NaN); exact via integer cents."""
    x = np.asarray(x, dtype=float)
    nan = np.isnan(x)
    cents = np.round(np.nan_to_num(x) * 100).astype(np.int64)
    neg = cents < 0
    a = np.abs(cents)
    whole = (a // 100).astype(str).astype(object)
    frac = pd.Series(a % 100).astype(str).str.zfill(2).to_numpy(dtype=object)
    out = np.where(neg, "-", "") + whole + "." + frac
    out[nan] = ""
    return out


def fmt_bool(b: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(b, dtype=bool), "是", "否").astype(object)


def to_strings(f: pd.DataFrame, model: ComplaintModel) -> pd.DataFrame:
    """The delivered columns (COMPLAINTS order, canonical names), every value a string."""
    u, resp = model.u, model.resp
    r = f["resp"].to_numpy()
    has = r >= 0
    ri = np.maximum(r, 0)
    rtype = f["rtype"].to_numpy()
    dec = f["decision"].to_numpy()
    med = f["mediation"].to_numpy()
    sat = f["satisfaction"].to_numpy()
    sub = f["substantiated"].to_numpy()
    codes = u.counties.code.to_numpy(dtype=object)
    cats = np.asarray(vocab.CATEGORIES, dtype=object)
    out = {
        "record_id": f["record_id"].to_numpy(dtype=object),
        "record_type": TYPE_NAMES[rtype],
        "channel": np.asarray(CHANNELS, dtype=object)[f["channel"].to_numpy()],
        "received_at": fmt_datetime(f["received"].to_numpy()),
        "accepted_at": fmt_datetime(f["accepted"].to_numpy()),
        "closed_at": fmt_datetime(f["closed"].to_numpy()),
        "accept_decision": np.where(dec == 0, "受理", np.where(dec == 1, "不予受理", "")).astype(object),
        "entry_unit_id": u.entry_units.unit_id.to_numpy(dtype=object)[f["entry"].to_numpy()],
        "handling_region_code": codes[f["county"].to_numpy()],
        "respondent_name": np.where(has, resp.name[ri], "").astype(object),
        "respondent_uscc": np.where(has, resp.uscc[ri], "").astype(object),
        "respondent_region_code": np.where(has, resp.region_code[ri], "").astype(object),
        # object type from the one category table (reference/data/key_categories.csv)
        "object_type": np.asarray([vocab.OBJECT_TYPE[c] for c in vocab.CATEGORIES], dtype=object)[f["category"].to_numpy()],
        "category": cats[f["category"].to_numpy()],
        "problem_type": np.asarray(PROBLEM_TYPES, dtype=object)[f["problem"].to_numpy()],
        "is_online": fmt_bool(f["online"].to_numpy()),
        "platform_name": f["platform"].to_numpy(dtype=object),
        "amount_disputed": fmt_money(f["disputed"].to_numpy()),
        "amount_recovered": fmt_money(f["recovered"].to_numpy()),
        "mediation_result": np.where(med >= 0, np.asarray(MEDIATION_RESULTS, dtype=object)[np.maximum(med, 0)], "").astype(object),
        "settled_by_business": fmt_bool(f["settled"].to_numpy()),
        "case_filed": fmt_bool(f["case_filed"].to_numpy()),
        "report_substantiated": np.where(sub == 1, "是", np.where(sub == 0, "否", "")).astype(object),
        "satisfaction": np.where(sat >= 0, np.asarray(SATISFACTION_LEVELS, dtype=object)[np.maximum(sat, 0)], "").astype(object),
        "complainant_name": f["name"].to_numpy(dtype=object),
        "complainant_phone": f["phone"].to_numpy(dtype=object),
        "complainant_id_number": f["id_number"].to_numpy(dtype=object),
        "content": f["content"].to_numpy(dtype=object),
    }
    # injected defects that live in the string form
    ov = f["region_override"].to_numpy(dtype=object)
    sel = ov != ""
    out["handling_region_code"] = np.where(sel, ov, out["handling_region_code"])
    ov = f["uscc_override"].to_numpy(dtype=object)
    sel = ov != ""
    out["respondent_uscc"] = np.where(sel, ov, out["respondent_uscc"])
    blank = f["blank"].to_numpy(dtype=object)
    for col in np.unique(blank[blank != ""]):
        out[col] = np.where(blank == col, "", out[col])
    df = pd.DataFrame(out)
    assert list(df.columns) == COMPLAINTS.column_names
    return df
