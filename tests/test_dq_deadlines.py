"""Statutory deadlines: working days on the official calendar, Order 20 → 121 switch, SQL == pandas."""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_quality import deadlines as D
from reference.calendar import UncoveredYearWarning, WorkdayCalendar
from tests.helpers import first_uncovered_year

CODES = Path(__file__).parent / "data" / "codes"


@pytest.fixture(scope="module")
def cal():
    return WorkdayCalendar.default()


@pytest.fixture(scope="module")
def deadline_con(cal):
    """In-memory DuckDB with the working-day and deadline tables installed."""
    c = duckdb.connect()
    D.install_deadline_tables(c, cal)
    return c


def _official_workdays() -> set[dt.date]:
    """Independent working-day set for 2023–2026 from the State Council notices (copy in tests/data)."""
    h = pd.read_csv(CODES / "cn_holidays.csv")
    holiday = set(pd.to_datetime(h[h.kind == "holiday"].date).dt.date)
    makeup = set(pd.to_datetime(h[h.kind == "workday"].date).dt.date)
    days = pd.date_range("2023-01-01", "2026-12-31").date
    return {d for d in days if (d.weekday() < 5 and d not in holiday) or d in makeup}


def test_calendar_matches_official_notices(cal):
    work = _official_workdays()
    f = cal.as_frame()
    f = f[(f.day >= "2023-01-01") & (f.day <= "2026-12-31")]
    assert f.is_workday.tolist() == [d in work for d in f.day.dt.date]
    assert len(f) == 1461  # every day of 2023–2026 judged


def _complaint(received, accepted=None, closed=None, rtype="投诉", decision="受理", rid="r"):
    return {"record_id": rid, "record_type": rtype, "accept_decision": decision,
            "received_at": pd.Timestamp(received), "accepted_at": pd.Timestamp(accepted) if accepted else pd.NaT,
            "closed_at": pd.Timestamp(closed) if closed else pd.NaT}


@pytest.mark.parametrize("received,accepted,elapsed,status", [
    # 2023 中秋+国庆: 09-29..10-06 off, Sat 10-07 and Sun 10-08 are make-up working days
    ("2023-09-28 16:00", "2023-10-13 09:00", 7, "on_time"),   # 10-07, 10-08, 10-09 … 10-13
    ("2023-09-28 16:00", "2023-10-16 09:00", 8, "overdue"),
    # 2024 春节: 02-10..02-17 off, Sun 02-04 and Sun 02-18 worked; 02-09 (除夕) is a working day
    ("2024-02-08 10:00", "2024-02-23 10:00", 7, "on_time"),   # 02-09, 02-18, 02-19 … 02-23
    ("2024-02-08 10:00", "2024-02-26 10:00", 8, "overdue"),
    ("2024-02-03 10:00", "2024-02-04 18:00", 1, "on_time"),   # a Sunday that is a working day counts
    # 2025 国庆+中秋: 10-01..10-08 off, Sun 09-28 and Sat 10-11 worked
    ("2025-09-26 09:00", "2025-10-13 09:00", 7, "on_time"),   # 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13
    ("2025-09-26 09:00", "2025-10-14 09:00", 8, "overdue"),
    # decision on the day of receipt: 0 working days
    ("2025-03-03 08:00", "2025-03-03 17:00", 0, "on_time"),
])
def test_acceptance_across_holidays(cal, received, accepted, elapsed, status):
    work = _official_workdays()
    r, a = pd.Timestamp(received).date(), pd.Timestamp(accepted).date()
    independent = sum(1 for d in pd.date_range(r + dt.timedelta(days=1), a).date if d in work)
    out = D.deadline_status(pd.DataFrame([_complaint(received, accepted)]), calendar=cal)
    assert out["acceptance_elapsed"].iloc[0] == independent
    assert independent == elapsed and out["acceptance_status"].iloc[0] == status


def test_mediation_45_working_days_over_spring_festival(cal):
    accepted = dt.date(2026, 1, 20)
    last = cal.add_workdays(accepted, 45)  # the last lawful day
    rows = pd.DataFrame([_complaint("2026-01-19", "2026-01-20", last, rid="a"),
                         _complaint("2026-01-19", "2026-01-20", last + dt.timedelta(days=1), rid="b")])
    out = D.deadline_status(rows, calendar=cal)
    work = _official_workdays()
    assert sum(1 for d in pd.date_range(accepted + dt.timedelta(days=1), last).date if d in work) == 45
    assert out["mediation_status"].tolist()[0] == "on_time"
    # the day after the last lawful day may be a holiday/weekend: then it is still on time
    nxt = last + dt.timedelta(days=1)
    assert out["mediation_status"].tolist()[1] == ("overdue" if nxt in work else "on_time")
    # 春节 2026: 02-15..02-23 off, 02-14 and 02-28 worked; 45 WD from 01-20 lands in March
    assert last.month == 3


def test_order_20_to_121_switch_on_2026_04_15(cal):
    rows = pd.DataFrame([_complaint("2026-04-14 23:59", "2026-04-20"), _complaint("2026-04-15 00:01", "2026-04-20")])
    out = D.deadline_status(rows, calendar=cal)
    assert out["regulation"].tolist() == ["SAMR-20", "SAMR-121"]
    assert out["regulation_verified"].tolist() == [True, False]
    assert out["acceptance_limit"].tolist() == [7, 7]  # Order 121's numbers kept equal until verified
    assert D.regulation_for(["2026-04-14", "2026-04-15", "2019-12-31"]).tolist() == ["SAMR-20", "SAMR-121", None]
    table = D.deadline_table()
    assert not table[table.regulation == "SAMR-121"].verified.any()
    assert table[table.regulation == "SAMR-20"].verified.all()


def test_record_types_and_statuses(cal):
    rows = pd.DataFrame([
        _complaint("2025-03-03", None, None, rid="open"),                       # still open, no as_of
        _complaint("2025-03-03", "2025-03-04", None, rid="med-open"),
        _complaint("2025-03-03", "2025-03-04", "2025-06-30", rid="med-late"),
        _complaint("2025-03-03", "2025-03-04", "2025-06-30", decision="不予受理", rid="not-accepted"),
        _complaint("2025-03-03", "2025-03-31", None, rtype="举报", decision="受理", rid="report-25"),
        _complaint("2025-03-03", None, None, rtype="咨询", decision=None, rid="consult"),
        _complaint("2025-03-05", "2025-03-03", None, rid="backwards"),
        _complaint("2019-06-03", "2019-06-30", None, rid="pre-2020"),
    ])
    out = D.deadline_status(rows, calendar=cal).set_index(rows["record_id"])
    assert out.loc["open", "acceptance_status"] == "open"
    assert out.loc["med-open", "mediation_status"] == "open"
    assert out.loc["med-late", "mediation_status"] == "overdue"
    assert out.loc["not-accepted", "mediation_status"] == "not_applicable"
    assert out.loc["report-25", "report_check_status"] == "overdue"
    assert out.loc["report-25", "report_check_extended_status"] == "on_time"
    assert out.loc["report-25", "acceptance_status"] == "not_applicable"
    assert (out.loc["consult", [c for c in out.columns if c.endswith("_status")]] == "not_applicable").all()
    assert out.loc["backwards", "acceptance_status"] == "unknown"
    assert pd.isna(out.loc["pre-2020", "regulation"])
    # with a cut-off date, open records are judged against it
    late = D.deadline_status(rows, calendar=cal, as_of="2025-06-30").set_index(rows["record_id"])
    assert late.loc["open", "acceptance_status"] == "open_overdue"
    assert late.loc["med-open", "mediation_status"] == "open_overdue"


def _first_weekday(year: int) -> dt.date:
    day = dt.date(year, 1, 1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def test_uncovered_year_warns_and_flags(cal):
    year = first_uncovered_year(cal)  # from the calendar's covered years, not hard-coded
    off = _first_weekday(year)  # Monday–Friday, so declaring it a holiday changes the count
    rows = pd.DataFrame([_complaint(f"{year - 1}-12-28", f"{year}-01-08", rid="x"),
                         _complaint(f"{year - 1}-03-02", f"{year - 1}-03-05", rid="y")])
    with pytest.warns(UncoveredYearWarning, match=str(year)):
        out = D.deadline_status(rows, calendar=cal)
    assert out["calendar_covered"].tolist() == [False, True]
    assert out["acceptance_status"].iloc[0] in ("on_time", "overdue")  # counted Monday–Friday, but flagged
    # the operator's holiday table for that year (CEI_HOLIDAYS format) makes the count exact
    extra = pd.DataFrame({"date": [off], "kind": ["holiday"], "name": ["元旦"]})
    cal_more = WorkdayCalendar(extra_holidays=extra)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncoveredYearWarning)
        out_more = D.deadline_status(rows, calendar=cal_more)
    assert out_more["calendar_covered"].tolist() == [True, True]
    assert out_more["acceptance_elapsed"].iloc[0] == out["acceptance_elapsed"].iloc[0] - 1  # the holiday is off


def test_cei_holidays_env(tmp_path, monkeypatch, cal):
    year = first_uncovered_year(cal)
    off = _first_weekday(year)
    f = tmp_path / f"h{year}.csv"
    f.write_text(f"date,kind,name\n{off.isoformat()},holiday,元旦\n", encoding="utf-8")
    monkeypatch.setenv("CEI_HOLIDAYS", str(f))
    with_env = WorkdayCalendar.default()
    assert year in with_env.covered_years and not with_env.is_workday(off)
    assert year not in cal.covered_years


def test_dates_outside_calendar_do_not_crash(cal):
    rows = pd.DataFrame([_complaint("2036-03-02", "2036-03-20", rid="future"),
                         _complaint("2025-03-03", "2040-01-01", rid="far")])
    out = D.deadline_status(rows, calendar=cal)
    assert out["acceptance_status"].tolist() == ["not_applicable", "unknown"]


def test_sampling_deadlines_calendar_days(cal):
    df = pd.DataFrame({
        "sample_id": ["a", "b", "c", "d"], "result": ["不合格", "不合格", "合格", "不合格"],
        "notified_on": pd.to_datetime(["2025-01-10", "2025-01-10", "2025-01-10", None]),
        "correction_due_on": pd.to_datetime(["2025-03-11", "2025-03-12", None, None]),
        "corrected_on": pd.to_datetime(["2025-03-11", "2025-03-12", None, None]),
        "reinspected_on": pd.to_datetime(["2025-03-26", "2025-03-27", None, None]),
    })
    out = D.deadline_status(df, table="sampling_results", calendar=cal)
    assert out["correction_elapsed"].tolist()[:2] == [60, 61]
    assert out["correction_status"].tolist() == ["on_time", "overdue", "not_applicable", "not_applicable"]
    assert out["correction_due_status"].tolist()[:2] == ["on_time", "overdue"]
    assert out["reinspection_elapsed"].tolist()[:2] == [75, 76]
    assert out["reinspection_status"].tolist()[:2] == ["on_time", "overdue"]


def _random_complaints(n: int, seed: int, first_year: int = 2023) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rec = pd.Timestamp(f"{first_year}-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365 + 30, n), "D") \
        + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    acc = rec + pd.to_timedelta(rng.integers(-2, 16, n), "D")
    clo = acc + pd.to_timedelta(rng.integers(-3, 90, n), "D")
    df = pd.DataFrame({"record_id": [f"R{i}" for i in range(n)],
                       "record_type": rng.choice(["投诉", "举报", "咨询"], n, p=[.7, .2, .1]),
                       "accept_decision": rng.choice(["受理", "不予受理", None], n, p=[.7, .2, .1]),
                       "received_at": rec, "accepted_at": acc, "closed_at": clo})
    df.loc[rng.random(n) < 0.1, "closed_at"] = pd.NaT
    df.loc[rng.random(n) < 0.03, "accepted_at"] = pd.NaT
    df.loc[rng.random(n) < 0.01, "received_at"] = pd.NaT
    return df


@pytest.mark.parametrize("as_of", [None, "2026-06-30"])
def test_sql_equals_pandas(cal, deadline_con, as_of):
    # four covered years and the first uncovered one (weekends only, flagged not covered)
    df = _random_complaints(20000, 42, first_year=first_uncovered_year(cal) - 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncoveredYearWarning)  # the sample reaches into the uncovered year on purpose
        py = D.deadline_status(df, calendar=cal, as_of=as_of)
    deadline_con.register("c", df)
    sql = deadline_con.execute("select record_id, limit_id, status, elapsed, calendar_covered, regulation "
                      "from complaint_deadlines('c', $1::DATE)", [as_of]).df()
    for limit in D.limits_for("complaints"):
        p = pd.DataFrame({"record_id": df["record_id"], "status": py[f"{limit}_status"].astype(str),
                          "elapsed": py[f"{limit}_elapsed"], "covered": py[f"{limit}_covered"],
                          "regulation": py["regulation"].astype(str)})
        p = p[p.status != "not_applicable"].set_index("record_id").sort_index()
        s = sql[sql.limit_id == limit].set_index("record_id").sort_index()
        assert p.index.tolist() == s.index.tolist(), limit
        assert (p.status == s.status).all(), limit
        assert np.allclose(p.elapsed.to_numpy(float), s.elapsed.to_numpy(float), equal_nan=True), limit
        assert (p.covered == s.calendar_covered).all(), limit
        assert (p.regulation == s.regulation).all(), limit
    assert (~py["calendar_covered"]).any() and py["calendar_covered"].any()  # both parts were seen


def test_sampling_sql_equals_pandas(cal, deadline_con):
    rng = np.random.default_rng(5)
    n = 5000
    notified = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 1200, n), "D")
    df = pd.DataFrame({"sample_id": [f"S{i}" for i in range(n)], "result": rng.choice(["合格", "不合格"], n),
                       "notified_on": notified,
                       "correction_due_on": notified + pd.to_timedelta(rng.integers(30, 70, n), "D"),
                       "corrected_on": notified + pd.to_timedelta(rng.integers(-5, 80, n), "D"),
                       "reinspected_on": notified + pd.to_timedelta(rng.integers(10, 100, n), "D")})
    df.loc[rng.random(n) < 0.2, "reinspected_on"] = pd.NaT
    py = D.deadline_status(df, table="sampling_results", calendar=cal, as_of="2026-06-30")
    deadline_con.register("s", df)
    sql = deadline_con.execute("select sample_id, limit_id, status, elapsed from sampling_deadlines('s', DATE '2026-06-30')").df()
    for limit in D.limits_for("sampling_results"):
        p = pd.DataFrame({"sample_id": df.sample_id, "status": py[f"{limit}_status"].astype(str),
                          "elapsed": py[f"{limit}_elapsed"]})
        p = p[p.status != "not_applicable"].set_index("sample_id").sort_index()
        s = sql[sql.limit_id == limit].set_index("sample_id").sort_index()
        assert p.index.tolist() == s.index.tolist()
        assert (p.status == s.status).all()
        assert np.allclose(p.elapsed.to_numpy(float), s.elapsed.to_numpy(float), equal_nan=True)


def test_calendar_lookups_equal_the_table_and_need_no_join(deadline_con):
    """Issue 12: the deadline macros look days up in constant lists (dq_cal_*), never join the
    calendar — a join on a computed day is misestimated by DuckDB, which at 10M complaints built
    hash tables of every row and ran out of memory. The lookups give what the table holds, and
    NULL for NULL or a day outside it (as the LEFT JOIN did)."""
    c = deadline_con
    bad = c.execute("""
        WITH d AS (SELECT day FROM dq_workday_calendar
                   UNION ALL SELECT * FROM (VALUES (DATE '2003-12-31'), (DATE '2036-01-01'), (NULL::DATE)))
        SELECT count(*) FROM d LEFT JOIN dq_workday_calendar k USING (day)
        WHERE dq_cal_workday_ordinal(d.day) IS DISTINCT FROM k.workday_ordinal
           OR dq_cal_covered(d.day) IS DISTINCT FROM k.covered
           OR dq_cal_uncovered_cum(d.day) IS DISTINCT FROM k.uncovered_cum
           OR dq_cal_complaints_regulation(d.day) IS DISTINCT FROM k.complaints_regulation
           OR dq_cal_sampling_results_regulation(d.day) IS DISTINCT FROM k.sampling_results_regulation""").fetchone()[0]
    assert bad == 0
    assert c.execute("SELECT count(*) FROM dq_workday_calendar").fetchone()[0] > 11000
    c.execute("CREATE OR REPLACE TEMP TABLE plan_c (record_id VARCHAR, record_type VARCHAR, received_at TIMESTAMP, "
              "accepted_at TIMESTAMP, closed_at TIMESTAMP, accept_decision VARCHAR)")
    c.execute("CREATE OR REPLACE TEMP TABLE plan_s (sample_id VARCHAR, result VARCHAR, notified_on DATE, "
              "correction_due_on DATE, corrected_on DATE, reinspected_on DATE)")
    for sql in ("SELECT * FROM complaint_deadlines('plan_c', NULL)", "SELECT * FROM sampling_deadlines('plan_s', NULL)"):
        plan = "\n".join(r[1] for r in c.execute("EXPLAIN " + sql).fetchall())
        assert "dq_workday_calendar" not in plan, sql
