"""Injected data-quality defects with a ground truth, for testing the data-quality gate.

With ``defect_rate`` R, about R of the complaint rows and of the sampling rows (and of the hotline
rows) get exactly ONE defect, and every defect gets a row ``file,record_id,family`` in
``ground_truth_defects.csv``. Hotline defects are spread evenly over the year's months (a month has
only one row per call-centre unit: :func:`spread_over_months`). Families (the data-quality rulebook is
written against these names):

==========================  ===================================================================================
family                      what the generator does to the row
==========================  ===================================================================================
missing_required            blanks record_type, handling_region_code or entry_unit_id (complaints); region_code
                            or result (sampling); region_code or calls_offered (hotline)
uscc_check                  a well-formed USCC with a wrong GB 32100 check character (respondent; seller or
                            manufacturer)
region_code                 an unknown code (``329999``, ``320499`` — never in GB/T 2260) or a code abolished at
                            least two years before the record's year (``admin_divisions_history``,
                            ``valid_to_year <= year - 2``, never reused), in handling_region_code / region_code
chronology                  accepted_at 1–5 days before received_at, or closed_at 1–5 days before accepted_at
                            (before received_at for a 咨询)
statutory_deadline          a 投诉 decided 10–25 working days after receipt (limit 7) or a 举报 checked 32–45
                            working days after receipt (limit 15, or 15+15 with extension); chronology kept,
                            closure still within 45 working days of the decision
cross_channel_duplicate     a NEW row copying an existing 投诉/举报 (same complainant, respondent and content)
                            received 10 minutes–3 days later through another channel, with its own record_id;
                            the ground truth names the copy, the original stays clean
impossible_amount           amount_disputed negative, or > 100 million yuan, or amount_recovered > 10 × disputed
sampling_disposal           stop_sale_on 1–10 days before notified_on, corrected_on 3–12 days after
                            correction_due_on, or reinspected_on 80–120 days after notified_on
==========================  ===================================================================================

Every defective value still parses as its column's type (dates are dates, amounts numbers, blanks
are empty). Clean rows violate none of these: the generator keeps decisions ≤ 6 working days after
receipt for 投诉, ≤ 14 for 举报 checks, closures ≤ 44 working days after acceptance, USCCs valid,
region codes valid in the record's year, recovered ≤ 4 × disputed (退一赔三) and no two records
with the same complainant, respondent and content. Defects concentrate in the sloppy entry units
(weight 6 against 1), as a scorecard would show.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ingestion.schema import CHANNELS
from reference import admin_divisions, admin_divisions_history

from .codes import wrong_uscc_check
from .complaints import COMPLAINT, REPORT, ComplaintModel, apply_cutoff, schedule
from .timeutil import at, office_seconds

FAMILIES = ("missing_required", "uscc_check", "region_code", "chronology", "statutory_deadline",
            "cross_channel_duplicate", "impossible_amount", "sampling_disposal")
COMPLAINT_MIX = {"missing_required": 0.16, "uscc_check": 0.14, "region_code": 0.14, "chronology": 0.16,
                 "statutory_deadline": 0.14, "cross_channel_duplicate": 0.10, "impossible_amount": 0.16}
SAMPLING_MIX = {"missing_required": 0.25, "uscc_check": 0.25, "region_code": 0.20, "sampling_disposal": 0.30}
HOTLINE_MIX = {"missing_required": 0.5, "region_code": 0.5}
SLOPPY_WEIGHT = 6.0
CHANNEL_MIX = np.array([0.55, 0.15, 0.10, 0.07, 0.02, 0.04, 0.05, 0.02])  # order of schema.CHANNELS


def allocate(total: int, mix: dict) -> dict:
    """Split ``total`` over families by share (largest remainder; ties in dict order)."""
    keys = list(mix)
    share = np.array([mix[k] for k in keys], dtype=float)
    raw = total * share / share.sum()
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return dict(zip(keys, base.tolist()))


def pick_rows(rng: np.random.Generator, eligible: np.ndarray, k: int, weight: np.ndarray | None = None) -> np.ndarray:
    """k distinct eligible row indices, weighted, without replacement (exponential keys)."""
    idx = np.flatnonzero(eligible)
    if k <= 0 or len(idx) == 0:
        return np.array([], dtype=np.int64)
    k = min(k, len(idx))
    w = np.ones(len(idx)) if weight is None else weight[idx]
    key = rng.exponential(size=len(idx)) / w
    return np.sort(idx[np.argpartition(key, k - 1)[:k]])


class BadCodes:
    """Region codes that are wrong at a record's date: abolished long ago, or never existed."""

    def __init__(self) -> None:
        hist = admin_divisions_history()
        hist = hist[hist.level != "province"]
        current = set(admin_divisions().code)
        still = hist.valid_to_year.isna().groupby(hist.code).any()
        last = hist.groupby("code").valid_to_year.max()
        ab = pd.DataFrame({"code": last.index, "last": last.to_numpy()})
        ab = ab[~ab.code.map(still).to_numpy() & ~ab.code.isin(current)].dropna()
        self.abolished = ab.assign(last=ab["last"].astype(int)).sort_values("code").reset_index(drop=True)
        self.known = set(hist.code) | current

    def unknown(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """329999-style (province + 9999) or 320499-style (prefecture + 99) codes that never existed."""
        codes = pd.Series(codes, dtype=object)
        a = codes.str[:2] + "9999"
        b = codes.str[:4] + "99"
        ok_b = ~b.isin(self.known)
        pick_b = (rng.random(len(codes)) < 0.5) & ok_b.to_numpy()
        return np.where(pick_b, b, a).astype(object)

    def abolished_for(self, codes: np.ndarray, year: int, rng: np.random.Generator) -> np.ndarray:
        """A code of the same province abolished by ``year - 2`` ('' when there is none)."""
        out = np.full(len(codes), "", dtype=object)
        ab = self.abolished[self.abolished["last"] <= year - 2]
        prov = pd.Series(codes, dtype=object).str[:2].to_numpy()
        for p in np.unique(prov):  # at most 31 provinces: a tiny loop
            pool = ab.code[ab.code.str[:2] == p].to_numpy(dtype=object)
            if len(pool) == 0:
                pool = ab.code.to_numpy(dtype=object)
            if len(pool) == 0:
                continue
            sel = prov == p
            out[sel] = pool[rng.integers(0, len(pool), int(sel.sum()))]
        return out

    def bad_codes(self, codes: np.ndarray, year: int, rng: np.random.Generator) -> np.ndarray:
        ab = self.abolished_for(codes, year, rng)
        use_ab = (rng.random(len(codes)) < 0.5) & (ab != "")
        return np.where(use_ab, ab, self.unknown(codes, rng)).astype(object)


# --- complaints ------------------------------------------------------------------------------------------
def inject_complaints(f: pd.DataFrame, model: ComplaintModel, year: int, as_of: np.datetime64, rate: float,
                      rng: np.random.Generator, bad: BadCodes) -> pd.DataFrame:
    if rate <= 0 or len(f) == 0:
        return f
    n = len(f)
    share_dup = COMPLAINT_MIX["cross_channel_duplicate"] / sum(COMPLAINT_MIX.values())
    n_dup = int(round(share_dup * rate * n / (1 - share_dup * rate)))
    total = int(round(rate * (n + n_dup)))
    others = {k: v for k, v in COMPLAINT_MIX.items() if k != "cross_channel_duplicate"}
    want = allocate(max(0, total - n_dup), others)
    sloppy = model.u.entry_units.sloppy.to_numpy()
    weight = np.where(sloppy[f["entry"].to_numpy()], SLOPPY_WEIGHT, 1.0)
    taken = np.zeros(n, dtype=bool)
    rtype = f["rtype"].to_numpy()
    received = f["received"].to_numpy()
    accepted = f["accepted"].to_numpy()
    closed = f["closed"].to_numpy()
    wd = model.wd
    day = np.timedelta64(1, "D")
    defect = np.full(n, "", dtype=object)

    # 1. cross-channel duplicates: reserve clean originals, build the copies at the end
    dup_ok = (np.isin(rtype, [COMPLAINT, REPORT]) & (f["resp"].to_numpy() >= 0) & (f["name"].to_numpy() != "")
              & (f["phone"].to_numpy() != "") & (received <= np.datetime64(f"{year}-12-26T23:59:59"))
              & ~(np.isnat(closed) & ~np.isnat(accepted)))  # not an unclosed one: its copy would close without a result
    originals = pick_rows(rng, dup_ok, n_dup)
    taken[originals] = True

    # 2. statutory deadlines: decision / report check far beyond the limit, chronology kept
    # (never an accepted complaint left unclosed: giving it a closure would leave it without a mediation result)
    ok = (~taken & np.isin(rtype, [COMPLAINT, REPORT]) & ~np.isnat(accepted) & ~np.isnat(closed)
          & (received <= as_of - 150 * day))
    rows = pick_rows(rng, ok, want["statutory_deadline"], weight)
    if len(rows):
        rt = rtype[rows]
        k_new = np.where(rt == COMPLAINT, rng.integers(10, 26, len(rows)), rng.integers(32, 46, len(rows)))
        rday = received[rows].astype("datetime64[D]")
        aday = wd.add(rday, k_new)
        acc = at(aday, office_seconds(rng, len(rows)))
        dec = f["decision"].to_numpy()[rows]
        m = f["m_close"].to_numpy()[rows].astype(np.int64)
        clo = np.where(dec == 1, acc, at(wd.add(aday, np.where(dec == 1, 0, m)), office_seconds(rng, len(rows))))
        f.loc[rows, "accepted"] = acc
        f.loc[rows, "closed"] = clo
        f.loc[rows, "k_acc"] = k_new.astype(np.int16)
        sub = f.loc[rows].copy()
        apply_cutoff(sub, as_of)
        f.loc[rows, sub.columns] = sub
        defect[rows] = "statutory_deadline"
        taken[rows] = True

    # 3. impossible amounts
    disputed = f["disputed"].to_numpy().copy()
    recovered = f["recovered"].to_numpy().copy()
    ok = ~taken & ~np.isnan(disputed)
    rows = pick_rows(rng, ok, want["impossible_amount"], weight)
    if len(rows):
        v = rng.choice(3, len(rows), p=[0.4, 0.3, 0.3])
        v = np.where((v == 1) & np.isnan(recovered[rows]), 0, v)
        d = disputed[rows]
        disputed[rows] = np.where(v == 0, -np.maximum(d, 1.0), np.where(v == 2, np.round(rng.uniform(1.2e8, 9.5e9, len(rows)), 2), d))
        recovered[rows] = np.where(v == 1, np.round(d * rng.uniform(12, 40, len(rows)), 2), recovered[rows])
        f["disputed"] = disputed
        f["recovered"] = recovered
        defect[rows] = "impossible_amount"
        taken[rows] = True

    # 4. chronology
    ok = ~taken & (~np.isnat(accepted) | ~np.isnat(closed))
    rows = pick_rows(rng, ok, want["chronology"], weight)
    if len(rows):
        acc, clo, rec = accepted[rows].copy(), closed[rows].copy(), received[rows]
        back = rng.integers(86400, 5 * 86400, len(rows)).astype("timedelta64[s]")
        variant_a = ~np.isnat(acc) & (np.isnat(clo) | (rng.random(len(rows)) < 0.5))
        new_acc = rec - back
        # moving the decision back must not stretch decision→closure past 45 working days
        too_long = ~np.isnat(clo) & (wd.between(np.where(variant_a, new_acc, rec), np.where(np.isnat(clo), rec, clo)) > 44)
        variant_a &= ~too_long | np.isnat(clo)
        acc = np.where(variant_a, new_acc, acc)
        anchor = np.where(np.isnat(acc), rec, acc)
        clo = np.where(~variant_a, anchor - back, clo)
        f.loc[rows, "accepted"] = acc
        f.loc[rows, "closed"] = clo
        defect[rows] = "chronology"
        taken[rows] = True

    # 5. USCC check character
    resp = f["resp"].to_numpy()
    uscc = np.where(resp >= 0, model.resp.uscc[np.maximum(resp, 0)], "")
    ok = ~taken & (uscc != "")
    rows = pick_rows(rng, ok, want["uscc_check"], weight)
    if len(rows):
        f.loc[rows, "uscc_override"] = wrong_uscc_check(rng, uscc[rows])
        defect[rows] = "uscc_check"
        taken[rows] = True

    # 6. region codes
    codes = model.u.counties.code.to_numpy(dtype=object)[f["county"].to_numpy()]
    rows = pick_rows(rng, ~taken, want["region_code"], weight)
    if len(rows):
        f.loc[rows, "region_override"] = bad.bad_codes(codes[rows], year, rng)
        defect[rows] = "region_code"
        taken[rows] = True

    # 7. missing required fields (also absorbs any shortfall of the families above)
    short = total - n_dup - int((defect != "").sum()) - want["missing_required"]
    rows = pick_rows(rng, ~taken, want["missing_required"] + max(0, short), weight)
    if len(rows):
        col = np.array(["record_type", "handling_region_code", "entry_unit_id"], dtype=object)
        f.loc[rows, "blank"] = col[rng.choice(3, len(rows), p=[0.35, 0.35, 0.30])]
        defect[rows] = "missing_required"
        taken[rows] = True

    f["defect"] = defect
    if len(originals):
        f = pd.concat([f, _duplicates(f, originals, model, as_of, rng)], ignore_index=True)
    return f


def _duplicates(f: pd.DataFrame, originals: np.ndarray, model: ComplaintModel, as_of: np.datetime64,
                rng: np.random.Generator) -> pd.DataFrame:
    c = f.loc[originals].copy().reset_index(drop=True)
    k = len(c)
    old = c["channel"].to_numpy().astype(np.int64)
    # another channel, drawn from the usual mix without the original's
    p = np.tile(CHANNEL_MIX, (k, 1))
    p[np.arange(k), old] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    new = (rng.random((k, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    c["channel"] = np.minimum(new, len(CHANNELS) - 1).astype(np.int8)
    rec = c["received"].to_numpy() + rng.integers(600, 3 * 86400, k).astype("timedelta64[s]")
    c["received"] = rec
    rday = rec.astype("datetime64[D]")
    rsec = (rec - rday.astype("datetime64[s]")).astype(np.int64)
    kk = c["k_acc"].to_numpy().astype(np.int64)
    kk = np.where((kk == 0) & ~(model.wd.is_workday(rday) & (rsec < 16 * 3600)), 1, kk)
    c["k_acc"] = kk
    acc, clo = schedule(model.wd, rng, rec, c["rtype"].to_numpy(), c["decision"].to_numpy().astype(np.int64), kk,
                        c["m_close"].to_numpy().astype(np.int64))
    c["accepted"] = acc
    c["closed"] = clo
    apply_cutoff(c, as_of)
    c["entry"] = model.eu_pool.draw(rng, c["county"].to_numpy()).astype(np.int32)
    c["defect"] = "cross_channel_duplicate"
    for col in ("blank", "region_override", "uscc_override"):
        c[col] = ""
    return c


# --- sampling ---------------------------------------------------------------------------------------------
def inject_sampling(f: pd.DataFrame, model, year: int, as_of: np.datetime64, rate: float, rng: np.random.Generator,
                    bad: BadCodes) -> pd.DataFrame:
    if rate <= 0 or len(f) == 0:
        return f
    n = len(f)
    total = int(round(rate * n))
    want = allocate(total, SAMPLING_MIX)
    taken = np.zeros(n, dtype=bool)
    defect = np.full(n, "", dtype=object)
    last = as_of.astype("datetime64[D]")
    D = {k: f[k].to_numpy().astype("datetime64[D]") for k in ("notified", "stop", "due", "corrected", "reinspected")}
    notified = D["notified"]
    complete = (f["failed"].to_numpy() & ~np.isnat(D["stop"]) & ~np.isnat(D["corrected"])
                & ~np.isnat(D["reinspected"]) & (notified + 125 <= last))
    rows = pick_rows(rng, complete, want["sampling_disposal"])
    if len(rows):
        v = rng.choice(3, len(rows), p=[0.35, 0.35, 0.30])
        nt = notified[rows]
        stop, cor, rei, due = (D[k][rows] for k in ("stop", "corrected", "reinspected", "due"))
        stop = np.where(v == 0, nt - rng.integers(1, 11, len(rows)), stop)
        late = due + rng.integers(3, 13, len(rows))
        cor = np.where(v == 1, late, cor)
        rei = np.where(v == 1, np.minimum(late + rng.integers(1, 4, len(rows)), nt + 75), rei)
        rei = np.where(v == 2, nt + rng.integers(80, 121, len(rows)), rei)
        f.loc[rows, "stop"] = stop
        f.loc[rows, "corrected"] = cor
        f.loc[rows, "reinspected"] = rei
        defect[rows] = "sampling_disposal"
        taken[rows] = True

    seller_uscc = model.sellers.uscc[f["seller"].to_numpy()]
    maker_uscc = model.makers.uscc[f["maker"].to_numpy()]
    ok = ~taken & ((seller_uscc != "") | (maker_uscc != ""))
    rows = pick_rows(rng, ok, want["uscc_check"])
    if len(rows):
        use_seller = (seller_uscc[rows] != "") & ((rng.random(len(rows)) < 0.6) | (maker_uscc[rows] == ""))
        wrong_s = wrong_uscc_check(rng, np.where(seller_uscc[rows] != "", seller_uscc[rows], "0" * 18))
        wrong_m = wrong_uscc_check(rng, np.where(maker_uscc[rows] != "", maker_uscc[rows], "0" * 18))
        f.loc[rows, "seller_uscc_override"] = np.where(use_seller, wrong_s, "")
        f.loc[rows, "maker_uscc_override"] = np.where(use_seller, "", wrong_m)
        defect[rows] = "uscc_check"
        taken[rows] = True

    codes = model.u.counties.code.to_numpy(dtype=object)[f["county"].to_numpy()]
    rows = pick_rows(rng, ~taken, want["region_code"])
    if len(rows):
        f.loc[rows, "region_override"] = bad.bad_codes(codes[rows], year, rng)
        defect[rows] = "region_code"
        taken[rows] = True

    short = total - int((defect != "").sum()) - want["missing_required"]
    rows = pick_rows(rng, ~taken, want["missing_required"] + max(0, short))
    if len(rows):
        f.loc[rows, "blank"] = np.array(["region_code", "result"], dtype=object)[rng.integers(0, 2, len(rows))]
        defect[rows] = "missing_required"
    f["defect"] = defect
    return f


def spread_over_months(rng: np.random.Generator, months: np.ndarray, k: int) -> np.ndarray:
    """k distinct row indices spread evenly over the months: every month gets its first defect before
    any month gets a second (random order within a round). A hotline month has only a few dozen rows
    (one per call-centre unit), so two or three defects drawn into one month would be a month-level
    error share no real delivery shows at a ~1 % defect rate."""
    n = len(months)
    k = min(max(k, 0), n)
    if k == 0:
        return np.array([], dtype=np.int64)
    order = rng.permutation(n)
    rank = pd.Series(months[order]).groupby(months[order]).cumcount().to_numpy()  # 0 = the month's first pick
    key = np.empty(n)
    key[order] = rank + rng.random(n)
    return np.sort(np.argsort(key, kind="stable")[:k])


def inject_hotline(df: pd.DataFrame, year: int, rate: float, rng: np.random.Generator, bad: BadCodes) -> pd.DataFrame:
    if rate <= 0 or len(df) == 0:
        return df
    total = int(round(rate * len(df)))
    want = allocate(total, HOTLINE_MIX)
    chosen = spread_over_months(rng, df["month"].to_numpy(dtype=object), total)
    families = np.array(["region_code"] * want["region_code"] + ["missing_required"] * want["missing_required"],
                        dtype=object)[rng.permutation(total)][:len(chosen)]
    rows = chosen[families == "region_code"]
    if len(rows):
        df.loc[rows, "region_override"] = bad.bad_codes(df["region_code"].to_numpy(dtype=object)[rows], year, rng)
        df.loc[rows, "defect"] = "region_code"
    rows = chosen[families == "missing_required"]
    if len(rows):
        df.loc[rows, "blank"] = np.array(["region_code", "calls_offered"], dtype=object)[rng.integers(0, 2, len(rows))]
        df.loc[rows, "defect"] = "missing_required"
    return df
