-- Statutory deadlines in working days / calendar days (DuckDB), the SQL twin of
-- data_quality/deadlines.py:deadline_status. Installed by data_quality.deadlines.install_deadline_tables,
-- which first creates two TEMP tables from the Python sources of truth:
--   dq_workday_calendar(day, is_workday, workday_ordinal, covered, uncovered_cum,
--                       complaints_regulation, sampling_results_regulation)
--       reference.calendar.WorkdayCalendar.as_frame(): workday_ordinal = working days from 2004-01-01
--       up to and including day; covered = the day's year has holiday data; uncovered_cum = running
--       count of days in years without holiday data (a span touches such a year iff it changes);
--       *_regulation = the regulation in force on that day (so the version is a lookup by day).
--   dq_deadline_limits(regulation, effective_from, effective_to, limit_id, days, unit, table_name,
--       version_column, start_column, end_column, record_types, condition, basis, verified, note)
--       data_quality.deadlines.DEADLINES — the one version table (Order 20 / Order 121 / Order 18).
-- Days are looked up with the dq_cal_* macros (constant lists over the same calendar, made by
-- data_quality.deadlines.calendar_macros_sql), not joined: DuckDB cannot estimate a join on a
-- computed day and at 10M rows built hash tables of the whole relation (issue 12).
-- No deadline number is written in this file: limits come from dq_deadline_limits.
--
-- "N working days from X": working days after the day of X up to and including the day of the act
-- = ordinal(act) − ordinal(X) <= N. Calendar days: act − X <= N.
--
-- Output: one row per record and applicable limit (long form; rows a limit does not apply to are
-- absent, and so are rows dated outside the calendar's 2004–2035), with status on_time | overdue | open | open_overdue | unknown (same meaning as in Python).
-- as_of: the data cut-off date used for records without an end date (NULL: they stay 'open').

-- dq_deadline_limits with one row per record type (equi-join on record_type).
CREATE OR REPLACE TEMP TABLE dq_deadline_limits_by_type AS
    SELECT l.*, unnest(string_split(l.record_types, ',')) AS record_type
    FROM dq_deadline_limits l WHERE l.record_types IS NOT NULL;

CREATE OR REPLACE TEMP MACRO dq_deadline_status(start_ord, end_ord, end_given, backwards, elapsed, days, as_of) AS
    CASE
        WHEN start_ord IS NULL THEN 'unknown'                     -- no start date or outside 2004–2035
        WHEN NOT end_given AND as_of IS NULL THEN 'open'
        WHEN end_ord IS NULL THEN 'unknown'                       -- end outside the calendar's range
        WHEN backwards THEN 'unknown'                             -- end day before start day: chronology rule's job
        WHEN NOT end_given THEN CASE WHEN elapsed <= days THEN 'open' ELSE 'open_overdue' END
        WHEN elapsed <= days THEN 'on_time'
        ELSE 'overdue'
    END;

-- 12315 records: acceptance (投诉), mediation (投诉 accepted), report check 15 / 15+15 (举报).
-- The regulation version is chosen by the day the record was received. Every column of the input
-- passes through (so callers keep their own keys and row references), followed by
-- regulation, regulation_verified, limit_id, limit_days, unit, elapsed, status, calendar_covered.
CREATE OR REPLACE TEMP MACRO complaint_deadlines(tbl, as_of) AS TABLE
WITH r AS (
    SELECT *,
           CAST(received_at AS DATE) AS _received_d,
           CAST(accepted_at AS DATE) AS _accepted_d,
           CAST(closed_at AS DATE)   AS _closed_d
    FROM query_table(tbl)
), applicable AS (
    SELECT r.*, l.regulation, l.verified AS regulation_verified, l.limit_id, l.days AS limit_days, l.unit,
           CASE l.start_column WHEN 'received_at' THEN r._received_d WHEN 'accepted_at' THEN r._accepted_d END AS _start_d,
           CASE l.end_column   WHEN 'accepted_at' THEN r._accepted_d WHEN 'closed_at'   THEN r._closed_d   END AS _end_d
    FROM r
    JOIN dq_deadline_limits_by_type l                                -- the version in force that day
      ON l.table_name = 'complaints'
     AND l.regulation = dq_cal_complaints_regulation(r._received_d)
     AND l.record_type = r.record_type
    WHERE l.limit_id <> 'mediation' OR r.accept_decision = '受理'
), looked_up AS (
    SELECT a.*, coalesce(a._end_d, CAST(as_of AS DATE)) AS _until_d,
           dq_cal_workday_ordinal(a._start_d) AS _start_ord,
           dq_cal_workday_ordinal(coalesce(a._end_d, CAST(as_of AS DATE))) AS _end_ord
    FROM applicable a
), counted AS (
    SELECT a.*,
           a._until_d < a._start_d AS _backwards,
           CASE WHEN a.unit = 'working_days' THEN a._end_ord - a._start_ord
                ELSE datediff('day', a._start_d, a._until_d) END AS _elapsed_raw,
           -- a span touches a year without holiday data iff the running count of such days changes
           -- from the day before the start to the end (a day outside the calendar: ordinal NULL)
           CASE WHEN a.unit <> 'working_days' OR a._start_ord IS NULL OR a._end_ord IS NULL
                     OR a._until_d < a._start_d THEN TRUE  -- not counted
                ELSE dq_cal_uncovered_cum(a._until_d) - dq_cal_uncovered_cum(a._start_d)
                     + CASE WHEN dq_cal_covered(a._start_d) THEN 0 ELSE 1 END = 0 END AS calendar_covered
    FROM looked_up a
)
SELECT * EXCLUDE (_received_d, _accepted_d, _closed_d, _start_d, _end_d, _until_d, _start_ord, _end_ord, _backwards, _elapsed_raw, calendar_covered),
       CASE WHEN _start_ord IS NOT NULL AND _end_ord IS NOT NULL AND NOT _backwards THEN _elapsed_raw END AS elapsed,
       dq_deadline_status(_start_ord, _end_ord, _end_d IS NOT NULL, _backwards, _elapsed_raw, limit_days, as_of) AS status,
       calendar_covered
FROM counted;

-- Commodity sampling, Order No. 18: correction period set in the order, correction, re-inspection,
-- in calendar days from the result notice, for non-conforming (不合格) samples. Same output shape.
CREATE OR REPLACE TEMP MACRO sampling_deadlines(tbl, as_of) AS TABLE
WITH r AS (
    SELECT *,
           CAST(notified_on AS DATE) AS _notified_d, CAST(correction_due_on AS DATE) AS _due_d,
           CAST(corrected_on AS DATE) AS _corrected_d, CAST(reinspected_on AS DATE) AS _reinspected_d
    FROM query_table(tbl)
), applicable AS (
    SELECT r.*, l.regulation, l.verified AS regulation_verified, l.limit_id, l.days AS limit_days, l.unit,
           r._notified_d AS _start_d,
           CASE l.end_column WHEN 'correction_due_on' THEN r._due_d WHEN 'corrected_on' THEN r._corrected_d
                             WHEN 'reinspected_on' THEN r._reinspected_d END AS _end_d
    FROM r
    JOIN dq_deadline_limits l
      ON l.table_name = 'sampling_results'
     AND l.regulation = dq_cal_sampling_results_regulation(r._notified_d)
    WHERE r.result = '不合格'
), counted AS (
    SELECT a.*,
           dq_cal_workday_ordinal(a._start_d) AS _start_ord,
           dq_cal_workday_ordinal(coalesce(a._end_d, CAST(as_of AS DATE))) AS _end_ord,
           coalesce(a._end_d, CAST(as_of AS DATE)) < a._start_d AS _backwards,
           datediff('day', a._start_d, coalesce(a._end_d, CAST(as_of AS DATE))) AS _elapsed_raw
    FROM applicable a
)
SELECT * EXCLUDE (_notified_d, _due_d, _corrected_d, _reinspected_d, _start_d, _end_d, _start_ord, _end_ord, _backwards, _elapsed_raw),
       CASE WHEN _start_ord IS NOT NULL AND _end_ord IS NOT NULL AND NOT _backwards THEN _elapsed_raw END AS elapsed,
       dq_deadline_status(_start_ord, _end_ord, _end_d IS NOT NULL, _backwards, _elapsed_raw, limit_days, as_of) AS status,
       TRUE AS calendar_covered
FROM counted;
