"""Throughput of the data-quality building blocks at 1M rows: ``python -m data_quality.benchmark``.

Measures the choices the module docstrings state: USCC check as DuckDB macro vs numpy vs
python-stdnum (and the unrolled macro vs the ``list_sum`` form), region-at-date in SQL vs pandas,
statutory deadlines in SQL vs pandas (incl. pulling the columns out of DuckDB), and the whole
complaints rulebook on a synthetic 1M-row table. Prints one line per measurement; not a test
(minutes of CPU), so it lives here rather than in tests/.
"""
from __future__ import annotations

import argparse
import time
import warnings

import duckdb
import numpy as np
import pandas as pd


def _t(label: str, fn, results: dict):
    t0 = time.perf_counter()
    out = fn()
    results[label] = round(time.perf_counter() - t0, 3)
    print(f"{label:<55} {results[label]:>8.3f} s", flush=True)
    return out


def run(n: int = 1_000_000, stdnum_rows: int = 200_000, seed: int = 0) -> dict:
    from stdnum.cn import uscc as std_uscc

    from data_quality import codes, deadlines, engine
    from data_quality.codes import make_uscc

    rng = np.random.default_rng(seed)
    res: dict = {}
    con = duckdb.connect()
    engine.prepare(con)

    # --- USCC ------------------------------------------------------------------------------
    alphabet = np.array(list(codes.USCC_ALPHABET))
    regions = codes.region_status_table()["code"].unique()
    base = [make_uscc(str(rng.choice(regions)), "".join(rng.choice(alphabet, 8))) for _ in range(5000)]
    values = np.array(base)[rng.integers(0, len(base), n)].astype(object)
    bad = rng.random(n) < 0.05
    values[bad] = [v[:17] + ("0" if v[17] != "0" else "1") for v in values[bad]]
    frame = pd.DataFrame({"s": values})
    con.register("u_df", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE u AS SELECT * FROM u_df")
    list_macro = """CREATE OR REPLACE TEMP MACRO uscc_ok_list(s) AS (s IS NOT NULL
      AND regexp_full_match(s, '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}')
      AND s[18] = substr('0123456789ABCDEFGHJKLMNPQRTUWXY', (1 + (31 - list_sum([[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28][i]
          * (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', s[i]) - 1) FOR i IN range(1, 18)]) % 31) % 31)::BIGINT, 1))"""
    con.execute(list_macro)
    a = _t(f"uscc: DuckDB macro uscc_is_valid, {n:,} codes",
           lambda: con.sql("SELECT count(*) FILTER (WHERE uscc_is_valid(s)) FROM u").fetchall()[0][0], res)
    b = _t(f"uscc: DuckDB list_sum macro (engineering-notes form)",
           lambda: con.sql("SELECT count(*) FILTER (WHERE uscc_ok_list(s)) FROM u").fetchall()[0][0], res)
    c = _t(f"uscc: numpy uscc_valid_array, {n:,} codes", lambda: int(codes.uscc_valid_array(values).sum()), res)
    d = _t(f"uscc: stdnum via Series.map, {stdnum_rows:,} codes",
           lambda: int(frame.s[:stdnum_rows].map(std_uscc.is_valid).sum()), res)
    assert a == b == c and d == int(codes.uscc_valid_array(values[:stdnum_rows]).sum())
    res["uscc: stdnum extrapolated to n"] = round(res[f"uscc: stdnum via Series.map, {stdnum_rows:,} codes"]
                                                  * n / stdnum_rows, 1)
    print(f"{'uscc: stdnum extrapolated to ' + format(n, ','):<55} {res['uscc: stdnum extrapolated to n']:>8.1f} s")

    # --- region at date --------------------------------------------------------------------
    rdf = pd.DataFrame({"code": rng.choice(regions, n),
                        "d": pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 5800, n), "D")})
    con.register("r_df", rdf)
    con.execute("CREATE OR REPLACE TEMP TABLE r AS SELECT * FROM r_df")
    _t(f"region: SQL region_code_status, {n:,} rows",
       lambda: con.sql("SELECT region_code_status(code, d) s, count(*) FROM r GROUP BY 1").fetchall(), res)
    _t(f"region: pandas region_code_status, {n:,} rows", lambda: codes.region_code_status(rdf.code, rdf.d), res)

    # --- deadlines ---------------------------------------------------------------------------
    rec = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), "D") \
        + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    acc = rec + pd.to_timedelta(rng.integers(0, 15, n), "D")
    clo = acc + pd.to_timedelta(rng.integers(0, 80, n), "D")
    cdf = pd.DataFrame({"record_id": [f"R{i}" for i in range(n)],
                        "record_type": rng.choice(["投诉", "举报", "咨询"], n, p=[.7, .2, .1]),
                        "accept_decision": rng.choice(["受理", "不予受理", None], n, p=[.7, .2, .1]),
                        "received_at": rec, "accepted_at": acc, "closed_at": clo})
    con.register("c_df", cdf)
    con.execute("CREATE OR REPLACE TEMP TABLE c AS SELECT * FROM c_df")
    _t(f"deadlines: SQL complaint_deadlines, overdue keys, {n:,} rows",
       lambda: con.sql("SELECT record_id, limit_id FROM complaint_deadlines('c', NULL) WHERE status = 'overdue'").df(),
       res)
    _t(f"deadlines: SQL complaint_deadlines, all rows to pandas",
       lambda: con.sql("SELECT record_id, limit_id, status, elapsed FROM complaint_deadlines('c', NULL)").df(), res)
    pulled = _t(f"deadlines: pull 6 columns out of DuckDB",
                lambda: con.sql("SELECT record_id, record_type, accept_decision, received_at, accepted_at, closed_at "
                                "FROM c").df(), res)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _t(f"deadlines: pandas deadline_status, {n:,} rows", lambda: deadlines.deadline_status(pulled), res)

    # --- the whole complaints rulebook ---------------------------------------------------------
    full = cdf.copy()
    m = len(full)
    region_pool = np.array(["320812", "320105", "320506", "440305", "110105", "320802"])  # one abolished
    full["channel"] = rng.choice(["电话", "互联网", "微信", "12345转办"], m)
    full["entry_unit_id"] = "U" + pd.Series(rng.integers(0, 300, m)).astype(str)
    full["handling_region_code"] = rng.choice(region_pool, m)
    full["respondent_region_code"] = full["handling_region_code"]
    full["respondent_name"] = "公司" + pd.Series(rng.integers(0, 50_000, m)).astype(str)
    full["respondent_uscc"] = values[:m]
    full["object_type"], full["category"], full["problem_type"] = "商品", "家用电子电器", "质量"
    full["is_online"] = rng.random(m) < 0.4
    full["platform_name"] = None
    full["amount_disputed"] = rng.integers(10, 5000, m).astype(float)
    full["amount_recovered"] = full["amount_disputed"] * rng.random(m)
    full["mediation_result"] = rng.choice(["达成调解协议", "协商和解成功", "消费者撤回", None], m)
    full["settled_by_business"] = False
    full["case_filed"] = False
    full["report_substantiated"] = None
    full["satisfaction"] = rng.choice(["满意", "基本满意", "不满意", "未回访"], m)
    full["complainant_key"] = "k" + pd.Series(rng.integers(0, m // 2, m)).astype(str)  # repeat complainants
    full["complainant_id_valid"] = True
    full["content"] = "诉求内容：" + full["category"] + "问题，编号" + pd.Series(rng.integers(0, 10 ** 6, m)).astype(str)
    full["loaded_at"] = pd.Timestamp("2026-06-30")
    full.insert(0, "load_id", 1)
    full.insert(1, "source_row", np.arange(1, m + 1))
    con.register("f_df", full)
    con.execute("CREATE OR REPLACE TEMP TABLE complaints_1m AS SELECT * FROM f_df")
    out = _t(f"rulebook: all complaints rules on {m:,} rows (engine.evaluate)",
             lambda: engine.evaluate(con, "complaints", "complaints_1m", prepared=True), res)
    slow = sorted(out.attrs["seconds"].items(), key=lambda kv: -kv[1])[:5]
    print("  slowest rules:", ", ".join(f"{k} {v:.2f}s" for k, v in slow))
    print("  violations:", out.groupby("rule_id").size().to_dict())
    con.close()
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--stdnum-rows", type=int, default=200_000)
    args = ap.parse_args(argv)
    run(args.rows, args.stdnum_rows)


if __name__ == "__main__":
    main()
