SELECT DISTINCT partition_key FROM raw.rejects WHERE partition_key IS NOT NULL
AND load_id IN (SELECT unnest($gone::BIGINT[]))
