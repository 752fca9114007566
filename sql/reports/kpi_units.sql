-- KPI scorecard: the units the counts are attributed to are the report's bureaus. Replaces the
-- temp table ind_region_units (region_code -> unit_code) that sql/indicators/complaints_records.sql
-- and profile_rows.sql join, with the report's unit map (reports/scope.py, registered as the view
-- report_unit_map): the same units as the index plus the scope's own bureau (省本级 / 市本级), which
-- handles records too and is graded like any other bureau. Run after indicators'
-- install_reference_tables (which builds calendar_days) and before those two files.
CREATE OR REPLACE TEMP TABLE ind_region_units AS
SELECT CAST(region_code AS VARCHAR) AS region_code,
       CAST(unit_code AS VARCHAR) AS unit_code
FROM report_unit_map;
