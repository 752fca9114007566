-- 12315热线话务统计 raw.hotline_stats -> typed rows
-- Reads _staging_source (ingestion.loader.build_staging): raw.hotline_stats rows of the partitions being staged.
-- _bad_values lists field=value for every non-empty delivered value that did not parse; such rows
-- become rejects (see complaints.sql).
WITH typed AS (
SELECT
    cei_code(unit_id)               AS unit_id,
    cei_code(region_code)           AS region_code,
    cei_month(month)                AS month,
    cei_int(calls_offered)          AS calls_offered,
    cei_int(calls_answered_first)   AS calls_answered_first,
    cei_int(calls_answered)         AS calls_answered,
    load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at,
    month AS _raw_month,
    calls_offered AS _raw_calls_offered,
    calls_answered_first AS _raw_calls_answered_first,
    calls_answered AS _raw_calls_answered
FROM _staging_source
)
SELECT * EXCLUDE (_raw_month, _raw_calls_offered, _raw_calls_answered_first, _raw_calls_answered),
    list_filter([
        CASE WHEN cei_text(_raw_month) IS NOT NULL AND month IS NULL THEN 'month=' || _raw_month END,
        CASE WHEN cei_text(_raw_calls_offered) IS NOT NULL AND calls_offered IS NULL THEN 'calls_offered=' || _raw_calls_offered END,
        CASE WHEN cei_text(_raw_calls_answered_first) IS NOT NULL AND calls_answered_first IS NULL THEN 'calls_answered_first=' || _raw_calls_answered_first END,
        CASE WHEN cei_text(_raw_calls_answered) IS NOT NULL AND calls_answered IS NULL THEN 'calls_answered=' || _raw_calls_answered END
    ], lambda f: f IS NOT NULL) AS _bad_values
FROM typed
