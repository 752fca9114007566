"""Business pools: complaint respondents (被投诉/举报方), sampled sellers and labelled manufacturers.

Every handling region gets, for every 12315 category, a few businesses (more where more records are
expected) with a plausible Chinese name — 字号 (two trade-name characters) + industry word + 组织形式
for companies (USCC prefix 91), or place + 字号 / surname+记 + shop word for 个体工商户 (prefix 92) —
and a valid GB 32100 code registered in that region. About 3 % of individual businesses and 0.5 %
of companies carry no USCC (unlicensed stalls, sellers who gave none): their ``respondent_uscc`` is
legitimately empty. Popularity weights are log-normal, so a few businesses collect many complaints,
as in real data.

Pools are drawn once per generation (not per year) so a business keeps its name and code over the
years.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import vocab
from .codes import unique_usccs
from .regions import Universe


def _pick(rng: np.random.Generator, options, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def zihao(rng: np.random.Generator, n: int) -> np.ndarray:
    chars = np.asarray(vocab.ZIHAO_CHARS, dtype=object)
    a = rng.integers(0, len(chars), n)
    b = (a + 1 + rng.integers(0, len(chars) - 1, n)) % len(chars)  # never the same character twice
    return chars[a] + chars[b]


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    names = np.array([s for s, _ in vocab.SURNAMES], dtype=object)
    w = np.array([f for _, f in vocab.SURNAMES])
    return names[rng.choice(len(names), n, p=w / w.sum())]


@dataclass
class GroupedPool:
    """Items sorted by an integer group; draws pick an item of a given group by weight."""

    group: np.ndarray  # (n_items,) sorted
    weight: np.ndarray
    n_groups: int

    def __post_init__(self):
        self.cum = np.cumsum(self.weight)
        starts = np.searchsorted(self.group, np.arange(self.n_groups), side="left")
        ends = np.searchsorted(self.group, np.arange(self.n_groups), side="right")
        self.start, self.end = starts, ends
        before = np.concatenate([[0.0], self.cum])
        self.cum_start = before[starts]
        self.total = before[ends] - before[starts]

    def draw(self, rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
        """One item per entry of ``groups`` (-1 where the group is empty)."""
        groups = np.asarray(groups, dtype=np.int64)
        u = rng.random(len(groups))
        target = self.cum_start[groups] + u * self.total[groups]
        idx = np.searchsorted(self.cum, target, side="right")
        idx = np.clip(idx, self.start[groups], np.maximum(self.end[groups] - 1, self.start[groups]))
        return np.where(self.total[groups] > 0, idx, -1)


@dataclass
class Businesses:
    region_idx: np.ndarray  # handling region (index in Universe.counties), -1 for out-of-scope firms
    region_code: np.ndarray
    category: np.ndarray  # index in vocab.CATEGORIES (respondents) / product category (makers)
    name: np.ndarray
    uscc: np.ndarray  # "" = no code
    zihao: np.ndarray
    individual: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.name)


def _company_names(rng, zh, place, pref_short, county_name, industry):
    n = len(zh)
    forms = [f for f, _ in vocab.COMPANY_FORMS]
    fw = np.array([w for _, w in vocab.COMPANY_FORMS])
    form = np.asarray(forms, dtype=object)[rng.choice(len(forms), n, p=fw / fw.sum())]
    style = rng.random(n)
    prefix = np.where(style < 0.5, pref_short, np.where(style < 0.8, place, ""))
    branch = form == "有限公司分公司"
    base = prefix + zh + industry
    return np.where(branch, pref_short + zh + industry + "有限公司" + county_name + "分公司", base + form)


def build_respondents(rng: np.random.Generator, u: Universe, expected: np.ndarray) -> Businesses:
    """Respondent pool; ``expected[c, k]`` = expected records of region c and category k per year."""
    n_c, n_k = expected.shape
    lam = 0.12 * expected
    counts = 2 + rng.poisson(lam)
    counts = counts * (expected.sum(axis=1, keepdims=True) > 0)  # regions not valid in any year: none
    counts = np.maximum(counts, 1)  # every (region, category) group has someone to complain about
    group = np.repeat(np.arange(n_c * n_k), counts.ravel())
    region = group // n_k
    cat = group % n_k
    n = len(group)
    cats = np.asarray(vocab.CATEGORIES, dtype=object)
    indiv_share = np.array([vocab.INDIVIDUAL_SHARE[c] for c in vocab.CATEGORIES])
    individual = rng.random(n) < indiv_share[cat]
    counties = u.counties
    code = counties.code.to_numpy()[region]
    place = counties.place.to_numpy()[region]
    pref_short = counties.pref_short.to_numpy()[region]
    cname = counties.name.to_numpy()[region]

    company_words = {c: vocab.INDUSTRY_WORDS[c][0] for c in vocab.CATEGORIES}
    shop_words = {c: vocab.INDUSTRY_WORDS[c][1] for c in vocab.CATEGORIES}
    industry = np.empty(n, dtype=object)
    shop = np.empty(n, dtype=object)
    for k, c in enumerate(cats):  # 28 categories: a tiny loop, vectorised inside
        sel = cat == k
        industry[sel] = _pick(rng, company_words[c], int(sel.sum()))
        shop[sel] = _pick(rng, shop_words[c], int(sel.sum()))

    zh = zihao(rng, n)
    names = _company_names(rng, zh, place, pref_short, cname, industry)
    ji = rng.random(n) < 0.4
    indiv_names = np.where(ji, cname + surnames(rng, n) + "记" + shop, cname + zh + shop)
    names = np.where(individual, indiv_names, names)
    # a name should not repeat within a region: redraw the trade name of duplicates
    for _ in range(10):
        dup = pd.DataFrame({"r": region, "n": names}).duplicated().to_numpy()
        if not dup.any():
            break
        k = int(dup.sum())
        zh[dup] = zihao(rng, k)
        names[dup] = np.where(
            individual[dup], cname[dup] + zh[dup] + shop[dup],
            _company_names(rng, zh[dup], place[dup], pref_short[dup], cname[dup], industry[dup]),
        )
    prefix = np.where(individual, "92", "91").astype(object)
    uscc = unique_usccs(rng, prefix, code)
    no_code = rng.random(n) < np.where(individual, 0.03, 0.005)
    uscc = np.where(no_code, "", uscc).astype(object)
    weight = rng.lognormal(0.0, 1.2, n)
    return Businesses(region.astype(np.int32), code.astype(object), cat.astype(np.int16), names.astype(object),
                      uscc, zh, individual, weight)


def build_sellers(rng: np.random.Generator, u: Universe, expected: np.ndarray, taken: set) -> Businesses:
    """Sampled sellers per (region, venue): ``expected[c, v]`` batches per year, venues as vocab.VENUE_MIX.

    E-commerce sellers (电商, the last venue) come from a national pool registered in e-commerce hubs
    and in the scope's own regions: their region_idx is -1 when outside the scope.
    """
    venues = list(vocab.VENUE_MIX)
    n_c = expected.shape[0]
    counties = u.counties
    parts = []
    # physical venues
    phys = expected[:, :-1]
    counts = np.maximum(1, 2 + rng.poisson(0.5 * phys)) * (phys.sum(axis=1, keepdims=True) > 0)
    group = np.repeat(np.arange(n_c * (len(venues) - 1)), counts.ravel())
    region = group // (len(venues) - 1)
    venue = group % (len(venues) - 1)
    n = len(group)
    zh = zihao(rng, n)
    place = counties.place.to_numpy()[region]
    cname = counties.name.to_numpy()[region]
    prefix = np.where(rng.random(n) < 0.6, counties.pref_short.to_numpy()[region], place)
    goods = _pick(rng, ("服装", "鞋", "家电", "日用品", "五金", "童装", "饰品", "建材", "电动车"), n)
    small_word = _pick(rng, vocab.SELLER_WORDS["市场"], n)
    store_word = np.empty(n, dtype=object)
    for v, vname in enumerate(venues[:-1]):
        sel = venue == v
        store_word[sel] = _pick(rng, vocab.SELLER_WORDS[vname], int(sel.sum()))
    is_market = venue == venues.index("市场")
    is_shop = venue == venues.index("专卖店")
    indiv_shop = is_shop & (rng.random(n) < 0.5)
    indiv_super = store_word == "生活超市"
    individual = is_market | indiv_shop | indiv_super
    names = prefix + zh + store_word  # 商场 / 超市 / 专卖店 companies: 常州鑫达百货有限公司
    names = np.where(is_shop & ~indiv_shop, prefix + zh + "商贸有限公司", names)
    names = np.where(indiv_shop, cname + zh + goods + "专卖店", names)
    names = np.where(indiv_super, cname + zh + "生活超市", names)
    market_name = np.where(rng.random(n) < 0.5, cname + surnames(rng, n) + "记" + goods + small_word,
                           cname + zh + goods + small_word)
    names = np.where(is_market, market_name, names)
    parts.append(pd.DataFrame({"region_idx": region, "region_code": counties.code.to_numpy()[region],
                               "venue": venue, "name": names, "zh": zh, "individual": individual}))
    # e-commerce sellers: hubs + in-scope regions
    n_ec = int(max(10, expected[:, -1].sum() / 8))
    hubs = [c for c in vocab.ECOMMERCE_HUBS]
    in_scope = rng.random(n_ec) < 0.35
    reg_idx = np.where(in_scope, rng.integers(0, n_c, n_ec), -1)
    hub_code = np.asarray(hubs, dtype=object)[rng.integers(0, len(hubs), n_ec)]
    code = np.where(in_scope, counties.code.to_numpy()[np.maximum(reg_idx, 0)], hub_code)
    from reference import admin_divisions

    div = admin_divisions()
    names_by_code = dict(zip(div.code, div.name))
    place_ec = pd.Series(code).map(names_by_code).fillna("").to_numpy(dtype=object)
    zh_ec = zihao(rng, n_ec)
    word_ec = _pick(rng, vocab.SELLER_WORDS["电商"], n_ec)
    indiv_ec = word_ec == "电子商务商行"
    parts.append(pd.DataFrame({"region_idx": reg_idx, "region_code": code, "venue": len(venues) - 1,
                               "name": place_ec + zh_ec + word_ec, "zh": zh_ec, "individual": indiv_ec}))
    df = pd.concat(parts, ignore_index=True)
    uscc = unique_usccs(rng, np.where(df.individual, "92", "91").astype(object), df.region_code.to_numpy(dtype=object), taken)
    taken.update(uscc)
    return Businesses(df.region_idx.to_numpy(np.int32), df.region_code.to_numpy(dtype=object),
                      df.venue.to_numpy(np.int16), df.name.to_numpy(dtype=object), uscc,
                      df.zh.to_numpy(dtype=object), df.individual.to_numpy(), rng.lognormal(0, 0.8, len(df)))


def build_manufacturers(rng: np.random.Generator, expected_per_cat: dict[str, float], taken: set) -> Businesses:
    """Labelled manufacturers per sampling category, mostly in known manufacturing hubs."""
    from reference import admin_divisions

    div = admin_divisions()
    counties = div[div.level.isin(["county", "prefecture"])]
    all_codes = counties.code.to_numpy(dtype=object)
    names_by_code = dict(zip(div.code, div.name))
    parent = dict(zip(div.code, div.parent_code))
    cats = list(vocab.SAMPLING_CATEGORY_WEIGHTS)
    rows = []
    for k, cat in enumerate(cats):  # ~10 categories
        n = int(15 + expected_per_cat.get(cat, 0) / 12)
        hubs = [c for c in vocab.MANUFACTURING_HUBS[cat] if c in names_by_code]
        at_hub = rng.random(n) < 0.55
        code = np.where(at_hub, np.asarray(hubs, dtype=object)[rng.integers(0, len(hubs), n)],
                        all_codes[rng.integers(0, len(all_codes), n)])
        rows.append(pd.DataFrame({"code": code, "cat": k}))
    df = pd.concat(rows, ignore_index=True)
    n = len(df)

    def place(c: str) -> str:
        d = int(c[4:6])
        p = names_by_code.get(parent.get(c, ""), "")
        own = names_by_code.get(c, "")
        return (p + own) if 1 <= d <= 20 and p.endswith("市") else own

    places = {c: place(c) for c in sorted(set(df.code))}  # a few hundred codes
    zh = zihao(rng, n)
    words = np.empty(n, dtype=object)
    for k, cat in enumerate(cats):
        sel = (df.cat == k).to_numpy()
        words[sel] = _pick(rng, vocab.MANUFACTURER_WORDS[cat], int(sel.sum()))
    names = df.code.map(places).to_numpy(dtype=object) + zh + words + "有限公司"
    uscc = unique_usccs(rng, np.full(n, "91", dtype=object), df.code.to_numpy(dtype=object), taken)
    taken.update(uscc)
    return Businesses(np.full(n, -1, np.int32), df.code.to_numpy(dtype=object), df.cat.to_numpy(np.int16),
                      names, uscc, zh, np.zeros(n, bool), rng.lognormal(0, 1.0, n))
