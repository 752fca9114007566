-- One table's part of dq.quarantine in the lake's warehouse: the rows the partition steps passed that
-- a cross-partition error rule of the combine step sends here (whole, as JSON of the staging row, as
-- data_quality.gate keeps them).
SELECT any_value(e.run_id) AS run_id, '{table}' AS table_name, any_value(r.partition_key) AS partition_key,
       any_value(e.record_key) AS record_key, r.row_ref, any_value(r.source_file) AS source_file,
       any_value(r.source_row) AS source_row, any_value(r."{unit}") AS unit_id,
       list_sort(list(DISTINCT e.rule_id)) AS rule_ids, any_value(to_json(r)) AS row_data,
       any_value(e.checked_at) AS quarantined_at
FROM (SELECT CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR) AS row_ref,
             * EXCLUDE (region, period, dq_flags)
      FROM read_parquet({clean_files}, hive_partitioning = true, union_by_name = true)) r
JOIN dq.lake_cross_findings e
  ON e.table_name = '{table}' AND e.severity = 'error' AND e.load_id = r.load_id AND e.source_row = r.source_row
GROUP BY r.row_ref
