"""The respondent surge test in SQL (sql/reports/complaints_respondent_surges.sql, issue 12) against the
pandas version (reports.surges.detect_surges) on constructed complaint records."""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from reports.queries import run
from reports.surges import (DEFAULT_METHOD, UDF_NAME, SurgeMethod, binom_sf_udf, detect_surges, months_with_history,
                            surges_from_sql)

MONTHS = list(pd.date_range("2024-01-01", periods=24, freq="MS").date)
PERIOD = MONTHS[12:]  # 2025


def _records(seed: int, n_resp: int = 300) -> pd.DataFrame:
    """Complaint records: Poisson traffic per respondent (some by USCC, some by name only, some small),
    planted surges, consultations (not counted), another province (not in scope), ties of p-values."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_resp):
        lam = [0.3, 2, 6, 12][r % 4]
        uscc = f"91320402MA{r:07d}X" if r % 3 else ""
        name = f"某某公司{r}" if r % 7 else f" 某某公司{r} "
        for i, m in enumerate(MONTHS):
            n = int(rng.poisson(lam))
            if r % 50 == 7 and i == 18:
                n += 40
            if r % 60 == 11 and i >= 20:  # a new respondent out of nothing (empty baseline)
                n = 14 if i == 20 else n
            for j in range(n):
                rows.append((uscc, name, dt.datetime(m.year, m.month, 1 + j % 27, 10), "320402",
                             "投诉" if j % 3 else "举报"))
    # identical series: tied p-values
    for r in ("tie-a", "tie-b", "tie-c"):
        for j in range(12):
            rows.append(("", r, dt.datetime(2025, 9, 2, 9), "320404", "投诉"))
    rows += [("", "咨询公司", dt.datetime(2025, 9, 3), "320402", "咨询")] * 30
    rows += [("", "外省公司", dt.datetime(2025, 9, 3), "110101", "投诉")] * 30
    rows += [("", "", dt.datetime(2025, 9, 3), "320402", "投诉")] * 30  # no respondent named
    return pd.DataFrame(rows, columns=["respondent_uscc", "respondent_name", "received_at", "handling_region_code",
                                       "record_type"])


def _warehouse(records: pd.DataFrame):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA clean")
    con.register("records", records)
    con.execute("CREATE TABLE clean.complaints AS SELECT * FROM records")
    con.unregister("records")
    return con


def _expected(records: pd.DataFrame, period: list, first: dt.date, method: SurgeMethod) -> pd.DataFrame:
    """The pandas version as the report ran it before: candidates' monthly counts + every respondent of a
    testable month as extra cells."""
    r = records[records.handling_region_code.str.startswith("32") & records.record_type.isin(["投诉", "举报"])].copy()
    uscc = r.respondent_uscc.str.strip().replace("", None)
    r["respondent_key"] = uscc.where(uscc.notna(), "name:" + r.respondent_name.str.strip())
    r = r[uscc.notna() | (r.respondent_name.str.strip() != "")]
    r["month"] = [dt.date(t.year, t.month, 1) for t in r.received_at]
    monthly = r.groupby(["respondent_key", "month"], as_index=False).size().rename(columns={"size": "n"})
    window = monthly[(monthly.month >= period[0]) & (monthly.month <= period[-1])]
    cands = set(window.loc[window.n >= method.min_count, "respondent_key"])
    testable = set(months_with_history(period, first, method))
    extra = int(monthly.month.isin(testable).sum())
    res = detect_surges(monthly[monthly.respondent_key.isin(cands)], ["respondent_key"], period, observed_from=first,
                        method=method, extra_cells=extra)
    return res


def _sql(con, period: list, first: dt.date, method: SurgeMethod) -> pd.DataFrame:
    start = dt.datetime.combine(MONTHS[0], dt.time()) if period[0] == PERIOD[0] else dt.datetime(
        period[0].year - 1, period[0].month, 1)
    end = pd.Timestamp(period[-1]) + pd.DateOffset(months=1)
    with binom_sf_udf(con):
        rs = run(con, "complaints_respondent_surges", prefix="32", start=start,
                 test_start=dt.datetime.combine(period[0], dt.time()), end=end.to_pydatetime(), first=first,
                 testable=months_with_history(period, first, method), baseline_months=method.baseline_months,
                 min_count=method.min_count, min_ratio=method.min_ratio, fdr_q=method.fdr_q)
    return surges_from_sql(rs, ["respondent_key"], method)


@pytest.mark.parametrize("seed, first, period, method", [
    (1, MONTHS[0], PERIOD, DEFAULT_METHOD),
    (2, MONTHS[12], PERIOD, DEFAULT_METHOD),  # data begin in 2025: partial baselines, untested months
    (3, MONTHS[0], PERIOD[8:], SurgeMethod(fdr_q=0.2, min_ratio=1.5)),  # many surges, BH's order matters
    (4, MONTHS[3], PERIOD[5:8], SurgeMethod(min_count=5, baseline_months=6, min_baseline_months=3, fdr_q=0.05)),
])
def test_sql_surges_equal_the_pandas_test(seed, first, period, method):
    records = _records(seed)
    records = records[records.received_at >= pd.Timestamp(first)]
    con = _warehouse(records)
    got = _sql(con, period, first, method)
    want = _expected(records, period, first, method)
    want = want[want.surge].reset_index(drop=True)
    assert got.attrs["tested"] == want.attrs["tested"] and got.attrs["untested_history"] == want.attrs["untested_history"]
    assert len(want) > 0
    assert list(zip(got.respondent_key, got.month)) == list(zip(want.respondent_key, want.month))
    for c in ("count", "baseline_months", "baseline_sum"):
        assert got[c].tolist() == want[c].tolist(), c
    for c in ("expected", "ratio", "p_value", "q_value"):
        assert np.allclose(got[c].astype(float), want[c].astype(float), rtol=1e-9, atol=0), c
    assert got.surge.all()
    # the display name and USCC: those of the respondent's latest month
    for row in got.itertuples():
        if row.respondent_key.startswith("name:"):
            assert row.respondent_uscc is None and row.respondent_name.strip() == row.respondent_key[5:]
        else:
            assert row.respondent_uscc == row.respondent_key and row.respondent_name.strip().startswith("某某公司")
    con.close()


def test_tied_p_values_get_one_q_value():
    con = _warehouse(_records(5, n_resp=0))
    got = _sql(con, PERIOD, MONTHS[0], SurgeMethod(fdr_q=0.5))
    ties = got[got.respondent_key.str.startswith("name:tie-")]
    assert len(ties) == 3 and ties.q_value.nunique() == 1 and ties.p_value.nunique() == 1
    assert ties.q_value.iloc[0] == pytest.approx(min(1.0, ties.p_value.iloc[0] * got.attrs["tested"] / 3))


def test_nothing_surges_keeps_the_family_counts():
    """No respondent reaches the minimum count: no row, but the family (every respondent × tested month with
    a record) is still counted, as detect_surges counts its extra cells."""
    records = _records(6)
    con = _warehouse(records)
    method = SurgeMethod(min_count=10_000)
    got = _sql(con, PERIOD, MONTHS[0], method)
    assert got.empty and "surge" in got.columns
    want = _expected(records, PERIOD, MONTHS[0], method)
    assert got.attrs["tested"] == want.attrs["tested"] > 0
    assert got.attrs["untested_history"] == 0


def test_history_and_udf_lifetime():
    con = _warehouse(_records(1))
    with binom_sf_udf(con):
        assert con.execute(f"SELECT {UDF_NAME}(12, 12, 1.0 / 13)").fetchall()[0][0] == pytest.approx((1 / 13) ** 12)
    with pytest.raises(duckdb.Error):
        con.execute(f"SELECT {UDF_NAME}(1, 2, 0.5)")
    start = dt.datetime(2024, 1, 1)
    with binom_sf_udf(con):
        rs = run(con, "complaints_respondent_surges", prefix="32", start=start, test_start=dt.datetime(2025, 1, 1),
                 end=dt.datetime(2026, 1, 1), first=MONTHS[0], testable=PERIOD, baseline_months=12, min_count=10,
                 min_ratio=2.0, fdr_q=0.01)
    row = rs.dropna(subset=["respondent_key"]).iloc[0]
    months = [h["month"] for h in row.history]
    assert months == sorted(months) and months[0] >= MONTHS[0]
    assert sum(h["n"] for h in row.history if pd.Timestamp(h["month"]) == pd.Timestamp(row.month)) == row["count"]
