SELECT * FROM staging.{table}
