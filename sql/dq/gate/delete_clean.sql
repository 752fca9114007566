DELETE FROM clean.{table} WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[]))
