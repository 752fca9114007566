DELETE FROM staging.{table} WHERE load_id IN (SELECT unnest($gone::BIGINT[]))
