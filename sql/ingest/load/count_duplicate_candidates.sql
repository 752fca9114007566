-- cheap first: keys only, no date parsing; most loads bring only new records
SELECT count(*) FROM raw.{table} r SEMI JOIN _batch b ON {batch_key_match}
WHERE r.load_id NOT IN (SELECT unnest($gone::BIGINT[]))
