SELECT source_row, fields, reason FROM raw.rejects WHERE load_id = $id ORDER BY source_row LIMIT 5
