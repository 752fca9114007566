"""data_quality.codes: USCC and ID numbers (scalar, numpy, SQL agree), region codes valid at a date."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from stdnum.cn import uscc as std_uscc

from data_quality import codes
from data_quality.sql_macros import install_macros

CODES = Path(__file__).parent / "data" / "codes"
VALID = (CODES / "uscc_valid.txt").read_text().split()
INVALID = (CODES / "uscc_invalid.txt").read_text().split()
ORDERED = ("select {} from (select unnest($1::varchar[]) as s, generate_subscripts($1::varchar[], 1) as i) "
           "order by i")
LOWER = {"91310115ma1k3btp2b", "92340603ma2pbqgb6m", "91340600ma2pep7f5b"}


@pytest.fixture(scope="module")
def codes_con():
    """In-memory DuckDB with the code-check macros and GB/T 2260 region tables."""
    c = duckdb.connect()
    install_macros(c)
    codes.install_region_tables(c)
    return c


# ---- USCC -----------------------------------------------------------------------------------
def test_uscc_scalar_and_numpy_on_verification_codes():
    assert all(codes.uscc_is_valid(c) for c in VALID)
    assert not any(codes.uscc_is_valid(c) for c in INVALID)
    arr = codes.uscc_valid_array(VALID + INVALID + [None, np.nan, 18, ""])
    assert arr.tolist() == [True] * len(VALID) + [False] * (len(INVALID) + 4)


def test_uscc_agrees_with_stdnum_except_lower_case():
    for c in VALID + INVALID:
        if c in LOWER:
            assert std_uscc.is_valid(c) and not codes.uscc_is_valid(c)
        else:
            assert codes.uscc_is_valid(c) == std_uscc.is_valid(c), c


def test_uscc_random_bodies_numpy_sql_scalar_agree(codes_con):
    rng = np.random.default_rng(7)
    alphabet = np.array(list(codes.USCC_ALPHABET))
    bodies = ["".join(rng.choice(alphabet, 2)) + "".join(rng.choice(list("0123456789"), 6)) + "".join(rng.choice(alphabet, 9))
              for _ in range(3000)]
    good = [b + codes.uscc_check_char(b) for b in bodies]
    # one wrong character anywhere (GB 32100's mod-31 check catches every single substitution)
    bad = []
    for g in good[:1500]:
        i = int(rng.integers(0, 18))
        choices = [x for x in codes.USCC_ALPHABET if x != g[i] and (i not in range(2, 8) or x.isdigit())]
        bad.append(g[:i] + str(rng.choice(choices)) + g[i + 1:])
    values = good + bad
    expected = [True] * len(good) + [False] * len(bad)
    assert codes.uscc_valid_array(values).tolist() == expected
    assert [codes.uscc_is_valid(v) for v in values] == expected
    sql = [r[0] for r in codes_con.execute(ORDERED.format("uscc_is_valid(s)"), [values]).fetchall()]
    assert sql == expected
    # stdnum agrees whenever positions 1–2 are digits (it refuses letters there; GB 32100 allows them)
    digit_prefix = [v for v in values if v[:2].isdigit()]
    assert [std_uscc.is_valid(v) for v in digit_prefix] == codes.uscc_valid_array(digit_prefix).tolist()


def test_uscc_series_keeps_na():
    s = pd.Series(["91110000600037341L", None, "91110000600037341M"], index=[10, 11, 12])
    out = codes.uscc_valid_series(s)
    assert out.index.tolist() == [10, 11, 12]
    assert out.tolist()[0] is True and pd.isna(out[11]) and out.tolist()[2] is False


# ---- citizen ID numbers ----------------------------------------------------------------------
def _id(area: str, birth: str, seq: int) -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + codes.cn_id_check_char(body)


def test_cn_id_scalar_numpy_sql_agree(codes_con):
    rng = np.random.default_rng(11)
    births = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 33000, 2000), "D")
    good = [_id("320802", b.strftime("%Y%m%d"), int(s)) for b, s in zip(births, rng.integers(0, 1000, 2000))]
    bad = [g[:-1] + ("0" if g[-1] != "0" else "1") for g in good[:500]]
    bad += [_id("110105", d, 1) for d in ("19990229", "20011301", "20010431", "00000101", "17991231")]
    bad += [good[0].lower()[:-1] + "x", good[0][:17], good[0] + "1", None]
    values = good + bad
    expected = [True] * len(good) + [False] * len(bad)
    assert [codes.cn_id_is_valid(v) for v in values] == expected
    assert codes.cn_id_valid_array(values).tolist() == expected
    sql = [r[0] for r in codes_con.execute(ORDERED.format("coalesce(cn_id_is_valid(s), false)"), [values]).fetchall()]
    assert sql == expected


def test_cn_id_reference_date():
    code = _id("110105", "20200301", 5)
    assert not codes.cn_id_is_valid(code, dt.date(2020, 2, 29))
    assert codes.cn_id_is_valid(code, dt.date(2020, 3, 1))
    out = codes.cn_id_valid_array([code, code], ref_dates=["2020-02-29", "2020-03-01"])
    assert out.tolist() == [False, True]


# ---- GB/T 2260 at a date ---------------------------------------------------------------------
@pytest.mark.parametrize("code,date,status", [
    ("320802", "2015-06-30", "valid"),            # 清河区 (淮安) 1983–2015
    ("320802", "2016-03-01", "valid"),            # abolished during 2016: records of that year may carry it
    ("320802", "2025-01-15", "abolished"),
    ("320812", "2015-06-30", "not_yet_created"),  # 清江浦区 from 2016
    ("320812", "2016-06-30", "valid"),
    ("110103", "2009-05-01", "valid"),            # 崇文区 to 2009
    ("110103", "2011-05-01", "abolished"),
    ("500105", "2025-05-01", "valid"),            # 江北区 (重庆) in the 2024 list, gone from 2025's: grace year
    ("500105", "2026-05-01", "abolished"),
    ("500157", "2024-05-01", "not_yet_created"),  # 两江新区 from 2025
    ("330502", "1995-01-01", "abolished"),        # 城区 1983–1987, code reused for 吴兴区 from 2003
    ("330502", "2005-01-01", "valid"),
    ("653132", "2026-05-01", "valid"),            # created 2026, in the current list only
    ("653132", "2025-05-01", "not_yet_created"),
    ("999999", "2020-01-01", "unknown"),
    ("3208", "2020-01-01", "unknown"),
])
def test_region_code_status(code, date, status):
    assert codes.region_code_status_one(code, date) == status


def test_region_code_status_grace_zero():
    assert codes.region_code_status_one("320802", "2016-03-01", grace_years=0) == "abolished"


def test_region_status_sql_equals_pandas(codes_con):
    rng = np.random.default_rng(3)
    table = codes.region_status_table()
    pool = np.concatenate([table["code"].unique()[::7], ["999999", "12AB34", "320802", "320812"]])
    n = 20000
    df = pd.DataFrame({"code": rng.choice(pool, n),
                       "d": pd.Timestamp("1978-01-01") + pd.to_timedelta(rng.integers(0, 60 * 365, n), "D")})
    df.loc[::97, "code"] = None
    df.loc[::89, "d"] = pd.NaT
    py = codes.region_code_status(df["code"], df["d"])
    df["i"] = range(n)
    codes_con.register("rs", df)
    # the macro's subquery becomes a join: row order is not preserved without ORDER BY
    sql = codes_con.sql("select region_code_status(code, d) from rs order by i").fetchall()
    assert [r[0] for r in sql] == [None if pd.isna(x) else x for x in py]
    assert set(py.dropna()) == set(codes.REGION_STATUSES)


def test_ever_valid_region_codes(codes_con):
    assert "320802" in codes.ever_valid_region_codes() and "999999" not in codes.ever_valid_region_codes()
    got = codes_con.execute("select region_code_ever_valid('320802'), region_code_ever_valid('999999'), "
                      "region_code_ever_valid('100000'), region_code_ever_valid(NULL)").fetchall()
    assert got == [(True, False, True, None)]
