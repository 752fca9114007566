"""The regions of a scope, their synthetic populations and their latent traits.

A scope (``CN``, a province such as ``32`` or a prefecture such as ``3204``) is resolved with
``reference.resolve_scope`` (GB/T 2260, 民政部 2025 list). Every county-level unit becomes a
*handling region* (the bureau whose code goes into ``handling_region_code``); a prefecture with
no county children (东莞, 中山, 儋州, 嘉峪关) handles its own records under its prefecture code.

Populations. Jiangsu (province 32, whatever the scope: ``32``, ``3204`` or ``CN``): each prefecture
has its real resident population at the 2020 census (``reference/data/population_2020_jiangsu.csv``,
第七次全国人口普查; 苏州 12.7M largest, 镇江 3.2M smallest), split over its counties with log-normal
shares. Other provinces keep the stated model: the province total (approximate 2020 census figures
in ``PROVINCE_POPULATION_10K``) split over prefectures and counties with log-normal shares, districts
of a city (county digits 01–20) a little larger than rural counties. Record volumes
(:func:`volume_weights`) scale with population × the province's complaint propensity
(``PROVINCE_PROPENSITY``) × the unit kind × ``exp(-0.22·business_integrity)`` (the region's own
propensity); profile counts (market entities, stations, staff …) scale with population too.

Latent traits (``TRAITS``) are z-scores, **higher = better for consumers**, 0 = typical: each level
(provinces, prefecture-level units, counties) is standardised to mean 0 and sd 1 across the scope's
units, so the scope as a whole meets the national calibration targets and its regions spread around
them. Before standardising, each region's trait is built top-down::

    trait(province)   = 0.5·common + 0.866·own
    trait(prefecture) = 0.6·trait(province)   + 0.8·(0.5·common + 0.866·own)
    trait(county)     = 0.6·trait(prefecture) + 0.8·(0.5·common + 0.866·own)

where ``common`` is one draw per region shared by all its traits (a region that is good at one
thing tends to be a bit better at others: pairwise correlation ≈ 0.25) and ``own`` is drawn per
trait. What each trait drives is listed in ``TRAIT_EFFECTS`` and written to ``region_traits.csv``.

Planted changes between years (``PLANTED_CHANGES``). Traits are the first generated year's; from the
second generated year on, a few prefecture-level units (picked by their position among the scope's
prefecture-level units, sorted by code) have one trait shifted by a stated number of standard
deviations — the unit and every county under it (:meth:`Universe.in_year`). Only traits that do not
drive record volumes are shifted, so the other regions' data do not move. The manifest lists them
(``planted_changes``) and tests check that the index recovers their direction (issue 9 point 6).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reference import admin_divisions, admin_divisions_history, resolve_scope

TRAITS = (
    "product_quality",
    "business_integrity",
    "service_access",
    "handling_speed",
    "mediation_effectiveness",
    "enforcement",
    "hotline_capacity",
    "protection_resources",
)
TRAIT_EFFECTS = {
    "product_quality": "lower sampling fail rate, fewer failed re-inspections, smaller share of safety complaints "
    "(安全/食品安全), fewer special-equipment accidents per unit",
    "business_integrity": "fewer complaints per resident and per market entity, fewer 举报, smaller fraud / "
    "false-advertising share (欺诈/虚假宣传), fewer labelling failures, more ODR settlements "
    "(settled_by_business), higher annual-report filing rate, more businesses passing price-marking / licence-display "
    "inspections (明码标价, 亮照经营) and more online shops showing their licence e-mark",
    "service_access": "higher online self-registration share (互联网/微信/APP), more 12315 service stations per 10k entities, "
    "more online shops showing their licence e-mark",
    "handling_speed": "fewer working days to accept, close and dispose of failed batches",
    "mediation_effectiveness": "higher mediation success among closed complaints, more money recovered, higher satisfaction",
    "enforcement": "higher complaint-to-case rate (诉转案), higher report substantiation rate",
    "hotline_capacity": "higher hotline answer and first-attempt answer rates",
    "protection_resources": "more consumer-protection staff, funding and consumer-association branches per 10k residents",
}

# (position among the scope's prefecture-level units sorted by code, trait, shift in sd) — applied from the
# second generated year on. Traits that do not drive volumes (volume_weights / profile entity counts).
PLANTED_CHANGES = (
    # Jiangsu: 无锡 — hotline answer rates down (便利度). A decline: 无锡's first-attempt rate is above the 95 %
    # target already, where the goalposts cap the score, so a planted improvement would be invisible by design
    (1, "hotline_capacity", -1.5),
    (4, "mediation_effectiveness", -1.5),  # 苏州 — mediation success, money recovered, satisfaction down (维权度)
    (7, "handling_speed", +1.5),  # 淮安 — faster acceptance, closure and disposal (便利度)
    (12, "enforcement", -1.5),  # 宿迁 — fewer complaint-to-case and substantiated reports (维权度)
)
PLANTED_VOLUME_FREE = {"hotline_capacity", "mediation_effectiveness", "handling_speed", "enforcement"}

# approximate 2020 census resident population, 10k persons (第七次全国人口普查), to scale volumes only
PROVINCE_POPULATION_10K = {
    "11": 2189, "12": 1387, "13": 7461, "14": 3492, "15": 2405, "21": 4259, "22": 2407, "23": 3185,
    "31": 2487, "32": 8475, "33": 6457, "34": 6103, "35": 4154, "36": 4519, "37": 10153, "41": 9937,
    "42": 5775, "43": 6644, "44": 12601, "45": 5013, "46": 1008, "50": 3205, "51": 8367, "52": 3856,
    "53": 4721, "54": 365, "61": 3953, "62": 2502, "63": 592, "64": 720, "65": 2585,
}
# complaints per resident relative to the average province: 粤浙沪京 ≈ 45 % of national complaints
# (docs/domain.md §3.4)
PROVINCE_PROPENSITY = {"44": 3.0, "33": 3.4, "31": 4.5, "11": 4.0, "32": 1.3, "12": 1.4, "35": 1.1, "37": 0.9}
DEFAULT_PROPENSITY = 0.75


def _census_population() -> dict[str, float]:
    """Prefecture code -> resident population at the 2020 census, where shipped (Jiangsu)."""
    from reference.categories import population_2020

    df = population_2020("32")
    return dict(zip(df.code, df.resident_population_2020.astype(float)))


def short_name(name: str) -> str:
    """常州市 -> 常州 (used in business names); other names unchanged."""
    return name[:-1] if name.endswith("市") and len(name) > 2 else name


@dataclass
class Universe:
    """Regions of a scope as flat arrays (index = position in ``counties``)."""

    scope: dict
    counties: pd.DataFrame  # code, name, pref_code, prov_code, kind, own_prefecture, population, valid_from_year, place
    prefectures: pd.DataFrame  # code, name, prov_code, population, valid_from_year
    provinces: pd.DataFrame  # code, name, population
    county_traits: np.ndarray  # (n_counties, n_traits)
    pref_traits: np.ndarray  # (n_prefectures, n_traits)
    prov_traits: np.ndarray
    traits_long: pd.DataFrame  # region_code, level, trait, value
    county_pref_idx: np.ndarray  # county -> row in prefectures
    entry_units: pd.DataFrame  # unit_id, county_idx, weight, sloppy
    hotline_units: pd.DataFrame  # unit_id, pref_idx, region_code, share

    def trait(self, name: str, level: str = "county") -> np.ndarray:
        j = TRAITS.index(name)
        return {"county": self.county_traits, "prefecture": self.pref_traits, "province": self.prov_traits}[level][:, j]

    def planted_changes(self, first_year: int) -> list[dict]:
        """The planted trait shifts of this scope (``PLANTED_CHANGES`` whose position exists), each with the
        prefecture-level unit's code and name and the first year it applies (``first_year + 1``)."""
        out = []
        for pos, trait, delta in PLANTED_CHANGES:
            assert trait in PLANTED_VOLUME_FREE, trait
            if pos < len(self.prefectures):
                out.append({"region_code": self.prefectures.code.iat[pos], "name": self.prefectures.name.iat[pos],
                            "trait": trait, "shift_sd": delta, "from_year": first_year + 1})
        return out

    def in_year(self, year: int, first_year: int) -> "Universe":
        """This universe with the planted trait shifts applied when ``year > first_year`` (else itself)."""
        if year <= first_year:
            return self
        county, pref = self.county_traits.copy(), self.pref_traits.copy()
        for ch in self.planted_changes(first_year):
            j = TRAITS.index(ch["trait"])
            p = int(np.where(self.prefectures.code.to_numpy() == ch["region_code"])[0][0])
            pref[p, j] += ch["shift_sd"]
            county[self.county_pref_idx == p, j] += ch["shift_sd"]
        return replace(self, county_traits=county, pref_traits=pref)

    def valid_counties(self, year: int) -> np.ndarray:
        """Handling regions whose code is valid in ``year`` (GB/T 2260 history)."""
        return (self.counties.valid_from_year.to_numpy() <= year)


def _draw_traits(rng: np.random.Generator, n: int, parent: np.ndarray | None) -> np.ndarray:
    k = len(TRAITS)
    common = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, k))
    local = 0.5 * common + 0.866 * own
    if parent is None:
        return local
    return 0.6 * parent + 0.8 * local


def _standardise(a: np.ndarray) -> np.ndarray:
    if len(a) <= 1:
        return np.zeros_like(a)
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def build_universe(scope: str, seed: int) -> Universe:
    sc = resolve_scope(scope)
    div = admin_divisions()
    hist = admin_divisions_history()
    rng = np.random.default_rng([seed, 101])

    prov_codes = sorted({c[:2] for c in pd.concat([sc["prefectures"].code, sc["counties"].code])})
    provinces = div[(div.level == "province") & div.code.str[:2].isin(prov_codes)].sort_values("code").reset_index(drop=True)
    prefs = sc["prefectures"].sort_values("code").reset_index(drop=True)
    counties = sc["counties"].sort_values("code").reset_index(drop=True)

    # A county whose parent is a province (直辖市 districts, 省直辖县 such as 仙桃) and a prefecture
    # without counties (东莞) are prefecture-level units of their own: they rank next to the
    # prefectures and handle their own records.
    orphan = counties[~counties.parent_code.isin(prefs.code)]
    counties = counties[counties.parent_code.isin(prefs.code)]
    childless = prefs[~prefs.code.isin(counties.parent_code)]
    prefs = pd.concat([prefs, orphan], ignore_index=True).sort_values("code").reset_index(drop=True)
    units = pd.concat(
        [counties.assign(pref_code=counties.parent_code, own_prefecture=False),
         childless.assign(pref_code=childless.code, own_prefecture=True),
         orphan.assign(pref_code=orphan.code, own_prefecture=True)],
        ignore_index=True,
    ).sort_values("code").reset_index(drop=True)
    units["prov_code"] = units.code.str[:2] + "0000"
    prefs["prov_code"] = prefs.code.str[:2] + "0000"
    digits = units.code.str[4:6].astype(int)
    units["kind"] = np.select([digits == 0, digits <= 20, digits >= 81], ["prefecture", "district", "city"], "county")

    # when each code became valid (codes added in 2026 are not in the history: valid from 2026)
    current = hist[hist.valid_to_year.isna()].groupby("code").valid_from_year.max()
    units["valid_from_year"] = units.code.map(current).fillna(2026).astype(int)
    prefs["valid_from_year"] = prefs.code.map(current).fillna(2026).astype(int)

    # --- populations -------------------------------------------------------------------------
    pref_index = {c: i for i, c in enumerate(prefs.code)}
    units["pref_idx"] = units.pref_code.map(pref_index).astype(int)
    kind_factor = units.kind.map({"district": 1.3, "city": 1.1, "county": 0.8, "prefecture": 1.0}).to_numpy()
    pref_share = rng.lognormal(0.0, 0.45, len(prefs))
    w = rng.lognormal(0.0, 0.45, len(units)) * kind_factor
    w_pref = pd.Series(w).groupby(units.pref_idx).transform("sum").to_numpy()
    within = w / w_pref
    prov_pop = units.code.str[:2].map(PROVINCE_POPULATION_10K).fillna(500).to_numpy() * 1e4
    pref_w = pref_share[units.pref_idx.to_numpy()]
    # prefecture shares normalised within province
    pref_tot = pd.Series(pref_share).groupby(prefs.code.str[:2]).transform("sum").to_numpy()
    pref_frac = pref_w / pref_tot[units.pref_idx.to_numpy()]
    if sc["unit_level"] == "county":  # prefecture scope: a prefecture of average size in its province
        n_prefs_in_prov = (div.level == "prefecture") & (div.code.str[:2] == sc["code"][:2])
        pref_frac = np.full(len(units), 1.0 / max(1, int(n_prefs_in_prov.sum())))
    pref_pop = prov_pop * pref_frac
    # prefectures with a census figure (Jiangsu) take it; their counties share it log-normally as before
    census = _census_population()
    real = units.pref_code.map(census).to_numpy(dtype=float)
    pref_pop = np.where(np.isnan(real), pref_pop, real)
    units["population"] = np.maximum(20000, np.round(pref_pop * within)).astype(np.int64)
    prefs["population"] = units.groupby("pref_idx").population.sum().reindex(range(len(prefs))).fillna(0).astype(np.int64).to_numpy()
    provinces["population"] = provinces.code.map(units.groupby("prov_code").population.sum()).fillna(0).astype(np.int64)

    names = dict(zip(div.code, div.name))
    parent_names = units.parent_code.map(names).fillna("")  # prefecture, or province for own-prefecture units
    is_city = units.kind == "prefecture"
    # place prefix of business names: 常州市武进区 / 北京市朝阳区 for districts, 义乌市 / 苍南县 / 东莞市 otherwise
    units["place"] = np.where(units.kind == "district", parent_names + units.name, units.name)
    units["pref_short"] = np.where(is_city, units.name, parent_names)
    units["pref_short"] = units["pref_short"].map(short_name)

    # --- traits ---------------------------------------------------------------------------------
    prov_traits = _draw_traits(rng, len(provinces), None)
    prov_index = {c: i for i, c in enumerate(provinces.code)}
    pref_prov = prefs.prov_code.map(prov_index).to_numpy()
    pref_traits = _draw_traits(rng, len(prefs), prov_traits[pref_prov])
    county_draw = _draw_traits(rng, len(units), pref_traits[units.pref_idx.to_numpy()])
    is_pref_unit = units.own_prefecture.to_numpy()
    # Standardise each level within the scope (mean 0, sd 1 across its units), so a scope is "typical"
    # on average and the published calibration targets hold for any scope; a single unit sits at 0.
    prov_traits = _standardise(prov_traits)
    pref_traits = _standardise(pref_traits)
    county_draw[~is_pref_unit] = _standardise(county_draw[~is_pref_unit])
    county_traits = np.where(is_pref_unit[:, None], pref_traits[units.pref_idx.to_numpy()], county_draw)
    prov_traits, pref_traits, county_traits = (np.round(a, 4) for a in (prov_traits, pref_traits, county_traits))

    rows = []
    for level, codes, arr in (
        ("province", provinces.code, prov_traits),
        ("prefecture", prefs.code, pref_traits),
        ("county", units.code[~is_pref_unit], county_traits[~is_pref_unit]),
    ):
        n = len(codes)
        rows.append(pd.DataFrame({
            "region_code": np.repeat(codes.to_numpy(), len(TRAITS)),
            "level": level,
            "trait": np.tile(np.array(TRAITS, dtype=object), n),
            "value": arr.reshape(-1),
        }))
    traits_long = pd.concat(rows, ignore_index=True)

    # --- entry units (录入单位): 2–5 per handling region; ~12 % are sloppy --------------------------------
    n_units = np.clip(2 + units.population.to_numpy() // 600_000, 2, 5)
    eu_county = np.repeat(np.arange(len(units)), n_units)
    eu_seq = np.concatenate([np.arange(1, k + 1) for k in n_units])
    eu = pd.DataFrame({
        "unit_id": ["EU" + units.code.iat[c] + f"{s:02d}" for c, s in zip(eu_county, eu_seq)],
        "county_idx": eu_county,
        "weight": rng.gamma(2.0, 1.0, len(eu_county)) * np.where(eu_seq == 1, 2.0, 1.0),
        "sloppy": rng.random(len(eu_county)) < 0.12,
    })
    if len(eu) >= 5 and not eu.sloppy.any():
        eu.loc[int(rng.integers(len(eu))), "sloppy"] = True

    # --- hotline call-centre units (12315话务单位): 1–3 per prefecture ---------------------------------
    hl_n = 1 + (prefs.population.to_numpy() > 4_000_000) + (prefs.population.to_numpy() > 9_000_000)
    hl_pref = np.repeat(np.arange(len(prefs)), hl_n)
    hl_seq = np.concatenate([np.arange(1, k + 1) for k in hl_n])
    share = rng.gamma(3.0, 1.0, len(hl_pref)) * np.where(hl_seq == 1, 2.5, 1.0)
    share = share / pd.Series(share).groupby(hl_pref).transform("sum").to_numpy()
    hl = pd.DataFrame({
        "unit_id": ["HL" + prefs.code.iat[p] + f"{s:02d}" for p, s in zip(hl_pref, hl_seq)],
        "pref_idx": hl_pref,
        "region_code": prefs.code.to_numpy()[hl_pref],
        "share": share,
    })
    # only prefectures that have handling regions in scope get hotline units
    hl = hl[np.isin(hl.pref_idx, units.pref_idx.unique())].reset_index(drop=True)

    return Universe(
        scope=sc,
        counties=units,
        prefectures=prefs,
        provinces=provinces,
        county_traits=county_traits,
        pref_traits=pref_traits,
        prov_traits=prov_traits,
        traits_long=traits_long,
        county_pref_idx=units.pref_idx.to_numpy(),
        entry_units=eu,
        hotline_units=hl,
    )


def volume_weights(u: Universe, year: int) -> np.ndarray:
    """Expected share of a year's 12315 records per handling region (0 for codes not yet valid)."""
    c = u.counties
    kind = c.kind.map({"district": 1.35, "city": 1.0, "county": 0.7, "prefecture": 1.2}).to_numpy()
    prov = c.code.str[:2].map(PROVINCE_PROPENSITY).fillna(DEFAULT_PROPENSITY).to_numpy()
    w = c.population.to_numpy() * kind * prov * np.exp(-0.22 * u.trait("business_integrity"))
    w = w * u.valid_counties(year)
    return w / w.sum()
