DELETE FROM raw.{table} WHERE load_id IN (SELECT unnest($gone::BIGINT[]))
