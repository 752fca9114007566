-- {target}'s rows (dq.quarantine or dq.rule_results) of these partitions whose staging row is gone
DELETE FROM {target} WHERE table_name = $table AND partition_key IN (SELECT unnest($partitions::VARCHAR[]))
    AND row_ref NOT IN (SELECT CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR) FROM staging.{table}
                        WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[])))
