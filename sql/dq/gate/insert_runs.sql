-- per partition, counted from what was written: staged = clean + quarantined is checked after
INSERT INTO dq.runs
SELECT $run, $table, p.partition_key,
       (SELECT count(*) FROM _dq_rows r WHERE r.partition_key = p.partition_key),
       (SELECT count(*) FROM clean.{table} c WHERE c.partition_key = p.partition_key),
       (SELECT count(*) FROM dq.quarantine q WHERE q.table_name = $table AND q.partition_key = p.partition_key),
       (SELECT count(DISTINCT row_ref) FROM dq.rule_results v WHERE v.table_name = $table
            AND v.partition_key = p.partition_key AND v.severity = 'warn'),
       (SELECT count(*) FROM dq.rule_results v WHERE v.table_name = $table AND v.partition_key = p.partition_key),
       $now
FROM (SELECT unnest($partitions::VARCHAR[]) AS partition_key) p
