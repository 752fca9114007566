"""Complainants (投诉人/举报人/咨询人): names, mobile numbers and ID numbers — personal data (PII).

Names are a weighted surname + one or two given-name characters matching the sex encoded in the ID
number's sequence digit (odd = male). ID numbers are valid GB 11643 numbers whose address code is
a county code that existed in the birth year (75 % from the scope's own province or prefecture,
the rest from anywhere — people move) and whose birth date gives an age of 18–80 at the record.

Which fields a record carries follows Order No. 20 Art. 9 and practice: a 投诉 always has a name
and phone (an ID number in ~75 %); 25 % of 举报 are anonymous; a 咨询 often has only a phone or
a "王先生"-style name. ID numbers and phone numbers are unique within a year, so two records can
only look like the same person when the generator made them so (cross-channel duplicates).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import vocab
from .businesses import surnames
from .codes import id_address_table, make_mobiles, make_ric

COMPLAINT, REPORT, CONSULT = 0, 1, 2


def _unique(rng, make, n: int, taken: set) -> np.ndarray:
    out = make(n)
    for _ in range(20):
        s = pd.Series(out)
        bad = (s.duplicated() | s.isin(taken)).to_numpy()
        if not bad.any():
            break
        out[bad] = make(int(bad.sum()))
    return out


def make_complainants(rng: np.random.Generator, rtype: np.ndarray, received_year: int, local_prefix: str,
                      taken: set) -> dict[str, np.ndarray]:
    """name, phone, id_number (object arrays, "" when absent) for records of the given types."""
    n = len(rtype)
    if n == 0:
        empty = np.array([], dtype=object)
        return {"name": empty, "phone": empty.copy(), "id_number": empty.copy()}
    male = rng.random(n) < 0.52
    # --- identity numbers ------------------------------------------------------------------------
    codes, valid = id_address_table()
    first_year = 1940
    age = np.clip(np.round(rng.normal(39, 12.5, n)), 18, 80).astype(int)
    birth_year = received_year - age
    local = rng.random(n) < 0.75
    is_local_code = np.array([c.startswith(local_prefix) for c in codes]) if local_prefix else np.ones(len(codes), bool)
    addr = np.empty(n, dtype=object)
    for y in np.unique(birth_year):  # ~60 birth years: a tiny loop
        col = valid[:, y - first_year]
        for loc in (True, False):
            sel = (birth_year == y) & (local == loc)
            if not sel.any():
                continue
            pool = np.flatnonzero(col & is_local_code) if loc else np.flatnonzero(col)
            if len(pool) == 0:
                pool = np.flatnonzero(col)
            addr[sel] = codes[pool[rng.integers(0, len(pool), int(sel.sum()))]]
    start = np.array([f"{y}-01-01" for y in range(birth_year.min(), birth_year.max() + 1)], dtype="datetime64[D]")
    days_in_year = 365 + ((birth_year % 4 == 0) & ((birth_year % 100 != 0) | (birth_year % 400 == 0)))
    birth = start[birth_year - birth_year.min()] + (rng.random(n) * days_in_year).astype(int).astype("timedelta64[D]")
    seq_base = rng.integers(0, 500, n) * 2  # 0, 2, …, 998
    seq = np.where(male, seq_base + 1, np.maximum(seq_base, 2))

    ids = make_ric(addr, birth, seq)
    for _ in range(20):
        s = pd.Series(ids)
        bad = (s.duplicated() | s.isin(taken)).to_numpy()
        if not bad.any():
            break
        k = int(bad.sum())
        seq_new = rng.integers(0, 500, k) * 2
        seq[bad] = np.where(male[bad], seq_new + 1, np.maximum(seq_new, 2))
        ids[bad] = make_ric(addr[bad], birth[bad], seq[bad])
    phones = _unique(rng, lambda k: make_mobiles(rng, k, vocab.MOBILE_PREFIXES), n, taken)
    taken.update(ids)
    taken.update(phones)

    # --- names -------------------------------------------------------------------------------------
    sn = surnames(rng, n)
    mg = np.asarray(vocab.MALE_GIVEN, dtype=object)
    fg = np.asarray(vocab.FEMALE_GIVEN, dtype=object)
    g1 = np.where(male, mg[rng.integers(0, len(mg), n)], fg[rng.integers(0, len(fg), n)])
    g2 = np.where(male, mg[rng.integers(0, len(mg), n)], fg[rng.integers(0, len(fg), n)])
    two = rng.random(n) < 0.75
    names = sn + np.where(two, g1 + g2, g1)
    title = sn + np.where(male, "先生", "女士")

    # --- which fields the record carries --------------------------------------------------------------
    u = rng.random((n, 3))
    has_name = np.select([rtype == COMPLAINT, rtype == REPORT], [np.ones(n, bool), u[:, 0] >= 0.25], u[:, 0] < 0.6)
    has_phone = np.select([rtype == COMPLAINT, rtype == REPORT], [np.ones(n, bool), has_name], u[:, 1] < 0.9)
    has_id = np.select([rtype == COMPLAINT, rtype == REPORT], [u[:, 2] < 0.75, has_name & (u[:, 2] < 0.6)], u[:, 2] < 0.05)
    titled = (rtype == CONSULT) & (rng.random(n) < 0.3)
    names = np.where(titled, title, names)
    return {
        "name": np.where(has_name, names, "").astype(object),
        "phone": np.where(has_phone, phones, "").astype(object),
        "id_number": np.where(has_id, ids, "").astype(object),
    }
