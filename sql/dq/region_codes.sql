-- GB/T 2260 region codes valid at a record's date (DuckDB; run by
-- data_quality.codes.install_region_tables after it has created the TEMP table
-- dq_region_code_year_status(dq_code, dq_year, dq_status) from reference/admin_divisions_history).
--
-- The dense (code, year) table turns "valid at date" into an equi-join, which DuckDB (and any
-- other SQL engine) runs as a hash join; the Python function data_quality.codes.region_code_status
-- reads the same table, so both paths give the same answer.
-- Years are clipped to the table's range 1981–2035: before 1981 there is no list, after 2035
-- nothing is planned.
--
-- The reference columns carry a dq_ prefix because macros expand textually: an argument like
-- make_date(year, 12, 31) must not bind to a column of the reference table.
--
-- Result: 'valid' | 'unknown' | 'abolished' | 'not_yet_created'; NULL when code or date is NULL.

CREATE OR REPLACE TEMP MACRO region_code_status(c, d) AS
    CASE
        WHEN c IS NULL OR d IS NULL THEN NULL
        ELSE coalesce(
            (SELECT r.dq_status FROM dq_region_code_year_status r
             WHERE r.dq_code = c AND r.dq_year = least(greatest(year(d), 1981), 2035)),
            'unknown')
    END;

-- A code of any year (USCC positions 3–8: a code issued in 2010 keeps its region digits after the
-- county is abolished, so the record date does not apply; 100000 = registered nationally).
CREATE OR REPLACE TEMP MACRO region_code_ever_valid(c) AS
    CASE
        WHEN c IS NULL THEN NULL
        WHEN c = '100000' THEN TRUE
        ELSE EXISTS (SELECT 1 FROM dq_region_code_year_status r WHERE r.dq_code = c)
    END;
