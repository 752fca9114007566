DELETE FROM raw.rejects WHERE table_name = $t AND stage = 'type' AND partition_key IN (SELECT unnest($p::VARCHAR[]))
