"""Commodity quality sampling results (商品质量抽检结果) for one year, vectorised.

Volume: ``records_per_year / 25`` batches a year across the scope (nationally ~1.07 million
batches against ~39 million 12315 items), split over handling regions by population, sampled on
working days, more in Q2–Q3.

Venues 商场/超市/市场/专卖店/电商 (``is_online`` = venue 电商). Fail rates (docs/domain.md §4.4):
physical stores 12–18 %, e-commerce 20–25 %, shifted by the region's ``product_quality`` trait and by
product line — a few lines (家用双层床, 电动晾衣架, 塑料购物袋, 电动自行车充电器 …) fail far more
often. A failed batch names its failed test items (``failed_items``, joined with 、) and flags
whether a safety item or a labelling item failed (labelling failures are more frequent where
``business_integrity`` is low).

Disposal of a failed batch (Order No. 18 ch. 6): ``notified_on`` 12–40 days after sampling;
``stop_sale_on`` 0–5 days after notification; ``correction_due_on`` = notified_on + 60 days;
``corrected_on`` ≤ correction_due_on; ``reinspected_on`` ≤ notified_on + 75 days, with a
``reinspection_result``. Steps after the export date (last day of the last year) are still empty.
Passed batches leave all of these empty.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.schema import SAMPLING

from . import vocab
from .businesses import Businesses, GroupedPool, zihao
from .complaints import calibrate, fmt_bool, fmt_date, logit, sigmoid
from .regions import Universe
from .timeutil import Workdays, month_of, year_days

VENUES = list(vocab.VENUE_MIX)
ECOM = VENUES.index("电商")
SCATS = list(vocab.SAMPLING_CATEGORY_WEIGHTS)
PRODUCTS = vocab.SAMPLING_PRODUCTS
NAT = np.datetime64("NaT", "D")


@dataclass
class SamplingModel:
    u: Universe
    wd: Workdays
    sellers: Businesses
    seller_pool: GroupedPool  # groups = region * 4 + physical venue; group region_count * 4 = e-commerce
    makers: Businesses
    maker_pool: GroupedPool  # groups = sampling category
    brands: np.ndarray  # per maker


def _reorder(b: Businesses, order: np.ndarray) -> Businesses:
    return Businesses(*(getattr(b, k)[order] for k in
                        ("region_idx", "region_code", "category", "name", "uscc", "zihao", "individual", "weight")))


def build_model(u: Universe, wd: Workdays, sellers: Businesses, makers: Businesses, rng: np.random.Generator) -> SamplingModel:
    n_c = len(u.counties)
    nv = len(VENUES) - 1
    # physical sellers are grouped by (region, venue); all e-commerce sellers form the last group
    grp = np.where(sellers.category < ECOM, sellers.region_idx.astype(np.int64) * nv + sellers.category, n_c * nv)
    order = np.argsort(grp, kind="stable")
    sellers = _reorder(sellers, order)
    seller_pool = GroupedPool(grp[order], sellers.weight, n_c * nv + 1)
    makers = _reorder(makers, np.argsort(makers.category, kind="stable"))
    maker_pool = GroupedPool(makers.category.astype(np.int64), makers.weight, len(SCATS))
    brands = np.where(rng.random(len(makers)) < 0.6, makers.zihao, zihao(rng, len(makers)))
    brands = np.where(rng.random(len(makers)) < 0.2, brands + "牌", brands).astype(object)
    return SamplingModel(u, wd, sellers, seller_pool, makers, maker_pool, brands)


def expected_batches(u: Universe, n_batches: int) -> np.ndarray:
    """(region, venue) expected batches per year."""
    pop = u.counties.population.to_numpy().astype(float)
    share = pop / pop.sum()
    mix = np.array([vocab.VENUE_MIX[v] for v in VENUES])
    return n_batches * np.outer(share, mix / mix.sum())


def generate_year(model: SamplingModel, year: int, n_batches: int, as_of: np.datetime64,
                  rng: np.random.Generator) -> pd.DataFrame:
    u, wd = model.u, model.wd
    valid = u.valid_counties(year)
    pop = u.counties.population.to_numpy().astype(float) * valid
    n = n_batches
    county = rng.choice(len(pop), n, p=pop / pop.sum())
    # sampling day: a working day, months weighted by plan activity; the last year stops at Dec 20
    days = year_days(year)
    last = np.datetime64(f"{year}-12-20") if np.datetime64(f"{year}-12-31") >= as_of.astype("datetime64[D]") else days[-1]
    ok = wd.is_workday(days) & (days <= last)
    w = np.asarray(vocab.SAMPLING_MONTH_WEIGHTS)[month_of(days) - 1] * ok
    day = days[rng.choice(len(days), n, p=w / w.sum())]

    mix = np.array([vocab.VENUE_MIX[v] for v in VENUES])
    venue = rng.choice(len(VENUES), n, p=mix / mix.sum())
    cw = np.array([vocab.SAMPLING_CATEGORY_WEIGHTS[c] for c in SCATS])
    scat = rng.choice(len(SCATS), n, p=cw / cw.sum())
    prod_cat = np.array([SCATS.index(p[0]) for p in PRODUCTS])
    # product line within its category (uniform)
    offsets = np.array([np.flatnonzero(prod_cat == k)[0] for k in range(len(SCATS))])
    counts = np.bincount(prod_cat, minlength=len(SCATS))
    product = offsets[scat] + (rng.random(n) * counts[scat]).astype(np.int64)

    nv = len(VENUES) - 1
    grp = np.where(venue == ECOM, len(u.counties) * nv, county * nv + np.minimum(venue, nv - 1))
    seller = model.seller_pool.draw(rng, grp)
    maker = model.maker_pool.draw(rng, scat)

    # fail probability: venue base, product line, region quality, small sellers
    pq = u.trait("product_quality")[county]
    integ = u.trait("business_integrity")[county]
    mult = np.array([p[3] for p in PRODUCTS])[product]
    z = 0.95 * np.log(mult) - 0.4 * pq + 0.35 * model.sellers.individual[seller]
    fail_rate = np.array([vocab.VENUE_FAIL_RATE[v] for v in VENUES])
    failed = np.zeros(n, dtype=bool)
    for v in range(len(VENUES)):  # five venues: calibrate each to its published rate
        sel = venue == v
        b = calibrate(z[sel], fail_rate[v])
        failed[sel] = rng.random(int(sel.sum())) < sigmoid(z[sel] + b)

    # failed items: label (integrity), safety (product has safety items), other
    has_safety = np.array([len(p[4]) > 0 for p in PRODUCTS])[product]
    has_other = np.array([len(p[6]) > 0 for p in PRODUCTS])[product]
    label = failed & (rng.random(n) < sigmoid(logit(0.30) - 0.5 * integ))
    safety = failed & has_safety & (rng.random(n) < 0.55)
    other = failed & has_other & (rng.random(n) < 0.5)
    nothing = failed & ~label & ~safety & ~other
    safety |= nothing & has_safety & ~has_other
    other |= nothing & has_other
    label |= nothing & ~has_safety & ~has_other
    items = np.full(n, "", dtype=object)
    for i, p in enumerate(PRODUCTS):  # ~30 product lines: a tiny loop
        sel = np.flatnonzero((product == i) & failed)
        if not len(sel):
            continue
        parts = []
        for flag, pool in ((safety, p[4]), (label, p[5]), (other, p[6])):
            if not pool:
                parts.append(np.full(len(sel), "", dtype=object))
                continue
            pool_a = np.asarray(pool, dtype=object)
            first = rng.integers(0, len(pool_a), len(sel))
            second = (first + 1 + rng.integers(0, max(1, len(pool_a) - 1), len(sel))) % len(pool_a)
            two = (rng.random(len(sel)) < 0.25) & (len(pool_a) > 1)
            txt = np.where(two, pool_a[first] + "、" + pool_a[second], pool_a[first])
            parts.append(np.where(flag[sel], txt, ""))
        joined = parts[0]
        for part in parts[1:]:
            joined = np.where((joined != "") & (part != ""), joined + "、" + part, joined + part)
        items[sel] = joined

    # disposal (Order No. 18): calendar days
    speed = u.trait("handling_speed")[county]
    last_day = as_of.astype("datetime64[D]")
    notified = day + np.minimum(rng.integers(12, 41, n), np.maximum(1, (last_day - day).astype(np.int64)))
    stop = notified + np.where(rng.random(n) < 0.5, 0, rng.integers(1, 6, n))
    due = notified + 60
    corr_days = np.clip(np.round(rng.lognormal(np.log(25 * np.exp(-0.3 * speed)), 0.45)), 3, 58).astype(np.int64)
    corrected = notified + corr_days
    reinsp = np.minimum(corrected + rng.integers(1, 12, n), notified + 73)
    reinsp_ok = rng.random(n) < sigmoid(logit(0.88) + 0.4 * pq)
    f = pd.DataFrame({
        "county": county.astype(np.int32),
        "sampled": day,
        "venue": venue.astype(np.int8),
        "scat": scat.astype(np.int8),
        "product": product.astype(np.int16),
        "seller": seller.astype(np.int32),
        "maker": maker.astype(np.int32),
        "failed": failed,
        "items": items,
        "safety": safety,
        "label": label,
        "notified": np.where(failed, notified, NAT),
        "stop": np.where(failed & (stop <= last_day), stop, NAT),
        "due": np.where(failed, due, NAT),
        "corrected": np.where(failed & (corrected <= last_day), corrected, NAT),
        "reinspected": np.where(failed & (reinsp <= last_day), reinsp, NAT),
        "reinsp_ok": reinsp_ok,
    })
    f["defect"] = ""
    f["blank"] = ""
    f["region_override"] = ""
    f["seller_uscc_override"] = ""
    f["maker_uscc_override"] = ""
    return f


def finalize(f: pd.DataFrame, u: Universe, year: int) -> pd.DataFrame:
    f = f.sort_values(["sampled", "county"], kind="stable").reset_index(drop=True)
    day = f["sampled"].to_numpy().astype("datetime64[D]")
    seq = f.groupby([f["county"], day], sort=False).cumcount().to_numpy() + 1
    codes = u.counties.code.to_numpy(dtype=object)[f["county"].to_numpy()]
    ymd = pd.Series(np.datetime_as_string(day, unit="D").astype(object)).str.replace("-", "", regex=False)
    f["sample_id"] = "CJ" + codes + ymd.to_numpy(dtype=object) + pd.Series(seq).astype(str).str.zfill(4).to_numpy(dtype=object)
    pref = u.prefectures.code.to_numpy(dtype=object)[u.county_pref_idx[f["county"].to_numpy()]]
    kind = np.where(f["venue"].to_numpy() == ECOM, "W", "S")
    f["plan_id"] = "JH" + pref + str(year) + pd.Series(f["scat"].to_numpy() + 1).astype(str).str.zfill(2).to_numpy(dtype=object) + kind
    return f


def to_strings(f: pd.DataFrame, model: SamplingModel) -> pd.DataFrame:
    u = model.u
    s, m = f["seller"].to_numpy(), f["maker"].to_numpy()
    prod = f["product"].to_numpy()
    failed = f["failed"].to_numpy()
    reinsp = f["reinspected"].to_numpy()
    names = np.array([p[1] for p in PRODUCTS], dtype=object)
    stds = np.array([p[2] for p in PRODUCTS], dtype=object)
    out = {
        "sample_id": f["sample_id"].to_numpy(dtype=object),
        "plan_id": f["plan_id"].to_numpy(dtype=object),
        "sampled_on": fmt_date(f["sampled"].to_numpy()),
        "region_code": u.counties.code.to_numpy(dtype=object)[f["county"].to_numpy()],
        "venue_type": np.asarray(VENUES, dtype=object)[f["venue"].to_numpy()],
        "is_online": fmt_bool(f["venue"].to_numpy() == ECOM),
        "product_category": np.asarray(SCATS, dtype=object)[f["scat"].to_numpy()],
        "product_name": names[prod],
        "brand": model.brands[m],
        "seller_name": model.sellers.name[s],
        "seller_uscc": model.sellers.uscc[s],
        "manufacturer_name": model.makers.name[m],
        "manufacturer_uscc": model.makers.uscc[m],
        "standard_code": stds[prod],
        "result": np.where(failed, "不合格", "合格").astype(object),
        "failed_items": f["items"].to_numpy(dtype=object),
        "failed_safety_item": fmt_bool(f["safety"].to_numpy()),
        "failed_label_item": fmt_bool(f["label"].to_numpy()),
        "notified_on": fmt_date(f["notified"].to_numpy()),
        "stop_sale_on": fmt_date(f["stop"].to_numpy()),
        "correction_due_on": fmt_date(f["due"].to_numpy()),
        "corrected_on": fmt_date(f["corrected"].to_numpy()),
        "reinspected_on": fmt_date(reinsp),
        "reinspection_result": np.where(np.isnat(reinsp), "", np.where(f["reinsp_ok"].to_numpy(), "合格", "不合格")).astype(object),
    }
    for col, key in (("region_code", "region_override"), ("seller_uscc", "seller_uscc_override"),
                     ("manufacturer_uscc", "maker_uscc_override")):
        ov = f[key].to_numpy(dtype=object)
        out[col] = np.where(ov != "", ov, out[col])
    blank = f["blank"].to_numpy(dtype=object)
    for col in np.unique(blank[blank != ""]):
        out[col] = np.where(blank == col, "", out[col])
    df = pd.DataFrame(out)
    assert list(df.columns) == SAMPLING.column_names
    return df
