-- One table's part of dq.rule_results in the lake's warehouse: the combine step's cross-partition
-- findings, placed on their staging rows.
SELECT e.run_id, '{table}' AS table_name, s.partition_key, e.record_key,
       CAST(e.load_id AS VARCHAR) || ':' || CAST(e.source_row AS VARCHAR) AS row_ref, s.source_file,
       s.source_row, s."{unit}" AS unit_id, e.rule_id, e.family, e.dimension, e.severity,
       pii_mask_numbers(e.detail) AS detail, e.checked_at
FROM dq.lake_cross_findings e
JOIN staging.{table} s ON s.load_id = e.load_id AND s.source_row = e.source_row
WHERE e.table_name = '{table}'
