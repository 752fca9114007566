SELECT DISTINCT partition_key FROM staging.{table} ORDER BY 1
