"""SQL macros of sql/macros/codes.sql against python-stdnum and the shipped verification codes.

The code lists in tests/data/codes/ are copies of shared/verification/codes (README there);
tests never read /work/shared.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest
from stdnum.cn import ric, uscc

from data_quality.sql_macros import install_macros

CODES = Path(__file__).parent / "data" / "codes"
VALID = (CODES / "uscc_valid.txt").read_text().split()
INVALID = (CODES / "uscc_invalid.txt").read_text().split()
DERIVATION = {r["invalid_code"]: r for r in csv.DictReader((CODES / "uscc_invalid_derivation.csv").open(encoding="utf-8"))}


@pytest.fixture(scope="module")
def macro_con():
    """In-memory DuckDB with the code-check SQL macros (sql/macros/) installed."""
    c = duckdb.connect()
    install_macros(c)
    return c


def _column(macro_con, fn: str, values: list[str | None]) -> list:
    return [r[0] for r in macro_con.execute(f"select {fn}(s) from (select unnest($1::varchar[]) as s, generate_subscripts($1::varchar[], 1) as i) order by i", [values]).fetchall()]


def test_lists_are_complete():
    assert len(VALID) == 205 and len(INVALID) == 30 and set(DERIVATION) == set(INVALID)


def test_install_is_idempotent(macro_con):
    assert install_macros(macro_con) == ["codes.sql"]


def test_uscc_valid_codes_pass(macro_con):
    got = _column(macro_con, "uscc_is_valid", VALID)
    assert [c for c, ok in zip(VALID, got) if not ok] == []
    # the embedded GB 11714 organisation code passes too (README: every one of the 205 does)
    assert all(_column(macro_con, "uscc_org_code_is_valid", VALID))


def test_uscc_invalid_codes_fail(macro_con):
    got = _column(macro_con, "uscc_is_valid", INVALID)
    assert [c for c, ok in zip(INVALID, got) if ok] == []


def test_uscc_matches_stdnum_except_lower_case(macro_con):
    """Deliberate difference: stdnum upper-cases its input (compact()); GB 32100 defines
    upper-case characters and a lower-case code is a non-conforming entry, so we refuse it."""
    codes = VALID + INVALID
    for code, ours in zip(codes, _column(macro_con, "uscc_is_valid", codes)):
        theirs = uscc.is_valid(code)
        if DERIVATION.get(code, {}).get("category") == "lowercase":
            assert theirs and not ours, code
            assert uscc.is_valid(code.upper()) and _column(macro_con, "uscc_is_valid", [code.upper()]) == [True]
        else:
            assert ours == theirs, code


def test_uscc_letters_in_first_two_positions(macro_con):
    """Second deliberate difference: stdnum wants digits in positions 1–2; GB 32100 allows the
    registration-authority code to be a letter (Y, A, N …). We accept such codes."""
    body = "Y1110000600037341"
    code = body + _column(macro_con, "uscc_check_char", [body + "0"])[0]
    assert _column(macro_con, "uscc_is_valid", [code]) == [True]
    assert not uscc.is_valid(code)


def test_uscc_null_and_junk(macro_con):
    assert _column(macro_con, "uscc_is_valid", [None, "", " 91110000600037341L", "91110000600037341L ", "９１１１００００６０００３７３４１Ｌ"]) == [None, False, False, False, False]
    assert _column(macro_con, "uscc_region_code", ["91110000600037341L", "91A100006000373411", None]) == ["110000", None, None]


def _random_ids(rng: np.random.Generator, n: int) -> list[str]:
    """n random GB 11643 numbers with correct check characters and real birth dates 1900–2020."""
    w = np.array([pow(2, 17 - i, 11) for i in range(17)])
    area = rng.choice(["110105", "320802", "440305", "510107", "652324"], n)
    birth = np.datetime64("1900-01-01") + rng.integers(0, 43800, n).astype("timedelta64[D]")
    seq = rng.integers(0, 1000, n)
    out = []
    for a, b, s in zip(area, birth.astype(str), seq):
        body = f"{a}{b.replace('-', '')}{s:03d}"
        out.append(body + "10X98765432"[int(np.dot(w, [int(c) for c in body]) % 11)])
    return out


def test_cn_id_random_valid_and_corrupted_match_stdnum(macro_con):
    rng = np.random.default_rng(20240315)
    valid = _random_ids(rng, 3000)
    # corruptions: change one digit (GB 11643 catches every single substitution), swap two
    # adjacent different digits, impossible dates with recomputed check character
    corrupted = []
    for code in valid[:2000]:
        i = int(rng.integers(0, 18))
        c = code[i]
        new = str((int(c) + int(rng.integers(1, 10))) % 10) if c != "X" else "0"
        corrupted.append(code[:i] + new + code[i + 1:])
    for code in valid[2000:2500]:
        i = int(rng.integers(0, 16))
        if code[i] != code[i + 1]:
            corrupted.append(code[:i] + code[i + 1] + code[i] + code[i + 2:])
    w = np.array([pow(2, 17 - i, 11) for i in range(17)])
    for bad_date in ("19990229", "20011301", "20010431", "20010100"):
        body = "110105" + bad_date + "123"
        corrupted.append(body + "10X98765432"[int(np.dot(w, [int(c) for c in body]) % 11)])
    got_valid = _column(macro_con, "cn_id_is_valid", valid)
    got_bad = _column(macro_con, "cn_id_is_valid", corrupted)
    assert all(got_valid)
    assert not any(got_bad)
    # stdnum refuses every corrupted one too
    assert not any(ric.is_valid(c) for c in corrupted)
    # and accepts every valid one except where its extra birth-place check fails: stdnum wants
    # the address code to exist in the birth year, but the code is where the person was first
    # registered, often years after birth (320802 was created in 1983, abolished in 2016).
    # Deliberately not part of our validity flag; region plausibility is a separate warn rule.
    differ = [c for c in valid if not ric.is_valid(c)]
    assert differ and all(_stdnum_fails_on_place_only(c) for c in differ)
    assert all(ric.is_valid(c) for c in valid if c[:6] == "110105")  # 1981– and still valid


def _stdnum_fails_on_place_only(code: str) -> bool:
    from stdnum.exceptions import InvalidComponent

    ric.get_birth_date(code)  # the date part is fine
    try:
        ric.get_birth_place(code)
    except InvalidComponent:
        return True
    return False


def test_cn_id_lower_case_x_and_future_birth(macro_con):
    w = np.array([pow(2, 17 - i, 11) for i in range(17)])
    x_body = next(b for b in (f"11010519491231{s:03d}" for s in range(1000)) if np.dot(w, [int(c) for c in b]) % 11 == 2)
    # GB 11643 defines the value 10 of the check character; x and X both write it (unlike the USCC,
    # whose character set is upper case), as python-stdnum agrees
    assert _column(macro_con, "cn_id_is_valid", [x_body + "X", x_body + "x", x_body[:16] + "0x"]) == [True, True, False]
    assert ric.is_valid(x_body + "x")
    def with_check(body: str) -> str:
        return body + "10X98765432"[int(np.dot(w, [int(c) for c in body]) % 11)]

    # a birth date after the reference date is invalid: fixed dates, not the test machine's clock
    born = with_check("110105" + "20300615" + "123")
    assert macro_con.execute("select cn_id_is_valid_at($1, DATE '2030-06-14'), cn_id_is_valid_at($1, DATE '2030-06-15')",
                             [born]).fetchall() == [(False, True)]
    # cn_id_is_valid(s) is cn_id_is_valid_at(s, current_date): the day after DuckDB's own current_date
    tomorrow = macro_con.execute("select current_date + 1").fetchall()[0][0]
    future = with_check("110105" + tomorrow.strftime("%Y%m%d") + "123")
    assert macro_con.execute("select cn_id_is_valid($1), cn_id_is_valid_at($1, current_date + 1)",
                             [future]).fetchall() == [(False, True)]
    assert macro_con.execute("select cn_id_is_valid_at('360426199101010071', DATE '1990-12-31'), cn_id_is_valid_at('360426199101010071', DATE '1991-01-01')").fetchall() == [(False, True)]
    assert macro_con.execute("select cn_id_birth_date('360426199101010071')").fetchall() == [(dt.date(1991, 1, 1),)]
