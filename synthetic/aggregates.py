"""Yearbook-style tables: 12315 hotline statistics and region profiles.

Hotline statistics (12315热线话务统计), per call-centre unit and month: ``calls_offered`` follows the
phone-channel records of the unit's prefecture that month (about 1.4–1.8 calls per registered
record: many calls are repeat calls, hang-ups or never registered), split over the prefecture's 1–3
units; ``calls_answered`` / offered ≈ 88–99 % driven by ``hotline_capacity`` and dipping in busy
months; ``calls_answered_first`` ≤ ``calls_answered`` ≤ ``calls_offered`` always. ``month`` is the
first day of the month (a date).

Region profiles (地区基础概况), per prefecture and county (and province, for a national scope) and
year, counts rolled up from counties: population (常住人口), market entities (~8–18 per 100
residents), 12315 service stations (五进, per 10k entities, ``service_access``), consumer-association
branches, protection staff and funding (``protection_resources``), special-equipment units (~1.4 per
100 residents) and accidents (per 10k units, lower with ``product_quality``; counts include minor
incidents so that a county sees some), annual-report filing rate 0–1 (``business_integrity``), and
the 识别便利 figures (self-reported by bureaus): businesses inspected for price marking and licence
display (~4–8 % of market entities a year) and those passing (≈ 93 %, higher with
``business_integrity``), online shops (~5–9 % of market entities, +8 % a year) and those showing their
licence e-mark (≈ 85 %, higher with ``business_integrity`` and ``service_access``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ingestion.schema import HOTLINE, REGION_PROFILES

from .complaints import logit, sigmoid
from .regions import Universe


def hotline_year(u: Universe, phone_counts: np.ndarray, year: int, rng: np.random.Generator) -> pd.DataFrame:
    """``phone_counts[p, m]`` = phone-channel records of prefecture p in month m+1."""
    hl = u.hotline_units
    hl = hl[u.prefectures.valid_from_year.to_numpy()[hl.pref_idx.to_numpy()] <= year].reset_index(drop=True)
    cap = u.trait("hotline_capacity", "prefecture")
    rows = []
    for m in range(12):  # 12 months: a tiny loop over whole arrays of units
        pref = hl.pref_idx.to_numpy()
        load = phone_counts[:, m] / np.maximum(phone_counts.mean(axis=1), 1.0)  # > 1 in busy months
        calls = phone_counts[pref, m] * rng.uniform(1.4, 1.8, len(hl)) * hl.share.to_numpy()
        offered = np.maximum(rng.poisson(np.maximum(calls, 0)), 30 + rng.integers(0, 20, len(hl)))
        z = logit(0.955) + 0.6 * cap[pref] - 0.8 * np.maximum(load[pref] - 1, 0) + rng.normal(0, 0.12, len(hl))
        answered = rng.binomial(offered, np.clip(sigmoid(z), 0.80, 0.995))
        first = rng.binomial(answered, sigmoid(logit(0.965) + 0.35 * cap[pref] + rng.normal(0, 0.1, len(hl))))
        rows.append(pd.DataFrame({
            "unit_id": hl.unit_id.to_numpy(),
            "region_code": hl.region_code.to_numpy(),
            "month": f"{year}-{m + 1:02d}-01",
            "calls_offered": offered,
            "calls_answered_first": first,
            "calls_answered": answered,
        }))
    df = pd.concat(rows, ignore_index=True).sort_values(["unit_id", "month"], kind="stable").reset_index(drop=True)
    df["defect"] = ""
    df["blank"] = ""
    df["region_override"] = ""
    return df


def hotline_strings(df: pd.DataFrame) -> pd.DataFrame:
    out = df[HOTLINE.column_names].astype(str).copy()
    ov = df["region_override"].to_numpy(dtype=object)
    out["region_code"] = np.where(ov != "", ov, out["region_code"].to_numpy(dtype=object))
    blank = df["blank"].to_numpy(dtype=object)
    for col in np.unique(blank[blank != ""]):
        out[col] = np.where(blank == col, "", out[col].to_numpy(dtype=object))
    return out


def profiles_year(u: Universe, year: int, seed: int) -> pd.DataFrame:
    """Profiles of every county-level unit, prefecture (and province for CN) in ``year``."""
    c = u.counties
    n = len(c)
    # per-region constants drawn once (same seed every year), then year-on-year growth
    r0 = np.random.default_rng([seed, 301])
    density = r0.uniform(0.07, 0.15, n) * np.exp(0.08 * u.trait("business_integrity"))  # in 2020
    growth_pop = r0.normal(0.003, 0.006, n)
    growth_ent = r0.normal(0.045, 0.015, n)
    station_rate = 8.0 * np.exp(0.35 * u.trait("service_access") + r0.normal(0, 0.1, n))  # per 10k entities
    res = u.trait("protection_resources")
    org_rate = 0.25 * np.exp(0.35 * res + r0.normal(0, 0.1, n))  # branches per 10k residents
    staff_rate = 1.1 * np.exp(0.35 * res + r0.normal(0, 0.1, n))  # staff per 10k residents
    fund_rate = 1.6 * np.exp(0.35 * res + r0.normal(0, 0.1, n))  # yuan per resident
    equip_rate = r0.uniform(0.010, 0.018, n)  # units per resident
    acc_rate = 1.0 * np.exp(-0.45 * u.trait("product_quality") + r0.normal(0, 0.1, n))  # per 10k units
    report_z = logit(0.90) + 0.45 * u.trait("business_integrity") + r0.normal(0, 0.1, n)

    ry = np.random.default_rng([seed, 302, year])
    t = year - 2020
    pop = np.round(c.population.to_numpy() * (1 + growth_pop) ** t).astype(np.int64)
    ent = np.round(pop * density * (1 + growth_ent) ** t).astype(np.int64)
    stations = ry.poisson(ent / 1e4 * station_rate * (1 + 0.04 * t))
    orgs = np.maximum(1, ry.poisson(pop / 1e4 * org_rate))
    staff = np.maximum(2, ry.poisson(pop / 1e4 * staff_rate))
    funding = np.round(pop * fund_rate * (1 + 0.03 * t) * ry.uniform(0.9, 1.1, n) / 1e4, 2)
    equip = np.round(pop * equip_rate * (1 + 0.05 * t)).astype(np.int64)
    accidents = ry.poisson(equip / 1e4 * acc_rate)
    report_rate = np.clip(sigmoid(report_z + 0.1 * t + ry.normal(0, 0.05, n)), 0, 1)

    # 识别便利 (own random streams, so the other figures stay as they were for a given seed)
    r3 = np.random.default_rng([seed, 303])
    insp_share = r3.uniform(0.04, 0.08, n)
    shop_share = r3.uniform(0.05, 0.09, n)
    display_z = logit(0.93) + 0.4 * u.trait("business_integrity") + r3.normal(0, 0.15, n)
    emark_z = (logit(0.85) + 0.35 * u.trait("business_integrity") + 0.25 * u.trait("service_access")
               + r3.normal(0, 0.15, n))
    r4 = np.random.default_rng([seed, 304, year])
    inspected = np.maximum(1, np.round(ent * insp_share * r4.uniform(0.9, 1.1, n))).astype(np.int64)
    display_ok = r4.binomial(inspected, sigmoid(display_z + 0.05 * t))
    shops = np.maximum(1, np.round(ent * shop_share * 1.08 ** t)).astype(np.int64)
    emark = r4.binomial(shops, sigmoid(emark_z + 0.1 * t))

    county = pd.DataFrame({
        "region_code": c.code.to_numpy(), "population": pop, "market_entities": ent, "service_stations": stations,
        "consumer_org_branches": orgs, "protection_staff": staff, "protection_funding_10k_yuan": funding,
        "special_equipment_units": equip, "special_equipment_accidents": accidents,
        "annual_report_rate": report_rate, "inspected_businesses": inspected,
        "inspected_price_licence_ok": display_ok, "online_shops": shops, "online_shops_emark": emark,
        "pref": u.county_pref_idx, "prov": c.prov_code.to_numpy(),
    })
    sums = ["population", "market_entities", "service_stations", "consumer_org_branches", "protection_staff",
            "protection_funding_10k_yuan", "special_equipment_units", "special_equipment_accidents",
            "inspected_businesses", "inspected_price_licence_ok", "online_shops", "online_shops_emark"]

    def roll(groups: str, codes: np.ndarray) -> pd.DataFrame:
        g = county.groupby(groups)
        agg = g[sums].sum()
        agg["annual_report_rate"] = (county.annual_report_rate * county.market_entities).groupby(county[groups]).sum() / agg.market_entities
        agg.insert(0, "region_code", codes[agg.index.to_numpy()] if groups == "pref" else agg.index.to_numpy())
        return agg.reset_index(drop=True)

    # only regions whose code is valid in this year (codes created later get no row)
    county = county[(u.counties.valid_from_year.to_numpy() <= year)].reset_index(drop=True)
    own = u.counties.own_prefecture.to_numpy()[u.counties.valid_from_year.to_numpy() <= year]
    parts = [county[~own]]
    pref = roll("pref", u.prefectures.code.to_numpy(dtype=object))
    pref_ok = pref.region_code.map(dict(zip(u.prefectures.code, u.prefectures.valid_from_year))) <= year
    parts.append(pref[pref_ok.to_numpy()])
    if u.scope["unit_level"] == "province":
        parts.append(roll("prov", np.array([])))
    df = pd.concat([p[["region_code"] + sums + ["annual_report_rate"]] for p in parts], ignore_index=True)
    df.insert(1, "year", year)
    df = df.sort_values("region_code", kind="stable").reset_index(drop=True)
    df["protection_funding_10k_yuan"] = df["protection_funding_10k_yuan"].round(2)
    return df


def profile_strings(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({col: df[col].astype(str) for col in REGION_PROFILES.column_names})
    out["protection_funding_10k_yuan"] = df["protection_funding_10k_yuan"].map("{:.2f}".format)
    out["annual_report_rate"] = df["annual_report_rate"].map("{:.4f}".format)
    return out
