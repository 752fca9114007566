SELECT partition_key, rule_id, count(*) FROM dq.rule_results
WHERE run_id = $run AND table_name = $table AND severity = 'error' GROUP BY ALL
