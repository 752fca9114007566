"""Vectorised builders (and checkers) for the national identifier codes the records carry.

- GB 32100-2015 unified social credit code (统一社会信用代码, USCC), docs/domain.md §5.1:
  18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY``; positions 1–2 registration authority and
  entity category (91 enterprise, 92 个体工商户), 3–8 the registering county's GB/T 2260 code,
  9–17 the GB 11714 organisation code (8 characters + its own check character), 18 the GB 32100
  check character.
- GB 11643-1999 citizen ID number (公民身份号码), §5.2: 6-digit address code + birth date
  YYYYMMDD + 3-digit sequence (odd = male) + check digit. The address code is the county where
  the person was first registered, so it must have existed in the birth year: we only use codes
  valid that year both in ``reference.admin_divisions_history()`` and in python-stdnum's own
  location table (so ``stdnum.cn.ric`` accepts every generated number).
- Mobile numbers: a real 3-digit carrier prefix (1[3-9]x) + 8 digits.

Strings are built as fixed-width code-point arrays and viewed as numpy unicode strings, so a
million codes take a fraction of a second and no Python loop runs per record.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = np.array([ord(c) for c in "10X98765432"], dtype=np.uint32)

_USCC_CP = np.array([ord(c) for c in USCC_ALPHABET], dtype=np.uint32)
_USCC_VALUE = np.full(128, -1, dtype=np.int64)  # code point -> GB 32100 value
_USCC_VALUE[_USCC_CP] = np.arange(31)
_ORG_VALUE = np.full(128, -1, dtype=np.int64)  # code point -> GB 11714 value (A=10 … Z=35)
_ORG_VALUE[48:58] = np.arange(10)
_ORG_VALUE[65:91] = np.arange(10, 36)


# -- fixed-width string <-> code-point matrix ---------------------------------------------------
def to_codepoints(strings, width: int) -> np.ndarray:
    """(n,) strings -> (n, width) uint32 code points (shorter strings padded with 0)."""
    arr = np.asarray(strings, dtype=f"<U{width}")
    return arr.view(np.uint32).reshape(len(arr), width)


def from_codepoints(cp: np.ndarray) -> np.ndarray:
    """(n, width) code points -> (n,) object array of Python str."""
    cp = np.ascontiguousarray(cp, dtype=np.uint32)
    return cp.view(f"<U{cp.shape[1]}").ravel().astype(object)


def digits_cp(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers -> (n, width) zero-padded decimal code points."""
    values = np.asarray(values, dtype=np.int64)
    out = np.empty((len(values), width), dtype=np.uint32)
    v = values.copy()
    for j in range(width - 1, -1, -1):
        out[:, j] = 48 + (v % 10)
        v //= 10
    return out


# -- GB 11714 organisation code and GB 32100 USCC ---------------------------------------------------
def org_check_cp(body_cp: np.ndarray) -> np.ndarray:
    """Check character of an 8-character organisation-code body: 11 − Σ mod 11; 10 → X, 11 → 0."""
    s = (_ORG_VALUE[body_cp] * ORG_WEIGHTS).sum(axis=1)
    c = 11 - s % 11
    out = np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), 48 + c))
    return out.astype(np.uint32)


def uscc_check_cp(first17_cp: np.ndarray) -> np.ndarray:
    s = (_USCC_VALUE[first17_cp] * USCC_WEIGHTS).sum(axis=1)
    return _USCC_CP[(31 - s % 31) % 31]


def make_uscc(rng: np.random.Generator, prefixes, region_codes, new_style_share: float = 0.4) -> np.ndarray:
    """USCCs for the given 2-character prefixes (91/92/…) and 6-digit registering-county codes.

    Organisation-code bodies are either 8 digits (codes carried over from the old 组织机构代码
    certificates) or, for entities registered since 2015, ``MA`` + 6 characters of the USCC
    alphabet (the pattern seen in real codes such as 91310115MA1K3BTP2B).
    """
    n = len(region_codes)
    cp = np.empty((n, 18), dtype=np.uint32)
    cp[:, 0:2] = to_codepoints(prefixes, 2)
    cp[:, 2:8] = to_codepoints(region_codes, 6)
    body = 48 + rng.integers(0, 10, size=(n, 8)).astype(np.uint32)
    new = rng.random(n) < new_style_share
    k = int(new.sum())
    if k:
        body[new, 0] = ord("M")
        body[new, 1] = ord("A")
        body[new, 2:] = _USCC_CP[rng.integers(0, 31, size=(k, 6))]
    cp[:, 8:16] = body
    cp[:, 16] = org_check_cp(body)
    cp[:, 17] = uscc_check_cp(cp[:, :17])
    return from_codepoints(cp)


def unique_usccs(rng: np.random.Generator, prefixes, region_codes, taken: set | None = None) -> np.ndarray:
    """Like :func:`make_uscc` but redraws until no code repeats (within the batch and ``taken``)."""
    prefixes = np.asarray(prefixes, dtype=object)
    region_codes = np.asarray(region_codes, dtype=object)
    out = make_uscc(rng, prefixes, region_codes)
    taken = taken if taken is not None else set()
    for _ in range(20):
        s = pd.Series(out)
        bad = s.duplicated().to_numpy() | s.isin(taken).to_numpy()
        if not bad.any():
            break
        out[bad] = make_uscc(rng, prefixes[bad], region_codes[bad])
    return out


def wrong_uscc_check(rng: np.random.Generator, usccs) -> np.ndarray:
    """The same codes with a different (wrong) 18th character from the USCC alphabet."""
    cp = to_codepoints(usccs, 18).copy()
    true_val = _USCC_VALUE[cp[:, 17]]
    cp[:, 17] = _USCC_CP[(true_val + rng.integers(1, 31, size=len(cp))) % 31]
    return from_codepoints(cp)


def uscc_valid(usccs) -> np.ndarray:
    """Vectorised GB 32100 check (length, alphabet, check character) — for tests and self-checks."""
    s = pd.Series(usccs, dtype=object).fillna("")
    ok = (s.str.len() == 18).to_numpy()
    out = np.zeros(len(s), dtype=bool)
    if ok.any():
        cp = to_codepoints(s[ok].to_numpy(), 18)
        v = _USCC_VALUE[np.minimum(cp, 127)]
        good = (v >= 0).all(axis=1) & (cp < 128).all(axis=1)
        good &= ((cp[:, 2:8] >= 48) & (cp[:, 2:8] <= 57)).all(axis=1)  # 3–8: a GB/T 2260 code
        good &= uscc_check_cp(np.where(v >= 0, cp, 48)[:, :17]) == cp[:, 17]
        out[np.flatnonzero(ok)] = good
    return out


# -- GB 11643 citizen ID numbers ------------------------------------------------------------------
def make_ric(address_codes, birth_dates, sequence) -> np.ndarray:
    """ID numbers from 6-digit address codes, datetime64[D] birth dates and 1–999 sequence numbers."""
    n = len(address_codes)
    cp = np.empty((n, 18), dtype=np.uint32)
    cp[:, 0:6] = to_codepoints(address_codes, 6)
    bd = np.asarray(birth_dates, dtype="datetime64[D]")
    y = bd.astype("datetime64[Y]").astype(np.int64) + 1970
    m = bd.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (bd - bd.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    cp[:, 6:14] = digits_cp(y * 10000 + m * 100 + d, 8)
    cp[:, 14:17] = digits_cp(sequence, 3)
    s = ((cp[:, :17].astype(np.int64) - 48) * RIC_WEIGHTS).sum(axis=1)
    cp[:, 17] = RIC_CHECK[s % 11]
    return from_codepoints(cp)


def _stdnum_years(code: str, db, years: np.ndarray) -> np.ndarray | None:
    """Which of ``years`` python-stdnum's location table accepts ``code`` in (None = no entry)."""
    info = {k: v for _, props in db.info(code) for k, v in props.items()}
    county = info.get("county")
    if not county:
        return None
    ok = np.zeros(len(years), dtype=bool)
    for part in county.split(","):
        if not part.startswith("["):
            return np.ones(len(years), dtype=bool)
        a, b = part[1:].split("]")[0].split("-")
        ok |= (years >= (int(a) if a else 0)) & (years <= (int(b) if b else 9999))
    return ok


@lru_cache(maxsize=None)
def id_address_table(first_year: int = 1940, last_year: int = 2012) -> tuple[np.ndarray, np.ndarray]:
    """County codes usable as ID address codes per birth year.

    Returns ``(codes, valid)`` where ``valid[i, y - first_year]`` says code i existed in year y
    according to both GB/T 2260 history (codes already present in 1981, the first list, count as
    existing before it) and python-stdnum's table.
    """
    from stdnum import numdb

    from reference import admin_divisions_history

    hist = admin_divisions_history()
    hist = hist[hist.level == "county"].sort_values("code", kind="stable")
    years = np.arange(first_year, last_year + 1)
    lo = np.where(hist.valid_from_year.to_numpy() <= 1981, -10_000, hist.valid_from_year.to_numpy())
    hi = hist.valid_to_year.fillna(10_000).to_numpy(dtype=np.int64)
    rows = (years >= lo[:, None]) & (years <= hi[:, None])
    codes_all = hist.code.to_numpy(dtype=object)
    first = np.flatnonzero(np.r_[True, codes_all[1:] != codes_all[:-1]])
    ours = np.logical_or.reduceat(rows, first, axis=0)
    db = numdb.get("cn/loc")
    codes, valid = [], []
    for code, mask in zip(codes_all[first], ours):
        if not mask.any():
            continue
        theirs = _stdnum_years(code, db, years)
        if theirs is not None and (mask & theirs).any():
            codes.append(code)
            valid.append(mask & theirs)
    return np.array(codes, dtype=object), np.vstack(valid)


def make_mobiles(rng: np.random.Generator, n: int, prefixes: tuple[str, ...]) -> np.ndarray:
    cp = np.empty((n, 11), dtype=np.uint32)
    cp[:, 0:3] = to_codepoints(np.asarray(prefixes, dtype=object)[rng.integers(0, len(prefixes), n)], 3)
    cp[:, 3:] = 48 + rng.integers(0, 10, size=(n, 8)).astype(np.uint32)
    return from_codepoints(cp)


def spaced_mobiles(phones) -> np.ndarray:
    """138 1234 5678 — how people often write a number in free text."""
    cp = to_codepoints(phones, 11)
    out = np.full((len(cp), 13), ord(" "), dtype=np.uint32)
    out[:, 0:3] = cp[:, 0:3]
    out[:, 4:8] = cp[:, 3:7]
    out[:, 9:13] = cp[:, 7:11]
    return from_codepoints(out)
