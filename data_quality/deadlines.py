"""Statutory deadlines (法定时限) of 12315 handling and sampling disposal, versioned by date.

ONE table (:data:`DEADLINES`) holds every limit the gate checks, with the regulation, the
article, the period it applies to, the unit (working days on the Chinese calendar, or calendar
days) and whether the number was verified against the legal text:

============  ==========================  ===============================================  =====
regulation    applies to                  limit                                            days
============  ==========================  ===============================================  =====
SAMR-20       received 2020-01-01 …       acceptance decision (投诉) Art. 14               7 WD
              2026-04-14                  mediation from acceptance (投诉, 受理) Art. 21    45 WD
                                          report verification (举报) 15 WD, +15 approved   15/30 WD
SAMR-121      received from 2026-04-15    the same numbers, ``verified=False``: Order 121's
                                          deadlines could not be read (domain.md §0.1)
SAMR-18       notified from 2020-01-01    correction period in the order, Art. 46          60 days
                                          correction (责令改正) done, Art. 46               60 days
                                          re-inspection (复查) Art. 47                     75 days
============  ==========================  ===============================================  =====

Dates each limit reads: acceptance ``received_at → accepted_at``; mediation ``accepted_at →
closed_at``; report verification ``received_at → accepted_at`` (for a 举报 the contract records the
核查 outcome — 立案 / 不予立案 — as its acceptance decision); Order 18 ``notified_on →
correction_due_on / corrected_on / reinspected_on``. Mediation counts the testing/appraisal days
that Art. 20 excludes, because the contract does not deliver them.

Order No. 20 = 《市场监督管理投诉举报处理暂行办法》(2019年国家市场监督管理总局令第20号, 2022年修订),
in force 2020-01-01 until Order No. 121 《市场监督管理投诉举报处理办法》(总局令第121号) replaced it on
2026-04-15. Which one applies is decided by ``received_at`` (the rule in force when the record was
received governs its handling). Records received before 2020-01-01 (SAIC Order No. 62 era, mediation
60 calendar days) get no regulation and status ``not_applicable`` — not modelled, never guessed.
Order No. 18 = 《产品质量监督抽查管理暂行办法》(总局令第18号); its periods start from the result
notice / correction order (``notified_on``; the order date is not a column of the contract).

Counting: "N working days from X" = working days *after* the day of X up to and including the
day of the act (期间开始之日不计算在内), i.e. ``WorkdayCalendar.workdays_between(X, act) <= N``.
Calendar-day limits count the same way on plain dates.

Two implementations, one table:

* :func:`deadline_status` — pandas/numpy over ``WorkdayCalendar.workday_ordinal`` (vectorised);
* ``sql/dq/deadlines.sql`` — the same logic in DuckDB, looking days up in the calendar's
  ``as_frame()`` through constant-list macros (:func:`calendar_macros_sql`; also kept as the TEMP
  table ``dq_workday_calendar``) and joining ``dq_deadline_limits`` (this module's table), installed
  by :func:`install_deadline_tables`. No join with the calendar: at 10M complaints DuckDB misjudged
  such joins and built hash tables of every row, out of its 1.2 GB (issue 12).

Measured on 1M complaint rows (2 vCPU, ``python -m data_quality.benchmark``): SQL to the
overdue keys 0.8–1.0 s; pandas 1.0–1.3 s plus 0.55–0.65 s to pull the six columns out of DuckDB
(and a second copy of the data in memory). Converting SQL's full long output to pandas costs
1.4–4 s — the rules never do that. **The
pipeline should use the SQL form** (nothing leaves DuckDB, the rules select only violations);
the pandas form is for notebooks and small batches. The tests pin that both agree row for row.

Years without holiday data (the State Council publishes each year's calendar in autumn): counts
fall back to Monday–Friday, the calendar emits ``UncoveredYearWarning``, and every row whose span
touches such a year gets ``calendar_covered = False`` — the gate turns that into a *warning* and
never quarantines on an uncertain count. Supply the year's table via ``CEI_HOLIDAYS`` (CSV
``date,kind[,name]``) and the flag turns True. Dates outside the calendar's range (2004–2035) give
``unknown``, never an exception.
"""
from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reference.calendar import EPOCH, LAST_DAY, UncoveredYearWarning, WorkdayCalendar

ORDER_121_EFFECTIVE = dt.date(2026, 4, 15)

STATUSES = ("not_applicable", "on_time", "overdue", "open", "open_overdue", "unknown")


@dataclass(frozen=True)
class Deadline:
    regulation: str  # SAMR-20 | SAMR-121 | SAMR-18
    title_zh: str
    effective_from: dt.date
    effective_to: dt.date | None  # last day in force (inclusive); None = still in force
    limit_id: str  # acceptance | mediation | report_check | report_check_extended | correction_due | correction | reinspection
    days: int
    unit: str  # working_days | calendar_days
    table: str  # complaints | sampling_results
    version_column: str  # the date that selects the regulation version
    start_column: str
    end_column: str
    record_types: tuple[str, ...] | None  # complaints: which record_type; None = all rows
    condition: str  # human-readable extra condition (also implemented in code and SQL)
    basis: str  # article, Chinese official citation
    verified: bool
    note: str = ""


_O20 = "《市场监督管理投诉举报处理暂行办法》(国家市场监督管理总局令第20号，2022年修订)"
_O121 = "《市场监督管理投诉举报处理办法》(国家市场监督管理总局令第121号)"
_O18 = "《产品质量监督抽查管理暂行办法》(国家市场监督管理总局令第18号)"
_PEN = "《市场监督管理行政处罚程序规定》"
_UNVERIFIED_121 = ("Order 121's deadline numbers could not be read (docs/domain.md §0.1); Order 20's value kept "
                   "until someone checks the SAMR text — change `days` and set verified=True then")


def _o20_and_121(limit_id, days, start, end, types, condition, art20, art121, note=""):
    common = dict(limit_id=limit_id, days=days, unit="working_days", table="complaints", version_column="received_at",
                  start_column=start, end_column=end, record_types=types, condition=condition)
    return [
        Deadline("SAMR-20", _O20, dt.date(2020, 1, 1), ORDER_121_EFFECTIVE - dt.timedelta(days=1),
                 basis=art20, verified=True, note=note, **common),
        Deadline("SAMR-121", _O121, ORDER_121_EFFECTIVE, None, basis=art121, verified=False,
                 note=_UNVERIFIED_121 + (f"; {note}" if note else ""), **common),
    ]


DEADLINES: tuple[Deadline, ...] = tuple(
    _o20_and_121("acceptance", 7, "received_at", "accepted_at", ("投诉",), "",
                 f"{_O20} 第十四条", f"{_O121} (条款未核实)")
    + _o20_and_121("mediation", 45, "accepted_at", "closed_at", ("投诉",), "accept_decision = '受理'",
                   f"{_O20} 第二十一条", f"{_O121} 第二十三条 (时限未核实)",
                   note="testing/appraisal time is excluded (Art. 20) but not delivered; the count includes it")
    + _o20_and_121("report_check", 15, "received_at", "accepted_at", ("举报",), "",
                   f"{_PEN} (核查15个工作日); {_O20} 第三十一条", f"{_PEN}; {_O121} (条款未核实)",
                   note="the 15-day extension needs approval, which is not delivered: over 15 is a warning")
    + _o20_and_121("report_check_extended", 30, "received_at", "accepted_at", ("举报",), "",
                   f"{_PEN} (15个工作日，经批准延长15个工作日)", f"{_PEN} (条款未核实)")
    + [
        Deadline("SAMR-18", _O18, dt.date(2020, 1, 1), None, "correction_due", 60, "calendar_days", "sampling_results",
                 "notified_on", "notified_on", "correction_due_on", None, "result = '不合格'",
                 f"{_O18} 第四十六条", True, note="the correction period set in the order may not exceed 60 days"),
        Deadline("SAMR-18", _O18, dt.date(2020, 1, 1), None, "correction", 60, "calendar_days", "sampling_results",
                 "notified_on", "notified_on", "corrected_on", None, "result = '不合格'",
                 f"{_O18} 第四十六条", True, note="period counted from the result notice (the order date is not delivered)"),
        Deadline("SAMR-18", _O18, dt.date(2020, 1, 1), None, "reinspection", 75, "calendar_days", "sampling_results",
                 "notified_on", "notified_on", "reinspected_on", None, "result = '不合格'",
                 f"{_O18} 第四十七条", True),
    ]
)


def deadline_table() -> pd.DataFrame:
    """The version table as a frame (also loaded into DuckDB as ``dq_deadline_limits``)."""
    rows = []
    for d in DEADLINES:
        r = d.__dict__.copy()
        r["record_types"] = ",".join(d.record_types) if d.record_types else None
        rows.append(r)
    df = pd.DataFrame(rows)
    df["effective_from"] = pd.to_datetime(df["effective_from"])
    df["effective_to"] = pd.to_datetime(df["effective_to"])
    return df


def regulation_for(dates, table: str = "complaints") -> pd.Series:
    """The regulation in force at each date for ``table`` (None where no version covers it)."""
    d = pd.to_datetime(pd.Series(dates)).dt.normalize()
    out = pd.Series([None] * len(d), index=d.index, dtype=object)
    for reg, start, end in {(x.regulation, x.effective_from, x.effective_to) for x in DEADLINES if x.table == table}:
        m = (d >= pd.Timestamp(start)) & (True if end is None else d <= pd.Timestamp(end))
        out[m.fillna(False).to_numpy(dtype=bool)] = reg
    return out


def limits_for(table: str) -> list[str]:
    seen: list[str] = []
    for d in DEADLINES:
        if d.table == table and d.limit_id not in seen:
            seen.append(d.limit_id)
    return seen


# ---------------------------------------------------------------------------------------------
_ST = {name: np.int8(i) for i, name in enumerate(STATUSES)}


def _day_index(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index into the calendar arrays, inside 2004–2035?, year as float with NaN) for a column."""
    d = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    idx = (d - np.datetime64(EPOCH, "D")).astype("int64")
    last = (np.datetime64(LAST_DAY, "D") - np.datetime64(EPOCH, "D")).astype("int64")
    nat = np.isnat(d)
    ok = ~nat & (idx >= 0) & (idx <= last)
    year = np.where(nat, np.nan, d.astype("datetime64[Y]").astype("int64") + 1970.0)
    return np.where(ok, idx, 0), ok, year


def deadline_status(df: pd.DataFrame, *, table: str = "complaints", calendar: WorkdayCalendar | None = None,
                    as_of: dt.date | str | None = None) -> pd.DataFrame:
    """Per row: the regulation in force and, for each limit, elapsed days, the limit and a status.

    Columns: ``regulation``, ``regulation_verified``, ``calendar_covered`` and for every limit L of
    the table ``L_elapsed`` (float, NaN when not counted), ``L_limit`` (Int64), ``L_status`` (one of
    :data:`STATUSES`) and ``L_covered``. Statuses: ``not_applicable`` (other record type, sample
    passed, or no regulation in force at the date), ``on_time``, ``overdue``, ``open`` (no end date;
    within the limit at ``as_of``, or ``as_of`` not given), ``open_overdue`` (no end date and past
    the limit at ``as_of``), ``unknown`` (start date missing, end before start — the chronology
    rule reports that —, or a date outside the calendar's range 2004–2035).

    ``L_covered`` / ``calendar_covered`` are False when a working-day count touches a year without
    holiday data (then counted Monday–Friday; one ``UncoveredYearWarning`` names the years).
    Everything is array arithmetic on the calendar's ``workday_ordinal``: ~1 s per million rows.
    """
    cal = calendar or WorkdayCalendar.default()
    specs = [d for d in DEADLINES if d.table == table]
    if not specs:
        raise ValueError(f"no statutory deadlines for table {table!r}")
    n = len(df)
    out = pd.DataFrame(index=df.index)
    regs = sorted({d.regulation for d in specs})
    reg_series = regulation_for(df[specs[0].version_column], table)
    reg_code = pd.Categorical(reg_series, categories=regs).codes.copy()  # -1 = no regulation in force
    reg_code[~_day_index(df[specs[0].version_column])[1]] = -1  # dated outside 2004–2035: not judged
    out["regulation"] = pd.Categorical.from_codes(reg_code, categories=regs)
    reg_ok = np.array([all(d.verified for d in specs if d.regulation == r) for r in regs])
    out["regulation_verified"] = pd.array(np.where(reg_code >= 0, reg_ok[np.maximum(reg_code, 0)], False),
                                          dtype="boolean")
    out.loc[reg_code < 0, "regulation_verified"] = pd.NA
    as_of_ts = pd.Timestamp(as_of).normalize() if as_of is not None else None
    days_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def days(col: str):
        if col not in days_cache:
            days_cache[col] = _day_index(df[col])
        return days_cache[col]

    if as_of_ts is not None:
        as_of_idx, as_of_ok, as_of_year = (x[0] for x in _day_index([as_of_ts]))
    covered = np.ones(n, dtype=bool)
    uncovered_years: set[int] = set()
    type_mask: dict = {}

    for limit_id in limits_for(table):
        elapsed = np.full(n, np.nan)
        limit = np.full(n, -1, dtype=np.int64)
        status = np.full(n, _ST["not_applicable"], dtype=np.int8)
        lim_covered = np.ones(n, dtype=bool)
        for spec in (d for d in specs if d.limit_id == limit_id):
            m = reg_code == regs.index(spec.regulation)
            if spec.record_types is not None:
                if spec.record_types not in type_mask:
                    type_mask[spec.record_types] = df["record_type"].isin(spec.record_types).to_numpy()
                m &= type_mask[spec.record_types]
            if spec.limit_id == "mediation":
                m &= (df["accept_decision"] == "受理").fillna(False).to_numpy(dtype=bool)
            if spec.table == "sampling_results":
                m &= (df["result"] == "不合格").fillna(False).to_numpy(dtype=bool)
            if not m.any():
                continue
            si, s_ok, ys = days(spec.start_column)
            ei, e_ok, ye = days(spec.end_column)
            has_end = ~np.isnan(ye) | e_ok  # a date outside the range is still a delivered end date
            if as_of_ts is not None:
                ei = np.where(has_end, ei, as_of_idx)
                e_ok = np.where(has_end, e_ok, as_of_ok)
                ye = np.where(has_end, ye, as_of_year)
            if spec.unit == "working_days":
                e = (cal.ordinal[ei] - cal.ordinal[si]).astype(float)
            else:
                e = (ei - si).astype(float)
            within = e <= spec.days
            back = ei < si  # end day before start day (by days: ordinals can tie across a weekend)
            st = np.select(
                [~s_ok, ~has_end & (as_of_ts is None), ~e_ok, back, ~has_end & within, ~has_end, within],
                # no start: nothing to count | no end yet and no as_of | a date outside 2004–2035 |
                # end before start: the chronology rule reports it, a deadline cannot be judged
                [_ST["unknown"], _ST["open"], _ST["unknown"], _ST["unknown"], _ST["open"], _ST["open_overdue"],
                 _ST["on_time"]],
                default=_ST["overdue"],
            )
            status[m] = st[m]
            limit[m] = spec.days
            counted = m & s_ok & e_ok & ~back
            elapsed[counted] = e[counted]
            if spec.unit == "working_days" and counted.any():
                lo, hi = int(np.nanmin(ys[counted])), int(np.nanmax(ye[counted]))
                missing = [y for y in range(lo, hi + 1) if y not in cal.covered_years]
                if missing:
                    uncovered_years.update(missing)
                    bad = np.zeros(n, dtype=bool)
                    for y in missing:  # the span from the start's year to the end's year contains y
                        bad |= (ys <= y) & (y <= ye)
                    lim_covered[counted & bad] = False
        out[f"{limit_id}_elapsed"] = elapsed
        out[f"{limit_id}_limit"] = pd.array(np.where(limit >= 0, limit, 0), dtype="Int64")
        out.loc[limit < 0, f"{limit_id}_limit"] = pd.NA
        out[f"{limit_id}_status"] = pd.Categorical.from_codes(status, categories=STATUSES)
        out[f"{limit_id}_covered"] = lim_covered
        covered &= lim_covered
    out["calendar_covered"] = covered
    if uncovered_years:
        warnings.warn(
            f"no holiday data for {sorted(uncovered_years)}: working days of {int((~covered).sum())} row(s) counted "
            "as Monday–Friday and marked calendar_covered=False. Give the State Council's calendar for those "
            "years in a CSV (date,kind[,name]) via CEI_HOLIDAYS.",
            UncoveredYearWarning,
            stacklevel=2,
        )
    return out


# ---------------------------------------------------------------------------------------------
def calendar_frame(calendar: WorkdayCalendar | None = None) -> pd.DataFrame:
    """day, is_workday, workday_ordinal, covered (the year has holiday data), uncovered_cum."""
    cal = calendar or WorkdayCalendar.default()
    f = cal.as_frame()
    f["covered"] = f["day"].dt.year.isin(sorted(cal.covered_years))
    f["uncovered_cum"] = np.cumsum(~f["covered"].to_numpy())
    # the regulation in force on each day, per table: lets SQL pick the version with an equi-join
    # on the day instead of a range join (the range join was 2/3 of the SQL time at 1M rows)
    for table in sorted({d.table for d in DEADLINES}):
        f[f"{table}_regulation"] = regulation_for(f["day"], table).to_numpy()
    f["day"] = f["day"].dt.date
    return f


def install_deadline_tables(con, calendar: WorkdayCalendar | None = None) -> None:
    """TEMP tables ``dq_workday_calendar`` and ``dq_deadline_limits`` + the macros of sql/dq/deadlines.sql."""
    from data_quality.sql_macros import SQL_DIR

    cal_df = calendar_frame(calendar)
    lim = deadline_table()
    con.register("_dq_cal_df", cal_df)
    con.register("_dq_lim_df", lim)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE dq_workday_calendar AS SELECT CAST(day AS DATE) AS day, "
                    "is_workday, CAST(workday_ordinal AS INTEGER) AS workday_ordinal, covered, "
                    "CAST(uncovered_cum AS INTEGER) AS uncovered_cum, complaints_regulation::VARCHAR AS complaints_regulation, "
                    "sampling_results_regulation::VARCHAR AS sampling_results_regulation FROM _dq_cal_df")
        con.execute("CREATE OR REPLACE TEMP TABLE dq_deadline_limits AS SELECT regulation, title_zh, "
                    "CAST(effective_from AS DATE) AS effective_from, CAST(effective_to AS DATE) AS effective_to, "
                    "limit_id, CAST(days AS INTEGER) AS days, unit, \"table\" AS table_name, version_column, "
                    "start_column, end_column, record_types, condition, basis, verified, note FROM _dq_lim_df")
    finally:
        con.unregister("_dq_cal_df")
        con.unregister("_dq_lim_df")
    con.execute(calendar_macros_sql(cal_df))
    con.execute((SQL_DIR / "dq" / "deadlines.sql").read_text(encoding="utf-8"))


def calendar_macros_sql(cal_df: pd.DataFrame) -> str:
    """TEMP scalar macros that look a day up in the calendar (``calendar_frame``) without a join.

    ``dq_cal_workday_ordinal(d)``, ``dq_cal_covered(d)``, ``dq_cal_uncovered_cum(d)``,
    ``dq_cal_complaints_regulation(d)``, ``dq_cal_sampling_results_regulation(d)`` — ``d`` a DATE;
    NULL for NULL or a day outside the calendar's range (as a LEFT JOIN on ``dq_workday_calendar``
    gives). Each is a constant list indexed by the day's offset from the first day, so the deadline
    macros need no join with the calendar. Why not joins (issue 12): DuckDB cannot estimate a join on
    a computed day (``CAST(received_at AS DATE)``); at 10M complaints it put the whole relation on
    the build side of the calendar joins (two hash tables of every row at once) and ran out of its
    1.2 GB. A list lookup keeps the relation a stream whatever its size."""
    days = pd.to_datetime(pd.Series(cal_df["day"]))
    first, n = days.iloc[0].date(), len(days)
    if not (days.diff().iloc[1:] == pd.Timedelta(days=1)).all():
        raise ValueError("the calendar frame must hold every day once, in order")

    def const(values, sql_type: str) -> str:  # one constant: cheap to bind, folded once per query
        text = "[" + ",".join(values) + "]"
        return f"CAST('{text}' AS {sql_type}[])"

    def as_int(col):
        return const([str(int(v)) for v in cal_df[col]], "INTEGER")

    def as_bool(col):
        return const(["true" if bool(v) else "false" for v in cal_df[col]], "BOOLEAN")

    index = (f"CASE WHEN d >= DATE '{first}' AND d < DATE '{first}' + INTERVAL {n} DAY "
             f"THEN CAST(date_diff('day', DATE '{first}', d) AS INTEGER) + 1 END")
    macros = [f"CREATE OR REPLACE TEMP MACRO dq_cal_index(d) AS {index};",
              f"CREATE OR REPLACE TEMP MACRO dq_cal_workday_ordinal(d) AS {as_int('workday_ordinal')}[dq_cal_index(d)];",
              f"CREATE OR REPLACE TEMP MACRO dq_cal_covered(d) AS {as_bool('covered')}[dq_cal_index(d)];",
              f"CREATE OR REPLACE TEMP MACRO dq_cal_uncovered_cum(d) AS {as_int('uncovered_cum')}[dq_cal_index(d)];"]
    for col in [c for c in cal_df.columns if c.endswith("_regulation")]:
        names = sorted({v for v in cal_df[col] if isinstance(v, str)})
        codes = const(["null" if not isinstance(v, str) else str(names.index(v) + 1) for v in cal_df[col]], "INTEGER")
        name_list = "([" + ", ".join("'" + v.replace("'", "''") + "'" for v in names) + "]::VARCHAR[])"
        macros.append(f"CREATE OR REPLACE TEMP MACRO dq_cal_{col}(d) AS {name_list}[{codes}[dq_cal_index(d)]];")
    return "\n".join(macros)
