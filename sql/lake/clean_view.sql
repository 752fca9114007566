-- clean.<table> in the lake's warehouse: the partition steps' clean rows (row rules judged there),
-- less the rows a cross-partition error rule hit in the combine step's second pass over the whole
-- lake, with that pass's warn rules added to dq_flags (sorted and distinct, NULL when none: what
-- data_quality.gate writes when it judges every rule at once).
CREATE OR REPLACE VIEW clean.{table} AS
SELECT c.* EXCLUDE (region, period) REPLACE (
           CASE WHEN w.flags IS NULL THEN c.dq_flags
                ELSE list_sort(list_distinct(list_concat(coalesce(c.dq_flags, []), w.flags))) END AS dq_flags)
FROM read_parquet({files}, hive_partitioning = true, union_by_name = true) c
LEFT JOIN (SELECT load_id, source_row, list(DISTINCT rule_id) AS flags
           FROM dq.lake_cross_findings
           WHERE table_name = '{table}' AND severity = 'warn'
           GROUP BY load_id, source_row) w
       ON w.load_id = c.load_id AND w.source_row = c.source_row
WHERE NOT EXISTS (SELECT 1 FROM dq.lake_cross_findings e
                  WHERE e.table_name = '{table}' AND e.severity = 'error'
                    AND e.load_id = c.load_id AND e.source_row = c.source_row)
