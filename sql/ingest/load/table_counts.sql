SELECT (SELECT count(*) FROM raw.{table}), (SELECT count(*) FROM staging.{table}),
       (SELECT count(*) FROM raw.rejects WHERE table_name = $t)
