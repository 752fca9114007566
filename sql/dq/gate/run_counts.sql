SELECT partition_key, rows_staged, rows_clean, rows_quarantined, rows_flagged, violations
FROM dq.runs WHERE run_id = $run AND table_name = $table ORDER BY 1
