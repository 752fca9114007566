SELECT count(*) FROM staging.{table} WHERE load_id = $id
