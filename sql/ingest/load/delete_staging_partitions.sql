DELETE FROM staging.{table} WHERE partition_key IN (SELECT unnest($p::VARCHAR[]))
