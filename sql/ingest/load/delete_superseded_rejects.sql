DELETE FROM raw.rejects WHERE load_id IN (SELECT unnest($gone::BIGINT[]))
