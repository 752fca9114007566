-- One table's part of dq.quarantine in the lake's warehouse: the rows the partition steps
-- quarantined, with any cross-partition error rules of the combine step added to their rule ids.
SELECT q.* EXCLUDE (region, period) REPLACE (
           CASE WHEN e.rule_ids IS NULL THEN q.rule_ids
                ELSE list_sort(list_distinct(list_concat(q.rule_ids, e.rule_ids))) END AS rule_ids)
FROM read_parquet({quarantine_files}, hive_partitioning = true, union_by_name = true) q
LEFT JOIN (SELECT CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR) AS ref,
                  list(DISTINCT rule_id) AS rule_ids
           FROM dq.lake_cross_findings WHERE table_name = '{table}' AND severity = 'error'
           GROUP BY load_id, source_row) e
       ON e.ref = q.row_ref
