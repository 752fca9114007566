-- the checks of the last gate of the months and tables asked (data_quality.publishability.read_states)
SELECT table_name, partition_key, check_name, value, threshold
FROM dq.month_checks
WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[])) AND table_name IN (SELECT unnest($tables::VARCHAR[]))
ORDER BY check_name
