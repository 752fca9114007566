-- a row hit by an error rule, once, with the ids of every error rule it hit
INSERT INTO dq.quarantine
SELECT $run, $table, r.partition_key, any_value(f.record_key), r.row_ref, any_value(r.source_file),
       any_value(r.source_row), any_value(r."{unit}"), list_sort(list(DISTINCT f.rule_id)),
       any_value(to_json(r)), $now
FROM _dq_found f JOIN _dq_rows r USING (row_ref)
WHERE f.severity = 'error'
GROUP BY r.partition_key, r.row_ref
