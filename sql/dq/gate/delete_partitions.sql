-- what an earlier gate run wrote for these partitions into {target} (a dq table with table_name)
DELETE FROM {target} WHERE table_name = $table AND partition_key IN (SELECT unnest($partitions::VARCHAR[]))
