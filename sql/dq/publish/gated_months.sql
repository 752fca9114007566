-- the months of the partitions asked that the gate has judged, in any of the tables asked
SELECT DISTINCT partition_key
FROM dq.month_status
WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[])) AND table_name IN (SELECT unnest($tables::VARCHAR[]))
