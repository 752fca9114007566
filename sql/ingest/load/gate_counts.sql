SELECT (SELECT count(*) FROM clean.{table}),
       (SELECT count(*) FROM dq.quarantine WHERE table_name = $t)
