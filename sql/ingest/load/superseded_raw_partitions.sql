SELECT DISTINCT partition_key FROM raw.{table} WHERE load_id IN (SELECT unnest($gone::BIGINT[]))
