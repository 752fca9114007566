SELECT * FROM raw.rejects WHERE table_name = '{table}'
