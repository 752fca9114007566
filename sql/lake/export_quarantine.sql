SELECT * FROM dq.quarantine WHERE table_name = '{table}'
