INSERT INTO dq.rule_results
SELECT $run, $table, r.partition_key, f.record_key, f.row_ref, r.source_file, r.source_row, r."{unit}",
       -- a detail quotes values: personal numbers in them (a phone in a wrong column) are masked
       f.rule_id, f.family, f.dimension, f.severity, pii_mask_numbers(f.detail), $now
FROM _dq_found f JOIN _dq_rows r USING (row_ref)
