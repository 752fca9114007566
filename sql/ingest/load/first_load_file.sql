SELECT (SELECT file_name FROM raw.load_log WHERE load_id = $l), (SELECT count(*) FROM raw.{table} WHERE load_id = $l)
