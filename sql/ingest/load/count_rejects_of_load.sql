SELECT count(*) FROM raw.rejects WHERE load_id = $id
