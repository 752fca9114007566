-- Findings of engine.evaluate (row_ref = load_id:source_row) into dq.lake_cross_findings.
INSERT INTO dq.lake_cross_findings
SELECT run_id, table_name, CAST(split_part(row_ref, ':', 1) AS BIGINT), CAST(split_part(row_ref, ':', 2) AS BIGINT),
       record_key, rule_id, family, dimension, severity, detail, $now
FROM _lake_found
