-- Drill-down record lists of the complaint-based indicators, step 0: an empty work table for the keys of
-- the records each list shows (complaints_breakdown_focus_keys.sql fills it per indicator,
-- complaints_breakdown_focus.sql reads it once for all of them). Dropped by drop_work_tables.sql.
CREATE OR REPLACE TEMP TABLE ind_breakdown_focus_keys (
    indicator_id VARCHAR,
    unit         VARCHAR,
    n_focus      BIGINT,
    sort_on      DATE,
    sort_id      VARCHAR
);
